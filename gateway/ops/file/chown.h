// Owner resolution for file actions (LLB ChownOpt), as BuildKit's file op
// does it: a user or group given by ID is used directly (a user ID alone
// also sets the group to the same number); one given by name is looked up in
// /etc/passwd or /etc/group of the input it names, read inside that input's
// root with symlinks confined to it. Stateless; thread-safe.
#ifndef KILN_GATEWAY_OPS_FILE_CHOWN_H_
#define KILN_GATEWAY_OPS_FILE_CHOWN_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/fsutil/tree.h"
#include "proto/llb/ops.pb.h"

namespace kiln::ops {

using Ownership = fsutil::Ownership;

// Maps an input index of NamedUserOpt.input to the host directory holding
// that input's filesystem.
using InputRootFn = std::function<absl::StatusOr<std::string>(int64_t input)>;

// The numeric owner `opt` asks for, or nullopt when `opt` is null (keep the
// source's owner / the default). A present ChownOpt with neither user nor
// group means 0:0, as in BuildKit. Names are looked up in the root given by
// `root_of_input(input)`, or in `dest_root` when input is -1.
// Errors: an unknown name is InvalidArgument "unknown user NAME in
// /etc/passwd" (or group, /etc/group), also when the file is missing; an
// input below -1 is InvalidArgument; a passwd/group file that is not a
// regular file or exceeds 10 MiB is InvalidArgument; errors of
// `root_of_input` are returned as they are.
absl::StatusOr<std::optional<Ownership>> ResolveChown(const pb::ChownOpt* opt,
                                                      const InputRootFn& root_of_input,
                                                      const std::string& dest_root);

}  // namespace kiln::ops

#endif  // KILN_GATEWAY_OPS_FILE_CHOWN_H_
