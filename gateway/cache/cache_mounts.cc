#include "gateway/cache/cache_mounts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gateway/cache/fs.h"
#include "gateway/fsutil/errors.h"
#include "sdk/base/digest.h"
#include "sdk/base/status_macros.h"

namespace kiln::cache {
namespace {

// Creates `path` unless it exists; true when this call created it.
absl::StatusOr<bool> CreateDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) == 0) return true;
  if (errno == EEXIST) return false;
  return fsutil::ErrnoToStatus(errno, "mkdir", path);
}

}  // namespace

CacheMountLease::~CacheMountLease() {
  if (lock_fd_ >= 0) close(lock_fd_);  // releases the flock
}

absl::StatusOr<std::unique_ptr<CacheMountLease>> CacheMounts::Acquire(const std::string& id,
                                                                      pb::CacheSharingOpt sharing) {
  std::string base = absl::StrCat(dir_, "/", Sha256Hex(id));
  KILN_RETURN_IF_ERROR(cache_internal::MakeDirs(base, 0700));
  for (int n = 0;; ++n) {
    std::string instance = absl::StrCat(base, "/", n);
    std::string lock = instance + ".lock";
    int fd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return fsutil::ErrnoToStatus(errno, "open", lock);
    int how = sharing == pb::SHARED ? LOCK_SH : LOCK_EX;
    if (sharing == pb::PRIVATE) how |= LOCK_NB;  // busy: try the next instance
    if (flock(fd, how) != 0) {
      int err = errno;
      close(fd);
      if (sharing == pb::PRIVATE && err == EWOULDBLOCK) continue;
      return fsutil::ErrnoToStatus(err, "lock", lock);
    }
    absl::StatusOr<bool> fresh = CreateDir(instance);
    if (!fresh.ok()) {
      close(fd);
      return fresh.status();
    }
    return std::make_unique<CacheMountLease>(instance, fd, *fresh);
  }
}

absl::StatusOr<int> CacheMounts::RemoveSurplus() {
  int removed = 0;
  DIR* ids = opendir(dir_.c_str());
  if (ids == nullptr) {
    if (errno == ENOENT) return 0;
    return fsutil::ErrnoToStatus(errno, "opendir", dir_);
  }
  std::vector<std::string> surplus;
  while (struct dirent* id = readdir(ids)) {
    std::string name = id->d_name;
    if (name == "." || name == "..") continue;
    std::string base = absl::StrCat(dir_, "/", name);
    DIR* instances = opendir(base.c_str());
    if (instances == nullptr) continue;
    while (struct dirent* in = readdir(instances)) {
      int n = 0;
      if (absl::SimpleAtoi(in->d_name, &n) && n > 0) surplus.push_back(absl::StrCat(base, "/", n));
    }
    closedir(instances);
  }
  closedir(ids);
  for (const std::string& instance : surplus) {
    std::string lock = instance + ".lock";
    int fd = open(lock.c_str(), O_RDWR | O_CLOEXEC);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {  // in use
      close(fd);
      continue;
    }
    absl::Status st = cache_internal::RemoveAll(instance);
    if (st.ok()) unlink(lock.c_str());
    if (fd >= 0) close(fd);
    KILN_RETURN_IF_ERROR(st);
    ++removed;
  }
  return removed;
}

absl::Status CacheMounts::RemoveAll() {
  KILN_RETURN_IF_ERROR(cache_internal::RemoveAll(dir_));
  return cache_internal::MakeDirs(dir_, 0700);
}

}  // namespace kiln::cache
