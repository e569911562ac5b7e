#include "gateway/fsutil/copy.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/internal/sys.h"
#include "gateway/fsutil/path.h"

namespace kiln::fsutil {
namespace {

using fsutil_internal::ListDir;
using fsutil_internal::ListXattrs;
using fsutil_internal::Nanos;
using fsutil_internal::ReadLinkAt;
using fsutil_internal::UniqueFd;

absl::Status ReadWriteCopy(int src_fd, int dst_fd, const std::string& what) {
  constexpr size_t kBuf = 128 * 1024;
  thread_local std::unique_ptr<char[]> buf(new char[kBuf]);
  for (;;) {
    ssize_t n = read(src_fd, buf.get(), kBuf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoToStatus(errno, "read", what);
    if (n == 0) return absl::OkStatus();
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(dst_fd, buf.get() + off, n - off);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return ErrnoToStatus(errno, "write", what);
      off += w;
    }
  }
}

// Writes a non-directory `src` (already lstat'ed as `st`) to the free path
// `dst`.
absl::Status CreateNode(const std::string& src, const struct stat& st, const std::string& dst) {
  if (S_ISREG(st.st_mode)) {
    UniqueFd in(open(src.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!in.valid()) return ErrnoToStatus(errno, "open", src);
    UniqueFd out(open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!out.valid()) return ErrnoToStatus(errno, "create", dst);
    return CopyFileContent(in.get(), out.get(), st.st_size, src);
  }
  if (S_ISLNK(st.st_mode)) {
    auto target = ReadLinkAt(AT_FDCWD, src.c_str(), src);
    if (!target.ok()) return target.status();
    if (symlink(target->c_str(), dst.c_str()) != 0) return ErrnoToStatus(errno, "symlink", dst);
    return absl::OkStatus();
  }
  // Sockets cannot be recreated by path; like BuildKit, leave an empty stub.
  mode_t type = S_ISSOCK(st.st_mode) ? S_IFREG : (st.st_mode & S_IFMT);
  dev_t dev = (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) ? st.st_rdev : 0;
  if (mknod(dst.c_str(), type | 0600, dev) != 0) return ErrnoToStatus(errno, "mknod", dst);
  return absl::OkStatus();
}

// Clears the way for the non-directory `src_st` at `dst`. Sets *same when
// `dst` already is that very file (a tree copied onto itself), which must
// then be left alone.
absl::Status EnsureEmptyFileTarget(const struct stat& src_st, const std::string& dst, bool* same) {
  *same = false;
  struct stat st;
  if (lstat(dst.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoToStatus(errno, "lstat", dst);
  }
  if (st.st_dev == src_st.st_dev && st.st_ino == src_st.st_ino) {
    *same = true;
    return absl::OkStatus();
  }
  if (S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot replace directory ", dst, " with a file"));
  }
  if (unlink(dst.c_str()) != 0 && errno != ENOENT) return ErrnoToStatus(errno, "unlink", dst);
  return absl::OkStatus();
}

class Copier {
 public:
  explicit Copier(const CopyOptions& opt) : opt_(opt) {
    if (opt.filter != nullptr && !opt.filter->empty()) filter_ = opt.filter;
  }
  absl::Status Copy(const std::string& src, const std::string& rel, const std::string& dst,
                    bool overwrite_meta, const Filter::State& parent);

 private:
  struct PendingDir {
    std::string src, dst;
    struct stat st;
    bool copied;   // exists in the destination by now
    bool created;  // created because something below was selected
  };

  absl::Status CopyDir(const std::string& src, const std::string& rel, const std::string& dst,
                       const struct stat& st, const Filter::Decision& d, const Filter::State& state,
                       bool* created);
  absl::Status CopyNonDir(const std::string& src, const struct stat& st, const std::string& dst);
  absl::Status CreatePendingParents();
  absl::Status CreateDirOnly(const std::string& dst, bool* created);

  using Inode = std::pair<dev_t, ino_t>;
  const CopyOptions& opt_;
  const Filter* filter_ = nullptr;
  std::map<Inode, std::string> links_;
  std::vector<PendingDir> parents_;
  // Destination directories, so that a destination inside the source is
  // not copied into itself again and again.
  std::set<Inode> dst_dirs_;
};

absl::Status Copier::CreateDirOnly(const std::string& dst, bool* created) {
  *created = false;
  struct stat st;
  if (lstat(dst.c_str(), &st) != 0) {
    if (errno != ENOENT) return ErrnoToStatus(errno, "lstat", dst);
    if (mkdir(dst.c_str(), 0700) != 0) return ErrnoToStatus(errno, "mkdir", dst);
    if (lstat(dst.c_str(), &st) != 0) return ErrnoToStatus(errno, "lstat", dst);
    *created = true;
  } else if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("cannot copy to non-directory: ", dst));
  }
  dst_dirs_.emplace(st.st_dev, st.st_ino);
  return absl::OkStatus();
}

absl::Status Copier::CreatePendingParents() {
  for (PendingDir& p : parents_) {
    if (p.copied) continue;
    bool created = false;
    absl::Status s = CreateDirOnly(p.dst, &created);
    if (!s.ok()) return s;
    p.copied = true;
    p.created = created;
  }
  return absl::OkStatus();
}

absl::Status Copier::CopyNonDir(const std::string& src, const struct stat& st,
                                const std::string& dst) {
  bool same = false;
  absl::Status s = EnsureEmptyFileTarget(st, dst, &same);
  if (!s.ok() || same) return s;
  if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
    auto [it, inserted] = links_.emplace(std::make_pair(st.st_dev, st.st_ino), dst);
    if (!inserted) {
      if (link(it->second.c_str(), dst.c_str()) != 0) return ErrnoToStatus(errno, "link", dst);
      return ApplyMetadata(src, st, dst, opt_);
    }
  }
  s = CreateNode(src, st, dst);
  if (!s.ok()) return s;
  return ApplyMetadata(src, st, dst, opt_);
}

absl::Status Copier::CopyDir(const std::string& src, const std::string& rel, const std::string& dst,
                             const struct stat& st, const Filter::Decision& d,
                             const Filter::State& state, bool* created) {
  *created = false;
  if (d.keep) {
    absl::Status s = CreateDirOnly(dst, created);
    if (!s.ok()) return s;
  }
  parents_.push_back(PendingDir{src, dst, st, d.keep, false});
  absl::Status s;
  if (d.descend) {
    UniqueFd fd(open(src.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
      s = ErrnoToStatus(errno, "open", src);
    } else {
      auto names = ListDir(fd.get(), src);
      if (!names.ok()) s = names.status();
      for (size_t i = 0; s.ok() && names.ok() && i < names->size(); ++i) {
        const std::string& n = (*names)[i];
        s = Copy(JoinPath(src, n), rel.empty() ? n : absl::StrCat(rel, "/", n), JoinPath(dst, n),
                 true, state);
      }
    }
  }
  PendingDir done = std::move(parents_.back());
  parents_.pop_back();
  if (!s.ok()) return s;
  // A directory created only to hold selected entries gets the source's
  // metadata once its contents are in place, so its mtime sticks.
  if (done.created) return ApplyMetadata(done.src, done.st, done.dst, opt_);
  return absl::OkStatus();
}

absl::Status Copier::Copy(const std::string& src, const std::string& rel, const std::string& dst,
                          bool overwrite_meta, const Filter::State& parent) {
  struct stat st;
  if (lstat(src.c_str(), &st) != 0) return ErrnoToStatus(errno, "lstat", src);
  const bool is_dir = S_ISDIR(st.st_mode);
  if (is_dir && dst_dirs_.count({st.st_dev, st.st_ino}) != 0 && !rel.empty()) {
    return absl::OkStatus();  // the copy's own destination
  }
  Filter::Decision d;
  Filter::State state;
  if (filter_ != nullptr && !rel.empty()) {
    d = filter_->Evaluate(rel, is_dir, parent, is_dir ? &state : nullptr);
  }
  if (!d.keep && (!is_dir || !d.descend)) return absl::OkStatus();
  if (d.keep) {
    if (opt_.replace_existing) {
      struct stat dst_st;
      if (lstat(dst.c_str(), &dst_st) == 0 && !(is_dir && S_ISDIR(dst_st.st_mode)) &&
          !(dst_st.st_dev == st.st_dev && dst_st.st_ino == st.st_ino)) {
        absl::Status s = RemoveAll(dst);
        if (!s.ok()) return s;
      }
    }
    absl::Status s = CreatePendingParents();
    if (!s.ok()) return s;
  }
  if (!is_dir) return CopyNonDir(src, st, dst);
  bool created = false;
  absl::Status s = CopyDir(src, rel, dst, st, d, state, &created);
  if (!s.ok() || !d.keep) return s;
  if (overwrite_meta || created) return ApplyMetadata(src, st, dst, opt_);
  // The merge target keeps its own mode and owner; BuildKit still sets times.
  int64_t atime = opt_.mtime_ns ? *opt_.mtime_ns : Nanos(st.st_atim);
  int64_t mtime = opt_.mtime_ns ? *opt_.mtime_ns : Nanos(st.st_mtim);
  return SetTimes(dst, atime, mtime);
}

}  // namespace

absl::Status CopyFileContent(int src_fd, int dst_fd, int64_t size, const std::string& what) {
  if (size <= 0) return ReadWriteCopy(src_fd, dst_fd, what);
  if (ioctl(dst_fd, FICLONE, src_fd) == 0) return absl::OkStatus();
  int64_t written = 0;
  bool first = true;
  while (written < size) {
    size_t want = static_cast<size_t>(std::min<int64_t>(size - written, 1 << 30));
    ssize_t n = copy_file_range(src_fd, nullptr, dst_fd, nullptr, want, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      bool unsupported = errno == ENOSYS || errno == EXDEV || errno == EPERM || errno == EIO ||
                         errno == EOPNOTSUPP || errno == EINVAL;
      if (!first || !unsupported) return ErrnoToStatus(errno, "copy_file_range", what);
      return ReadWriteCopy(src_fd, dst_fd, what);
    }
    if (n == 0) break;  // the source shrank under us
    first = false;
    written += n;
  }
  // Pick up anything appended since the size was taken.
  return ReadWriteCopy(src_fd, dst_fd, what);
}

absl::Status ApplyMetadata(const std::string& src, const struct stat& src_st,
                           const std::string& dst, const CopyOptions& opt) {
  uid_t uid = opt.chown ? opt.chown->uid : src_st.st_uid;
  gid_t gid = opt.chown ? opt.chown->gid : src_st.st_gid;
  if (lchown(dst.c_str(), uid, gid) != 0) {
    // Without privileges the source owner cannot be kept; an explicit chown
    // must still fail.
    if (opt.chown || errno != EPERM) return ErrnoToStatus(errno, "chown", dst);
  }
  if (!S_ISLNK(src_st.st_mode)) {
    mode_t mode = src_st.st_mode & 07777;
    if (opt.mode_set != nullptr) {
      mode = opt.mode_set->Apply(src_st.st_mode);
    } else if (opt.chmod) {
      mode = *opt.chmod & 07777;
    }
    if (chmod(dst.c_str(), mode) != 0) return ErrnoToStatus(errno, "chmod", dst);
  }
  int64_t atime = opt.mtime_ns ? *opt.mtime_ns : Nanos(src_st.st_atim);
  int64_t mtime = opt.mtime_ns ? *opt.mtime_ns : Nanos(src_st.st_mtim);
  absl::Status s = SetTimes(dst, atime, mtime);
  if (!s.ok() || !opt.copy_xattrs) return s;
  auto xattrs = ListXattrs(src);
  if (!xattrs.ok()) return absl::OkStatus();  // BuildKit ignores xattr errors
  for (const auto& [name, value] : *xattrs) {
    if (fsutil_internal::HasPrefix(name, "trusted.overlay.")) continue;
    lsetxattr(dst.c_str(), name.c_str(), value.data(), value.size(), 0);
  }
  return absl::OkStatus();
}

absl::Status CopyTree(const std::string& src, const std::string& dst, const CopyOptions& opt) {
  Copier c(opt);
  return c.Copy(src, "", dst, false, Filter::State());
}

absl::Status CopyFile(const std::string& src, const std::string& dst, const CopyOptions& opt) {
  struct stat st;
  if (lstat(src.c_str(), &st) != 0) return ErrnoToStatus(errno, "lstat", src);
  if (S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("copy ", src, ": is a directory"));
  }
  bool same = false;
  absl::Status s = EnsureEmptyFileTarget(st, dst, &same);
  if (!s.ok() || same) return s;
  s = CreateNode(src, st, dst);
  if (!s.ok()) return s;
  return ApplyMetadata(src, st, dst, opt);
}

}  // namespace kiln::fsutil
