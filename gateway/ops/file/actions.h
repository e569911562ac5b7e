// BuildKit's FileOp actions (mkdir, mkfile, rm, symlink, copy) applied to
// plain directories, with the semantics of moby/buildkit
// solver/llbsolver/file/backend.go and tonistiigi/fsutil/copy.
//
// Each function performs one action. `root` (and `src_root`/`dest_root`) is
// the host directory the action sees as "/"; every action path is resolved
// inside it with symlinks confined to it (fsutil::ResolveInRoot). The caller
// owns snapshots, mounts and the chaining of actions, and resolves owners
// with ResolveChown. Timestamps are unix nanoseconds, -1 meaning "not set".
// Error messages name action paths (relative to the root), never host paths.
// Stateless; thread-safe as far as the filesystem allows.
#ifndef KILN_GATEWAY_OPS_FILE_ACTIONS_H_
#define KILN_GATEWAY_OPS_FILE_ACTIONS_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "gateway/ops/file/chown.h"
#include "proto/llb/ops.pb.h"

namespace kiln::ops {

// Creates a.path with mode a.mode & 0777 (exactly; no umask), owned by
// `owner` when given. With makeParents, missing parents are created the same
// way and an existing directory is fine; without it an existing entry of any
// type is silently accepted (as BuildKit does) and a missing parent is
// NotFound. Errors: a non-directory in the way of makeParents is
// FailedPrecondition; system errors via fsutil::ErrnoToStatus.
absl::Status ApplyMkdir(const std::string& root, const pb::FileActionMkDir& a,
                        const std::optional<Ownership>& owner);

// Writes a.data to a.path. A new file gets mode a.mode & 0777; an existing
// one is truncated and keeps its mode (os.WriteFile semantics). Errors: a
// missing parent is NotFound; a directory at the path is FailedPrecondition.
absl::Status ApplyMkfile(const std::string& root, const pb::FileActionMkFile& a,
                         const std::optional<Ownership>& owner);

// Removes a.path recursively (a symlink itself, never its target). With
// allowWildcard the path may be a glob and every match is removed; no match
// is fine. Errors: a missing path without allowNotFound is NotFound naming
// it; "/" is InvalidArgument; with a glob, a missing directory before the
// first wildcard is NotFound (even with allowNotFound, as in BuildKit).
absl::Status ApplyRm(const std::string& root, const pb::FileActionRm& a);

// Creates the symlink a.newpath -> a.oldpath (target stored verbatim).
// Errors: an existing entry is AlreadyExists; a missing parent NotFound.
absl::Status ApplySymlink(const std::string& root, const pb::FileActionSymlink& a,
                          const std::optional<Ownership>& owner);

// Copies a.src of `src_root` to a.dest of `dest_root` (see the .cc for the
// exact placement rules: a dest ending in "/" or an existing directory
// receives the source inside it; dirCopyContents copies a directory's
// contents; existing directories merge). Errors: a source that lexically
// leaves its root ("../x") is InvalidArgument "copy source ../x is outside the
// build context"; a missing source NotFound naming it (no glob match too,
// unless allowEmptyWildcard); a missing destination parent without
// createDestPath NotFound; bad patterns or modeStr InvalidArgument; type
// conflicts FailedPrecondition.
absl::Status ApplyCopy(const std::string& src_root, const std::string& dest_root,
                       const pb::FileActionCopy& a, const std::optional<Ownership>& owner);

}  // namespace kiln::ops

#endif  // KILN_GATEWAY_OPS_FILE_ACTIONS_H_
