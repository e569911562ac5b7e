#include "gateway/ops/exec/internal/rootfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/path.h"
#include "sdk/base/status_macros.h"

namespace kiln::exec_internal {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

bool IsEmpty(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return false;
  if (!S_ISDIR(st.st_mode)) return S_ISREG(st.st_mode) && st.st_size == 0;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return false;
  bool empty = true;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

}  // namespace

absl::StatusOr<MountStubs> MountStubs::Record(const std::string& rootfs,
                                              const std::vector<std::string>& dests) {
  std::set<std::string> missing;
  for (const std::string& dest : dests) {
    if (fsutil::CleanPath("/" + dest) == "/") continue;
    KILN_ASSIGN_OR_RETURN(std::string path, fsutil::ResolveInRoot(rootfs, dest, true));
    while (path.size() > rootfs.size() && !Exists(path)) {
      missing.insert(path);
      path = Parent(path);
    }
  }
  MountStubs stubs;
  stubs.paths_.assign(missing.begin(), missing.end());
  // Longer paths first puts every child before its parent.
  std::stable_sort(stubs.paths_.begin(), stubs.paths_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return stubs;
}

void MountStubs::Remove() const {
  for (const std::string& path : paths_) {
    if (!IsEmpty(path)) continue;
    // Keep the parent's times so that a build stays reproducible (BuildKit
    // issue 3148).
    std::string parent = Parent(path);
    struct stat st;
    bool have_times = ::stat(parent.c_str(), &st) == 0;
    struct stat self;
    if (::lstat(path.c_str(), &self) != 0) continue;
    int rc = S_ISDIR(self.st_mode) ? ::rmdir(path.c_str()) : ::unlink(path.c_str());
    if (rc != 0 || !have_times) continue;
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    ::utimensat(AT_FDCWD, parent.c_str(), times, 0);
  }
}

absl::Status MakeWorkingDir(const std::string& rootfs, const std::string& cwd, uint32_t uid,
                            uint32_t gid) {
  KILN_ASSIGN_OR_RETURN(std::string path, fsutil::ResolveInRoot(rootfs, cwd, true));
  std::vector<std::string> create;
  for (std::string p = path; p.size() > rootfs.size() && !Exists(p); p = Parent(p)) {
    create.push_back(p);
  }
  for (auto it = create.rbegin(); it != create.rend(); ++it) {
    if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST) {
      if (errno == ENOTDIR) {
        return absl::InvalidArgumentError(
            absl::StrCat("working directory ", cwd, ": a component is not a directory"));
      }
      return fsutil::ErrnoToStatus(errno, "mkdir", *it);
    }
    if (::lchown(it->c_str(), uid, gid) != 0) return fsutil::ErrnoToStatus(errno, "chown", *it);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return fsutil::ErrnoToStatus(errno, "stat", path);
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("working directory ", cwd, " is not a directory"));
  }
  return absl::OkStatus();
}

}  // namespace kiln::exec_internal
