// mkdir, mkfile, rm and symlink. Copy lives in copy_action.cc.
#include "gateway/ops/file/actions.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/path.h"
#include "gateway/fsutil/tree.h"
#include "gateway/fsutil/wildcard.h"
#include "gateway/ops/file/internal/common.h"
#include "sdk/base/status_macros.h"

namespace kiln::ops {
namespace {

using fsutil::ErrnoToStatus;
using ops_internal::ChownAndTime;
using ops_internal::StripRoot;
using ops_internal::Timestamp;

absl::Status Mkdir(const std::string& root, const pb::FileActionMkDir& a,
                   const std::optional<Ownership>& owner) {
  KILN_ASSIGN_OR_RETURN(std::string p, fsutil::ResolveInRoot(root, a.path(), true));
  mode_t mode = a.mode() & 0777;
  if (a.makeparents()) {
    return fsutil::MkdirAll(p, mode, owner, Timestamp(a.timestamp())).status();
  }
  if (mkdir(p.c_str(), 0700) != 0) {
    if (errno == EEXIST) return absl::OkStatus();
    return ErrnoToStatus(errno, "mkdir", p);
  }
  if (owner && lchown(p.c_str(), owner->uid, owner->gid) != 0) {
    return ErrnoToStatus(errno, "chown", p);
  }
  if (chmod(p.c_str(), mode) != 0) return ErrnoToStatus(errno, "chmod", p);
  return ChownAndTime(p, std::nullopt, Timestamp(a.timestamp()));
}

absl::Status Mkfile(const std::string& root, const pb::FileActionMkFile& a,
                    const std::optional<Ownership>& owner) {
  KILN_ASSIGN_OR_RETURN(std::string p, fsutil::ResolveInRoot(root, "/" + a.path(), true));
  bool created = true;
  int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno == EEXIST) {
    created = false;
    fd = open(p.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  }
  if (fd < 0) return ErrnoToStatus(errno, "mkfile", p);
  absl::Status s = fsutil::WriteAll(fd, a.data(), p);
  if (s.ok() && created && fchmod(fd, a.mode() & 0777) != 0) s = ErrnoToStatus(errno, "chmod", p);
  if (close(fd) != 0 && s.ok()) s = ErrnoToStatus(errno, "close", p);
  if (!s.ok()) return s;
  return ChownAndTime(p, owner, Timestamp(a.timestamp()));
}

absl::Status RmPath(const std::string& root, std::string_view path, bool allow_not_found) {
  std::string clean = fsutil::CleanPath(absl::StrCat("/", std::string(path)));
  if (clean == "/") return absl::InvalidArgumentError("rm: invalid empty path");
  size_t slash = clean.rfind('/');
  KILN_ASSIGN_OR_RETURN(std::string dir, fsutil::ResolveInRoot(root, clean.substr(0, slash), true));
  std::string p = fsutil::JoinPath(dir, clean.substr(slash + 1));
  if (!allow_not_found) {
    // BuildKit stats with symlinks followed; follow them inside the root.
    KILN_ASSIGN_OR_RETURN(std::string followed, fsutil::ResolveInRoot(root, clean, true));
    struct stat st;
    if (stat(followed.c_str(), &st) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
      return absl::NotFoundError(absl::StrCat("rm ", clean, ": no such file or directory"));
    }
  }
  return fsutil::RemoveAll(p);
}

absl::Status Rm(const std::string& root, const pb::FileActionRm& a) {
  if (!a.allowwildcard()) return RmPath(root, a.path(), a.allownotfound());
  KILN_ASSIGN_OR_RETURN(auto matches, fsutil::ResolveWildcards(root, a.path(), false));
  for (const std::string& m : matches) KILN_RETURN_IF_ERROR(RmPath(root, m, a.allownotfound()));
  return absl::OkStatus();
}

absl::Status Symlink(const std::string& root, const pb::FileActionSymlink& a,
                     const std::optional<Ownership>& owner) {
  KILN_ASSIGN_OR_RETURN(std::string p, fsutil::ResolveInRoot(root, "/" + a.newpath(), true));
  if (symlink(a.oldpath().c_str(), p.c_str()) != 0) return ErrnoToStatus(errno, "symlink", p);
  return ChownAndTime(p, owner, Timestamp(a.timestamp()));
}

}  // namespace

absl::Status ApplyMkdir(const std::string& root, const pb::FileActionMkDir& a,
                        const std::optional<Ownership>& owner) {
  return StripRoot(Mkdir(root, a, owner), root);
}

absl::Status ApplyMkfile(const std::string& root, const pb::FileActionMkFile& a,
                         const std::optional<Ownership>& owner) {
  return StripRoot(Mkfile(root, a, owner), root);
}

absl::Status ApplyRm(const std::string& root, const pb::FileActionRm& a) {
  return StripRoot(Rm(root, a), root);
}

absl::Status ApplySymlink(const std::string& root, const pb::FileActionSymlink& a,
                          const std::optional<Ownership>& owner) {
  return StripRoot(Symlink(root, a, owner), root);
}

}  // namespace kiln::ops
