// Lexical path helpers and symlink-safe resolution of paths inside a root.
//
// Build steps see a snapshot directory as "/". ResolveInRoot walks a path the
// way the kernel would inside a chroot at that directory: symlinks are
// followed, absolute link targets restart at the root and ".." never climbs
// above it, so a hostile symlink in an image cannot make the engine touch a
// host file (the behaviour of containerd's continuity fs.RootPath, which
// BuildKit uses). All functions are pure or only lstat/readlink; thread-safe.
#ifndef KILN_GATEWAY_FSUTIL_PATH_H_
#define KILN_GATEWAY_FSUTIL_PATH_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "sdk/base/path.h"

namespace kiln::fsutil {

// Go's path.Clean (sdk/base/path.h).
using ::kiln::CleanPath;

// True when the relative path `rel` climbs above its starting directory
// lexically ("..", "../x", "a/../../x"). Absolute paths never escape: they are
// taken relative to the root.
bool EscapesRoot(std::string_view rel);

// `a` + "/" + `b` without doubling slashes; no cleaning. Either may be empty.
std::string JoinPath(std::string_view a, std::string_view b);

// `p` made absolute against the working directory ("." is the directory
// itself); `p` as it is when the working directory cannot be read.
std::string AbsPath(const std::string& p);

// Resolves `path` (absolute or relative, both meaning "from the root") inside
// the directory `root` and returns the host path `root` + "/" + resolved
// (just `root` for "/"). Every existing symlink component is followed, the
// last one only when `follow_last`. Components that do not exist are kept
// as-is, so the result may name something not yet created. ".." in the input
// is applied lexically before resolution, as BuildKit does.
// Errors: InvalidArgument after 255 symlinks ("too many links"); a system
// error from lstat/readlink other than ENOENT/ENOTDIR, as ErrnoToStatus.
absl::StatusOr<std::string> ResolveInRoot(const std::string& root, std::string_view path,
                                          bool follow_last);

// Like ResolveInRoot but returns the resolved path relative to the root in
// clean absolute form ("/a/b", "/" for the root itself).
absl::StatusOr<std::string> ResolveInRootRel(const std::string& root, std::string_view path,
                                             bool follow_last);

}  // namespace kiln::fsutil

#endif  // KILN_GATEWAY_FSUTIL_PATH_H_
