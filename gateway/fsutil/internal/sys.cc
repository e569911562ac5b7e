#include "gateway/fsutil/internal/sys.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "gateway/fsutil/errors.h"

namespace kiln::fsutil_internal {

using fsutil::ErrnoToStatus;

absl::StatusOr<std::string> ReadLinkAt(int dirfd, const char* name, std::string_view path) {
  std::string buf(128, '\0');
  for (;;) {
    ssize_t n = readlinkat(dirfd, name, buf.data(), buf.size());
    if (n < 0) return ErrnoToStatus(errno, "readlink", path);
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(n);
      return buf;
    }
    buf.resize(buf.size() * 2);
  }
}

absl::StatusOr<std::vector<std::string>> ListDir(int fd, std::string_view path) {
  int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return ErrnoToStatus(errno, "dup", path);
  DIR* dir = fdopendir(dup_fd);
  if (dir == nullptr) {
    int err = errno;
    close(dup_fd);
    return ErrnoToStatus(err, "opendir", path);
  }
  rewinddir(dir);
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    struct dirent* de = readdir(dir);
    if (de == nullptr) break;
    const char* n = de->d_name;
    if (n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0))) continue;
    names.emplace_back(n);
  }
  int err = errno;
  closedir(dir);
  if (err != 0) return ErrnoToStatus(err, "readdir", path);
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::vector<std::string>> ListDirPath(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoToStatus(errno, "open", path);
  return ListDir(fd.get(), path);
}

absl::StatusOr<std::string> HashFd(int fd, std::string_view path) {
  constexpr size_t kBuf = 256 * 1024;
  thread_local std::unique_ptr<char[]> buf(new char[kBuf]);
  Sha256 h;
  for (;;) {
    ssize_t n = read(fd, buf.get(), kBuf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "read", path);
    }
    if (n == 0) break;
    h.Update(std::string_view(buf.get(), n));
  }
  return h.HexDigest();
}

absl::StatusOr<std::string> HashFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return ErrnoToStatus(errno, "open", path);
  return HashFd(fd.get(), path);
}

absl::StatusOr<Xattrs> ListXattrs(const std::string& path) {
  Xattrs out;
  ssize_t size = llistxattr(path.c_str(), nullptr, 0);
  if (size < 0) {
    if (errno == ENOTSUP || errno == ENODATA) return out;
    return ErrnoToStatus(errno, "listxattr", path);
  }
  if (size == 0) return out;
  std::string names(size, '\0');
  size = llistxattr(path.c_str(), names.data(), names.size());
  if (size < 0) return ErrnoToStatus(errno, "listxattr", path);
  names.resize(size);
  for (size_t i = 0; i < names.size();) {
    std::string name(names.c_str() + i);
    i += name.size() + 1;
    if (name.empty()) continue;
    ssize_t vs = lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (vs < 0) {
      if (errno == ENODATA) continue;
      return ErrnoToStatus(errno, "getxattr " + name, path);
    }
    std::string value(vs, '\0');
    vs = lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (vs < 0) return ErrnoToStatus(errno, "getxattr " + name, path);
    value.resize(vs);
    out.emplace_back(std::move(name), std::move(value));
  }
  std::sort(out.begin(), out.end());
  return out;
}

char TypeChar(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return 'd';
    case S_IFREG:
      return '-';
    case S_IFLNK:
      return 'l';
    case S_IFCHR:
      return 'c';
    case S_IFBLK:
      return 'b';
    case S_IFIFO:
      return 'p';
    case S_IFSOCK:
      return 's';
    default:
      return '?';
  }
}

void HashEntry(Sha256& h, std::string_view rel, const struct stat& st, std::string_view link_target,
               std::string_view content_hex, const Xattrs* xattrs) {
  h.UpdateField(rel);
  char type = TypeChar(st.st_mode);
  h.Update(std::string_view(&type, 1));
  h.UpdateInt(st.st_mode & 07777);
  h.UpdateInt(st.st_uid);
  h.UpdateInt(st.st_gid);
  switch (type) {
    case '-':
      h.UpdateInt(st.st_size);
      h.UpdateField(content_hex);
      break;
    case 'l':
      h.UpdateField(link_target);
      break;
    case 'c':
    case 'b':
      h.UpdateInt(major(st.st_rdev));
      h.UpdateInt(minor(st.st_rdev));
      break;
    default:
      break;
  }
  if (xattrs != nullptr) {
    h.UpdateInt(xattrs->size());
    for (const auto& [k, v] : *xattrs) {
      h.UpdateField(k);
      h.UpdateField(v);
    }
  }
}

}  // namespace kiln::fsutil_internal
