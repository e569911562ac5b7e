// Small filesystem helpers private to the cache package.
#ifndef KILN_GATEWAY_CACHE_FS_H_
#define KILN_GATEWAY_CACHE_FS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kiln::cache_internal {

// Removes `path` recursively without crossing into other mounts. A missing
// path is OK.
absl::Status RemoveAll(const std::string& path);
// True when `path` is a directory with no entries (or does not exist).
bool IsEmptyDir(const std::string& path);
// mkdir -p (fsutil::MkdirAll without owner or times).
absl::Status MakeDirs(const std::string& path, int mode = 0755);
// Disk usage in bytes (allocated blocks) of a tree, not crossing mounts.
int64_t DiskUsage(const std::string& path);
// 16 random hex characters.
std::string NewId();
// Mount points at or below `prefix`, deepest first (from /proc/self/mountinfo).
std::vector<std::string> MountsUnder(const std::string& prefix);
// Unmounts `path`, lazily if it is busy.
absl::Status Unmount(const std::string& path);

}  // namespace kiln::cache_internal

#endif  // KILN_GATEWAY_CACHE_FS_H_
