#include "gateway/fsutil/tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/internal/sys.h"
#include "gateway/fsutil/path.h"

namespace kiln::fsutil {
namespace {

using fsutil_internal::ListDir;
using fsutil_internal::UniqueFd;

// Empties the directory `name` inside `parent_fd`, then removes it.
absl::Status RemoveDirAt(int parent_fd, const std::string& name, const std::string& path) {
  UniqueFd fd(openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoToStatus(errno, "open", path);
  }
  auto names = ListDir(fd.get(), path);
  if (!names.ok()) return names.status();
  for (const std::string& child : *names) {
    if (unlinkat(fd.get(), child.c_str(), 0) == 0 || errno == ENOENT) continue;
    if (errno != EISDIR) return ErrnoToStatus(errno, "unlink", JoinPath(path, child));
    absl::Status s = RemoveDirAt(fd.get(), child, JoinPath(path, child));
    if (!s.ok()) return s;
  }
  if (unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return ErrnoToStatus(errno, "rmdir", path);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> MkdirAllImpl(const std::string& path, mode_t perm,
                                                      const std::optional<Ownership>& owner) {
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return std::vector<std::string>();
    return ErrnoToStatus(ENOTDIR, "mkdir", path);
  }
  size_t end = path.size();
  while (end > 1 && path[end - 1] == '/') --end;
  size_t slash = path.rfind('/', end - 1);
  std::vector<std::string> created;
  if (slash != std::string::npos && slash > 0) {
    auto parents = MkdirAllImpl(path.substr(0, slash), perm, owner);
    if (!parents.ok()) return parents.status();
    created = *std::move(parents);
  }
  if (mkdir(path.c_str(), 0700) != 0) {
    int err = errno;
    if (lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return created;
    return ErrnoToStatus(err, "mkdir", path);
  }
  if (owner && lchown(path.c_str(), owner->uid, owner->gid) != 0) {
    return ErrnoToStatus(errno, "chown", path);
  }
  if (chmod(path.c_str(), perm & 07777) != 0) return ErrnoToStatus(errno, "chmod", path);
  created.push_back(path);
  return created;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> MkdirAll(const std::string& path, mode_t perm,
                                                  const std::optional<Ownership>& owner,
                                                  std::optional<int64_t> mtime_ns) {
  auto created = MkdirAllImpl(path, perm, owner);
  if (!created.ok() || !mtime_ns) return created;
  // Innermost first: creating a child would change its parent's mtime.
  for (auto it = created->rbegin(); it != created->rend(); ++it) {
    absl::Status s = SetTimes(*it, *mtime_ns, *mtime_ns);
    if (!s.ok()) return s;
  }
  return created;
}

absl::Status RemoveAll(const std::string& path) {
  if (unlink(path.c_str()) == 0 || errno == ENOENT) return absl::OkStatus();
  if (errno != EISDIR && errno != EPERM) return ErrnoToStatus(errno, "remove", path);
  std::string clean = CleanPath(path);
  size_t slash = clean.rfind('/');
  std::string parent =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : clean.substr(0, slash));
  std::string name = slash == std::string::npos ? clean : clean.substr(slash + 1);
  UniqueFd pfd(open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!pfd.valid()) return ErrnoToStatus(errno, "open", parent);
  return RemoveDirAt(pfd.get(), name, path);
}

absl::Status SetTimes(const std::string& path, int64_t atime_ns, int64_t mtime_ns) {
  struct timespec ts[2];
  ts[0].tv_sec = atime_ns / 1000000000;
  ts[0].tv_nsec = atime_ns % 1000000000;
  ts[1].tv_sec = mtime_ns / 1000000000;
  ts[1].tv_nsec = mtime_ns % 1000000000;
  for (auto& t : ts) {
    if (t.tv_nsec < 0) {
      t.tv_nsec += 1000000000;
      t.tv_sec -= 1;
    }
  }
  if (utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoToStatus(errno, "utimes", path);
  }
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoToStatus(errno, "write", path);
    data.remove_prefix(n);
  }
  return absl::OkStatus();
}

}  // namespace kiln::fsutil
