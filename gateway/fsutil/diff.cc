#include "gateway/fsutil/diff.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/copy.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/internal/sys.h"
#include "gateway/fsutil/path.h"
#include "gateway/fsutil/tree.h"

namespace kiln::fsutil {
namespace {

using fsutil_internal::ListDirPath;
using fsutil_internal::ListXattrs;
using fsutil_internal::ReadLinkAt;
using fsutil_internal::UniqueFd;

absl::StatusOr<bool> SameContent(const std::string& a, const std::string& b) {
  UniqueFd fa(open(a.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fa.valid()) return ErrnoToStatus(errno, "open", a);
  UniqueFd fb(open(b.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fb.valid()) return ErrnoToStatus(errno, "open", b);
  constexpr size_t kBuf = 64 * 1024;
  std::unique_ptr<char[]> ba(new char[kBuf]), bb(new char[kBuf]);
  for (;;) {
    ssize_t na = read(fa.get(), ba.get(), kBuf);
    if (na < 0) return ErrnoToStatus(errno, "read", a);
    size_t got = 0;
    while (got < static_cast<size_t>(na)) {
      ssize_t nb = read(fb.get(), bb.get() + got, na - got);
      if (nb < 0) return ErrnoToStatus(errno, "read", b);
      if (nb == 0) return false;
      got += nb;
    }
    if (memcmp(ba.get(), bb.get(), na) != 0) return false;
    if (na == 0) {
      char c;
      return read(fb.get(), &c, 1) == 0;
    }
  }
}

class Differ {
 public:
  Differ(const std::string& lower, const std::string& upper, const std::string& out)
      : lower_(lower), upper_(upper), out_(out) {}

  absl::Status Run();

 private:
  absl::Status DiffDir(const std::string& rel);
  absl::Status DiffEntry(const std::string& rel, const std::string& child);
  absl::Status EnsureOutDir(const std::string& rel);
  absl::Status Whiteout(const std::string& rel, const std::string& child);
  absl::Status CopyUp(const std::string& rel, const std::string& child);
  absl::StatusOr<bool> SameMeta(const std::string& rel, const struct stat& l, const struct stat& u);
  absl::StatusOr<bool> Same(const std::string& rel, const struct stat& l, const struct stat& u);
  absl::StatusOr<bool> TryOpaque(const std::string& rel);

  std::string L(const std::string& rel) const { return JoinPath(lower_, rel); }
  std::string U(const std::string& rel) const { return JoinPath(upper_, rel); }
  std::string O(const std::string& rel) const { return JoinPath(out_, rel); }
  static std::string Child(const std::string& rel, const std::string& name) {
    return rel.empty() ? name : absl::StrCat(rel, "/", name);
  }

  const std::string& lower_;
  const std::string& upper_;
  const std::string& out_;
  std::set<std::string> made_;
  std::vector<std::string> made_order_;
};

absl::Status Differ::EnsureOutDir(const std::string& rel) {
  if (rel.empty() || made_.count(rel) != 0) return absl::OkStatus();
  size_t slash = rel.rfind('/');
  absl::Status s = EnsureOutDir(slash == std::string::npos ? "" : rel.substr(0, slash));
  if (!s.ok()) return s;
  std::string path = O(rel);
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoToStatus(errno, "mkdir", path);
  made_.insert(rel);
  made_order_.push_back(rel);
  return absl::OkStatus();
}

absl::Status Differ::Whiteout(const std::string& rel, const std::string& child) {
  absl::Status s = EnsureOutDir(rel);
  if (!s.ok()) return s;
  std::string path = O(child);
  if (mknod(path.c_str(), S_IFCHR, makedev(0, 0)) != 0) return ErrnoToStatus(errno, "mknod", path);
  return absl::OkStatus();
}

absl::Status Differ::CopyUp(const std::string& rel, const std::string& child) {
  absl::Status s = EnsureOutDir(rel);
  if (!s.ok()) return s;
  s = RemoveAll(O(child));
  if (!s.ok()) return s;
  return CopyTree(U(child), O(child), CopyOptions());
}

absl::StatusOr<bool> Differ::TryOpaque(const std::string& rel) {
  absl::Status s = EnsureOutDir(rel);
  if (!s.ok()) return s;
  std::string path = O(rel);
  if (lsetxattr(path.c_str(), "trusted.overlay.opaque", "y", 1, 0) == 0) return true;
  if (errno == EPERM || errno == ENOTSUP || errno == EACCES) return false;
  return ErrnoToStatus(errno, "setxattr trusted.overlay.opaque", path);
}

absl::StatusOr<bool> Differ::SameMeta(const std::string& rel, const struct stat& l,
                                      const struct stat& u) {
  if ((l.st_mode & S_IFMT) != (u.st_mode & S_IFMT) || (l.st_mode & 07777) != (u.st_mode & 07777) ||
      l.st_uid != u.st_uid || l.st_gid != u.st_gid) {
    return false;
  }
  auto lx = ListXattrs(L(rel));
  if (!lx.ok()) return lx.status();
  auto ux = ListXattrs(U(rel));
  if (!ux.ok()) return ux.status();
  return *lx == *ux;
}

absl::StatusOr<bool> Differ::Same(const std::string& rel, const struct stat& l,
                                  const struct stat& u) {
  auto meta = SameMeta(rel, l, u);
  if (!meta.ok() || !*meta) return meta;
  if (S_ISREG(l.st_mode)) {
    if (l.st_size != u.st_size) return false;
    if (l.st_dev == u.st_dev && l.st_ino == u.st_ino) return true;
    return SameContent(L(rel), U(rel));
  }
  if (S_ISLNK(l.st_mode)) {
    auto lt = ReadLinkAt(AT_FDCWD, L(rel).c_str(), L(rel));
    if (!lt.ok()) return lt.status();
    auto ut = ReadLinkAt(AT_FDCWD, U(rel).c_str(), U(rel));
    if (!ut.ok()) return ut.status();
    return *lt == *ut;
  }
  if (S_ISCHR(l.st_mode) || S_ISBLK(l.st_mode)) return l.st_rdev == u.st_rdev;
  return true;
}

absl::Status Differ::DiffEntry(const std::string& rel, const std::string& child) {
  struct stat l, u;
  if (lstat(L(child).c_str(), &l) != 0) return ErrnoToStatus(errno, "lstat", L(child));
  if (lstat(U(child).c_str(), &u) != 0) return ErrnoToStatus(errno, "lstat", U(child));
  if (S_ISDIR(l.st_mode) && S_ISDIR(u.st_mode)) {
    auto meta = SameMeta(child, l, u);
    if (!meta.ok()) return meta.status();
    if (!*meta) {
      absl::Status s = EnsureOutDir(child);
      if (!s.ok()) return s;
    }
    return DiffDir(child);
  }
  auto same = Same(child, l, u);
  if (!same.ok()) return same.status();
  if (*same) return absl::OkStatus();
  return CopyUp(rel, child);
}

absl::Status Differ::DiffDir(const std::string& rel) {
  auto lnames = ListDirPath(L(rel));
  if (!lnames.ok()) return lnames.status();
  auto unames = ListDirPath(U(rel));
  if (!unames.ok()) return unames.status();
  const auto& ln = *lnames;
  const auto& un = *unames;
  size_t common = 0;
  for (size_t i = 0, j = 0; i < ln.size() && j < un.size();) {
    int c = ln[i].compare(un[j]);
    if (c == 0) ++common;
    i += c <= 0;
    j += c >= 0;
  }
  bool opaque = false;
  if (!rel.empty() && common == 0 && !ln.empty()) {
    auto o = TryOpaque(rel);
    if (!o.ok()) return o.status();
    opaque = *o;
  }
  size_t i = 0, j = 0;
  while (i < ln.size() || j < un.size()) {
    int c = i == ln.size() ? 1 : j == un.size() ? -1 : ln[i].compare(un[j]);
    absl::Status s;
    if (c < 0) {
      if (!opaque) s = Whiteout(rel, Child(rel, ln[i]));
      ++i;
    } else if (c > 0) {
      s = CopyUp(rel, Child(rel, un[j]));
      ++j;
    } else {
      s = DiffEntry(rel, Child(rel, ln[i]));
      ++i;
      ++j;
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Differ::Run() {
  struct stat st;
  for (const std::string* p : {&lower_, &upper_}) {
    if (stat(p->c_str(), &st) != 0) return ErrnoToStatus(errno, "stat", *p);
    if (!S_ISDIR(st.st_mode)) return ErrnoToStatus(ENOTDIR, "diff", *p);
  }
  auto made = MkdirAll(out_, 0755, std::nullopt, std::nullopt);
  if (!made.ok()) return made.status();
  absl::Status s = DiffDir("");
  if (!s.ok()) return s;
  for (auto it = made_order_.rbegin(); it != made_order_.rend(); ++it) {
    if (lstat(U(*it).c_str(), &st) != 0) return ErrnoToStatus(errno, "lstat", U(*it));
    s = ApplyMetadata(U(*it), st, O(*it), CopyOptions());
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status DiffTrees(const std::string& lower, const std::string& upper, const std::string& out) {
  Differ d(lower, upper, out);
  return d.Run();
}

}  // namespace kiln::fsutil
