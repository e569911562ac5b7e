// Creating and removing directory trees on the host filesystem.
//
// These are the building blocks the file actions and CopyTree share. They
// take host paths that callers have already resolved with ResolveInRoot.
// Modes are applied explicitly with chmod, so the process umask never
// matters. Stateless; thread-safe as far as the filesystem allows.
#ifndef KILN_GATEWAY_FSUTIL_TREE_H_
#define KILN_GATEWAY_FSUTIL_TREE_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kiln::fsutil {

// Numeric owner of a file.
struct Ownership {
  uint32_t uid = 0;
  uint32_t gid = 0;
  bool operator==(const Ownership& o) const { return uid == o.uid && gid == o.gid; }
};

// Creates `path` and any missing parents, each with mode `perm` (exactly,
// regardless of umask), owned by `owner` when given and with atime = mtime =
// `mtime_ns` when given (set once all are created, so parents keep it).
// Returns the directories it created, outermost first.
// An existing directory (or symlink to one) is fine. Errors: a non-directory
// in the way is FailedPrecondition ("mkdir PATH: Not a directory"); other
// system errors as ErrnoToStatus.
absl::StatusOr<std::vector<std::string>> MkdirAll(const std::string& path, mode_t perm,
                                                  const std::optional<Ownership>& owner,
                                                  std::optional<int64_t> mtime_ns);

// Removes `path` and everything below it, never following symlinks. A
// missing path is OK. Errors: system errors as ErrnoToStatus.
absl::Status RemoveAll(const std::string& path);

// Writes all of `data` to `fd` (retrying short writes and EINTR). Errors as
// ErrnoToStatus("write", `path`), `path` naming what `fd` is.
absl::Status WriteAll(int fd, std::string_view data, const std::string& path);

// Sets atime and mtime of `path` (not following a final symlink).
absl::Status SetTimes(const std::string& path, int64_t atime_ns, int64_t mtime_ns);

}  // namespace kiln::fsutil

#endif  // KILN_GATEWAY_FSUTIL_TREE_H_
