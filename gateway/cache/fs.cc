#include "gateway/cache/fs.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string_view>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/tree.h"

namespace kiln::cache_internal {

absl::Status RemoveAll(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? absl::OkStatus() : fsutil::ErrnoToStatus(errno, "stat", path);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path.c_str()) != 0 && errno != ENOENT)
      return fsutil::ErrnoToStatus(errno, "remove", path);
    return absl::OkStatus();
  }
  int rc = nftw(
      path.c_str(),
      [](const char* p, const struct stat* s, int type, struct FTW*) -> int {
        int r = (type == FTW_DP) ? rmdir(p) : unlink(p);
        return (r != 0 && errno != ENOENT) ? -1 : 0;
      },
      64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
  if (rc != 0) return fsutil::ErrnoToStatus(errno, "remove", path);
  return absl::OkStatus();
}

bool IsEmptyDir(const std::string& path) {
  DIR* d = opendir(path.c_str());
  if (d == nullptr) return true;
  bool empty = true;
  while (struct dirent* e = readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") {
      empty = false;
      break;
    }
  }
  closedir(d);
  return empty;
}

absl::Status MakeDirs(const std::string& path, int mode) {
  return fsutil::MkdirAll(path, static_cast<mode_t>(mode), std::nullopt, std::nullopt).status();
}

namespace {
thread_local int64_t du_total;
}

int64_t DiskUsage(const std::string& path) {
  du_total = 0;
  nftw(
      path.c_str(),
      [](const char*, const struct stat* s, int, struct FTW*) -> int {
        du_total += static_cast<int64_t>(s->st_blocks) * 512;
        return 0;
      },
      64, FTW_PHYS | FTW_MOUNT);
  return du_total;
}

std::string NewId() {
  static absl::BitGen* gen = new absl::BitGen();
  static absl::Mutex mu;
  absl::MutexLock lock(&mu);
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(*gen));
}

std::vector<std::string> MountsUnder(const std::string& prefix) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, parent, devs, root, point;
    fields >> id >> parent >> devs >> root >> point;
    if (point == prefix || point.rfind(prefix + "/", 0) == 0) out.push_back(point);
  }
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

absl::Status Unmount(const std::string& path) {
  if (umount2(path.c_str(), 0) == 0) return absl::OkStatus();
  if (errno == EBUSY && umount2(path.c_str(), MNT_DETACH) == 0) return absl::OkStatus();
  if (errno == EINVAL || errno == ENOENT) return absl::OkStatus();  // not mounted
  return fsutil::ErrnoToStatus(errno, "unmount", path);
}

}  // namespace kiln::cache_internal
