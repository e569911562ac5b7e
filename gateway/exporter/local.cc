#include "gateway/exporter/local.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/exporter/internal/staging.h"
#include "gateway/exporter/internal/tree_walk.h"
#include "sdk/base/status_macros.h"

namespace kiln::exporter {
namespace {

namespace fs = std::filesystem;
using exporter_internal::ErrnoError;
using exporter_internal::TreeEntry;
using Xattrs = std::vector<std::pair<std::string, std::string>>;

struct Meta {
  uid_t uid;
  gid_t gid;
  mode_t mode;  // full st_mode, for the type and the 07777 bits
  struct timespec mtime;
};

// Owner, mode, xattrs and times, in the order that keeps each: chown before
// chmod (chown clears set-id bits), times last. Symlinks get no chmod.
absl::Status SetMeta(const std::string& path, const Meta& m, const Xattrs& xattrs) {
  if (::lchown(path.c_str(), m.uid, m.gid) != 0) return ErrnoError("export: cannot chown", path);
  if (!S_ISLNK(m.mode) && ::chmod(path.c_str(), m.mode & 07777) != 0) {
    return ErrnoError("export: cannot chmod", path);
  }
  for (const auto& [name, value] : xattrs) {
    // Best effort, like fsutil: the target filesystem may not take them.
    (void)::lsetxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0);
  }
  const struct timespec times[2] = {m.mtime, m.mtime};
  if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError("export: cannot set times of", path);
  }
  return absl::OkStatus();
}

absl::Status CopyData(const std::string& src, const std::string& dst) {
  int in = ::open(src.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0) return ErrnoError("export: cannot open", src);
  int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) {
    ::close(in);
    return ErrnoError("export: cannot create", dst);
  }
  absl::Status status;
  bool plain = false;  // copy_file_range unsupported here: read/write
  std::unique_ptr<char[]> buf;
  for (;;) {
    ssize_t n = plain ? ::read(in, buf.get(), 1 << 16)
                      : ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
    if (n < 0 && !plain &&
        (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
      plain = true;
      buf.reset(new char[1 << 16]);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = ErrnoError("export: cannot copy", src);
    if (n <= 0) break;
    if (plain && ::write(out, buf.get(), n) != n) {
      status = ErrnoError("export: cannot write", dst);
      break;
    }
  }
  ::close(in);
  if (::close(out) != 0 && status.ok()) status = ErrnoError("export: cannot write", dst);
  return status;
}

// Copies the walked tree into the staging directory.
class Copier : public exporter_internal::TreeVisitor {
 public:
  Copier(std::string staging, const LocalOptions& opts)
      : staging_(std::move(staging)), opts_(opts) {}

  absl::Status Enter(const TreeEntry& e) override {
    const std::string dst = absl::StrCat(staging_, "/", e.path);
    if (S_ISDIR(e.st.st_mode)) {
      // Owner-writable until Leave, whatever its final mode.
      if (::mkdir(dst.c_str(), 0700) != 0) return ErrnoError("export: cannot create", dst);
      return absl::OkStatus();
    }
    if (!e.hardlink_to.empty()) {
      const std::string first = absl::StrCat(staging_, "/", e.hardlink_to);
      if (::link(first.c_str(), dst.c_str()) != 0) return ErrnoError("export: cannot link", dst);
      return absl::OkStatus();
    }
    KILN_RETURN_IF_ERROR(Create(e, dst));
    return SetMeta(dst, MetaOf(e), e.xattrs);
  }

  absl::Status Leave(const TreeEntry& dir) override {
    return SetMeta(absl::StrCat(staging_, "/", dir.path), MetaOf(dir), dir.xattrs);
  }

 private:
  Meta MetaOf(const TreeEntry& e) const {
    Meta m;
    m.uid = opts_.preserve_ownership ? e.st.st_uid : ::getuid();
    m.gid = opts_.preserve_ownership ? e.st.st_gid : ::getgid();
    m.mode = S_ISSOCK(e.st.st_mode) ? (S_IFREG | (e.st.st_mode & 07777)) : e.st.st_mode;
    m.mtime = ApplyEpoch(e.st.st_mtim, opts_.source_date_epoch);
    return m;
  }

  static absl::Status Create(const TreeEntry& e, const std::string& dst) {
    switch (e.st.st_mode & S_IFMT) {
      case S_IFREG:
        return CopyData(e.full_path, dst);
      case S_IFLNK:
        if (::symlink(e.symlink_target.c_str(), dst.c_str()) != 0) {
          return ErrnoError("export: cannot create symlink", dst);
        }
        return absl::OkStatus();
      case S_IFSOCK: {  // as an empty file, the way fsutil sends sockets
        int fd = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) return ErrnoError("export: cannot create", dst);
        ::close(fd);
        return absl::OkStatus();
      }
      default:  // fifos and devices
        if (::mknod(dst.c_str(), (e.st.st_mode & S_IFMT) | 0600, e.st.st_rdev) != 0) {
          return ErrnoError("export: cannot create node", dst);
        }
        return absl::OkStatus();
    }
  }

  const std::string staging_;
  const LocalOptions& opts_;
};

absl::StatusOr<std::set<std::string>> ListNames(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoError("export: cannot open directory", dir);
  std::set<std::string> names;
  while (struct dirent* de = ::readdir(d)) {
    std::string n = de->d_name;
    if (n != "." && n != "..") names.insert(std::move(n));
  }
  ::closedir(d);
  return names;
}

absl::Status MergeDir(const std::string& src, const std::string& dst, const LocalOptions& opts);

// Puts staged `src` at `dst`: directories present on both sides merge, all
// else is replaced by rename (atomic for a non-directory over another).
absl::Status MoveEntry(const std::string& src, const std::string& dst, const LocalOptions& opts) {
  struct stat s, d;
  if (::lstat(src.c_str(), &s) != 0) return ErrnoError("export: cannot stat", src);
  const bool exists = ::lstat(dst.c_str(), &d) == 0;
  if (exists && S_ISDIR(s.st_mode) && S_ISDIR(d.st_mode)) {
    KILN_RETURN_IF_ERROR(MergeDir(src, dst, opts));
    Xattrs xattrs;
    KILN_RETURN_IF_ERROR(exporter_internal::ReadXattrs(src, &xattrs));
    return SetMeta(dst, {s.st_uid, s.st_gid, s.st_mode, s.st_mtim}, xattrs);
  }
  if (exists && (S_ISDIR(s.st_mode) || S_ISDIR(d.st_mode))) {
    KILN_RETURN_IF_ERROR(exporter_internal::RemoveAll(dst));
  }
  if (::rename(src.c_str(), dst.c_str()) != 0) {
    return ErrnoError(absl::StrCat("export: cannot move ", src, " to"), dst);
  }
  return absl::OkStatus();
}

absl::Status MergeDir(const std::string& src, const std::string& dst, const LocalOptions& opts) {
  KILN_ASSIGN_OR_RETURN(std::set<std::string> names, ListNames(src));
  for (const std::string& n : names) {
    KILN_RETURN_IF_ERROR(MoveEntry(src + "/" + n, dst + "/" + n, opts));
  }
  if (!opts.delete_extraneous) return absl::OkStatus();
  KILN_ASSIGN_OR_RETURN(std::set<std::string> existing, ListNames(dst));
  for (const std::string& n : existing) {
    if (names.count(n) == 0) KILN_RETURN_IF_ERROR(exporter_internal::RemoveAll(dst + "/" + n));
  }
  return absl::OkStatus();
}

absl::Status CheckPaths(const std::string& root, const std::string& dest) {
  struct stat st;
  if (::stat(root.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("export: no such directory ", root));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("export: ", root, " is not a directory"));
  }
  std::error_code ec;
  const std::string r = fs::weakly_canonical(root, ec).string();
  const std::string d = fs::weakly_canonical(dest, ec).string();
  if (d == r || d.rfind(r + "/", 0) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("export: destination ", dest, " is inside the exported tree ", root));
  }
  if (::stat(dest.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("export: ", dest, " is not a directory"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ExportLocal(const std::string& root, const std::string& dest_dir,
                         const LocalOptions& opts) {
  KILN_RETURN_IF_ERROR(CheckPaths(root, dest_dir));
  KILN_RETURN_IF_ERROR(exporter_internal::MakeDirs(exporter_internal::DirName(dest_dir), 0700));
  KILN_ASSIGN_OR_RETURN(std::string staging, exporter_internal::MakeStagingDir(dest_dir));
  Copier copier(staging, opts);
  absl::Status s = exporter_internal::WalkTree(root, copier);
  if (s.ok()) {
    struct stat st;
    if (::stat(dest_dir.c_str(), &st) != 0) {
      // Fresh destination: one rename publishes the whole tree.
      if (::rename(staging.c_str(), dest_dir.c_str()) == 0) return absl::OkStatus();
      s = ErrnoError(absl::StrCat("export: cannot move ", staging, " to"), dest_dir);
    } else {
      s = MergeDir(staging, dest_dir, opts);
    }
  }
  absl::Status cleanup = exporter_internal::RemoveAll(staging);
  return s.ok() ? cleanup : s;
}

}  // namespace kiln::exporter
