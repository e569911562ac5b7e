// Marshal: turns the graph behind a State into a pb::Definition, the bytes a
// frontend hands to a solver (`kiln build --llb -`, BuildKit's Solve).
//
//   KILN_ASSIGN_OR_RETURN(pb::Definition def, llb::Marshal(state));
//   KILN_ASSIGN_OR_RETURN(std::string bytes, llb::SerializeDeterministic(def));
//
// The Definition follows BuildKit's Go client (client/llb): every op is
// serialized deterministically and named by "sha256:<hex>" of its bytes;
// ops appear dependencies first (depth-first, inputs in BuildKit's order);
// identical ops appear once; the last entry is a terminal op with a single
// input pointing at the target and no body; Definition.metadata holds each
// op's OpMetadata (name, cache policy, the capabilities it needs) and the
// terminal's ("constraints", "platform", ...). The same graph gives the same
// bytes in every run and process on the same host platform.
//
// Marshal is a pure function of its arguments; it may run concurrently on
// states that share nodes.
#ifndef KILN_SDK_LLB_MARSHAL_H_
#define KILN_SDK_LLB_MARSHAL_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/message_lite.h"
#include "proto/llb/ops.pb.h"
#include "sdk/llb/platform.h"
#include "sdk/llb/state.h"

namespace kiln::llb {

struct MarshalOptions {
  // Platform of image and exec ops whose state names none. Default: the
  // host's (Platform::Host()), as in Go's llb.
  std::optional<Platform> platform;
  // Written as "local.unique" on Local sources that have no unique_id or
  // session of their own. Go's llb puts a random id there on every Marshal;
  // kiln leaves it out unless given, so that output is reproducible.
  std::string local_unique_id;
};

// The Definition for `target`. Scratch() gives an empty Definition (no ops),
// as in Go's llb. InvalidArgument with the first problem found in the graph
// (dependencies are checked before the ops that use them), or when an op is
// over protobuf's 2 GiB limit.
absl::StatusOr<pb::Definition> Marshal(const State& target, const MarshalOptions& options = {});

// `message` in protobuf's deterministic encoding (map entries sorted by
// key). InvalidArgument when the message is over protobuf's 2 GiB limit.
absl::StatusOr<std::string> SerializeDeterministic(const google::protobuf::MessageLite& message);

}  // namespace kiln::llb

#endif  // KILN_SDK_LLB_MARSHAL_H_
