// Content checksums of paths inside a snapshot, for cache keys.
//
// The checksum of a path covers, for the path and every entry below it (in
// Walk order, names relative to the path): name, type, permission and
// set-id/sticky bits, uid, gid, and for files the size and sha256 of the
// content, for symlinks the target, for devices the major/minor numbers, and
// optionally the xattrs. It never depends on times or inode numbers, so a
// touched or re-extracted file checksums the same. Stateless; thread-safe.
#ifndef KILN_GATEWAY_FSUTIL_CHECKSUM_H_
#define KILN_GATEWAY_FSUTIL_CHECKSUM_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::fsutil {

struct ChecksumOptions {
  bool follow_symlinks = false;               // a symlink `path` is checksummed as its target
  bool wildcard = false;                      // `path` may hold globs: checksum all matches
  std::vector<std::string> include_patterns;  // relative to `path`, as in COPY
  std::vector<std::string> exclude_patterns;
  bool include_xattrs = false;
};

// "sha256:<hex>" of `path` resolved inside `root` (see ResolveInRoot). With
// `wildcard`, the matches (see ResolveWildcards) are each checksummed and
// combined with their paths. Errors: a missing path, or a glob without
// matches, is NotFound naming it; bad patterns InvalidArgument; system
// errors as ErrnoToStatus.
absl::StatusOr<std::string> Checksum(const std::string& root, std::string_view path,
                                     const ChecksumOptions& opt);

}  // namespace kiln::fsutil

#endif  // KILN_GATEWAY_FSUTIL_CHECKSUM_H_
