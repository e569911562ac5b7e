// FileActionCopy: BuildKit's docopy plus fsutil's copy.Copy placement rules.
//
// For each source (the glob matches, or a.src itself):
//   1. The destination's directory part is created (MkdirAll 0755, with the
//      copy's owner): all of a.dest when it ends in "/" or "/.", else its
//      parent.
//   2. The destination becomes dest/<basename of source> when the source is
//      a directory and dest exists (unless dirCopyContents), or when the
//      source is not a directory and dest is an existing directory.
//   3. The source is copied onto that path with fsutil::CopyTree.
#include <sys/stat.h>

#include <cerrno>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/copy.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/filter.h"
#include "gateway/fsutil/mode.h"
#include "gateway/fsutil/path.h"
#include "gateway/fsutil/tree.h"
#include "gateway/fsutil/wildcard.h"
#include "gateway/ops/file/actions.h"
#include "gateway/ops/file/internal/common.h"
#include "sdk/base/status_macros.h"

namespace kiln::ops {
namespace {

using ops_internal::CleanKeepTrailing;
using ops_internal::StripRoot;
using ops_internal::Timestamp;

struct CopyJob {
  const pb::FileActionCopy& a;
  const std::string& src_root;
  const std::string& dest_root;
  std::string dest_path;  // cleaned, trailing "/" kept
  fsutil::CopyOptions opt;
  std::optional<Ownership> owner;
  std::optional<int64_t> ts;
  mode_t dir_mode = 0755;
  std::vector<std::string> created_dirs;  // times fixed at the end
};

// Go's filepath.Base: the last element after trailing slashes are dropped,
// so "dir/." gives "." (copy the contents) and "/" gives "" (the root).
std::string BaseName(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p == "/") return "";
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

absl::Status Mkdirs(CopyJob& job, const std::string& host) {
  KILN_ASSIGN_OR_RETURN(auto made, fsutil::MkdirAll(host, job.dir_mode, job.owner, job.ts));
  job.created_dirs.insert(job.created_dirs.end(), made.begin(), made.end());
  return absl::OkStatus();
}

// Step 1: the directory part of the destination.
absl::Status EnsureDestDir(CopyJob& job) {
  const std::string& d = job.dest_path;
  size_t slash = d.rfind('/');
  std::string file = d.substr(slash + 1);
  std::string ensure = (!file.empty() && file != ".") ? d.substr(0, slash + 1) : d;
  if (ensure.empty()) return absl::OkStatus();
  KILN_ASSIGN_OR_RETURN(std::string host, fsutil::ResolveInRoot(job.dest_root, ensure, true));
  return Mkdirs(job, host);
}

absl::Status CopyOne(CopyJob& job, const std::string& src) {
  KILN_RETURN_IF_ERROR(EnsureDestDir(job));
  KILN_ASSIGN_OR_RETURN(std::string dst, fsutil::ResolveInRoot(job.dest_root, job.dest_path, true));
  KILN_ASSIGN_OR_RETURN(std::string src_host,
                        fsutil::ResolveInRoot(job.src_root, src, job.a.followsymlink()));
  struct stat src_st, dst_st;
  if (lstat(src_host.c_str(), &src_st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return absl::NotFoundError(absl::StrCat("copy ", src, ": no such file or directory"));
    }
    return fsutil::ErrnoToStatus(errno, "lstat", src_host);
  }
  const bool src_dir = S_ISDIR(src_st.st_mode);
  const bool dst_exists = stat(dst.c_str(), &dst_st) == 0;
  if ((src_dir && dst_exists && !job.a.dircopycontents()) ||
      (!src_dir && dst_exists && S_ISDIR(dst_st.st_mode))) {
    dst = fsutil::CleanPath(fsutil::JoinPath(dst, BaseName(src)));
  }
  std::string target = dst.substr(0, dst.rfind('/'));
  if (job.a.dircopycontents() && src_dir && !dst_exists) target = dst;
  KILN_RETURN_IF_ERROR(Mkdirs(job, target));
  struct stat before;
  bool existed = stat(dst.c_str(), &before) == 0;
  KILN_RETURN_IF_ERROR(fsutil::CopyTree(src_host, dst, job.opt));
  // As fsutil does, a mode given to the copy applies to what is copied,
  // not to the top directory it lands in: that keeps the mode it had, or
  // the source directory's.
  if (src_dir && (job.opt.chmod || job.opt.mode_set)) {
    mode_t keep = (existed ? before.st_mode : src_st.st_mode) & 07777;
    if (chmod(dst.c_str(), keep) != 0) return fsutil::ErrnoToStatus(errno, "chmod", dst);
  }
  return absl::OkStatus();
}

absl::Status FixCreatedDirTimes(const CopyJob& job) {
  if (!job.ts) return absl::OkStatus();
  for (auto it = job.created_dirs.rbegin(); it != job.created_dirs.rend(); ++it) {
    KILN_RETURN_IF_ERROR(fsutil::SetTimes(*it, *job.ts, *job.ts));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> Sources(const pb::FileActionCopy& a,
                                                 const std::string& src_root,
                                                 const std::string& src_path) {
  if (!a.allowwildcard()) return std::vector<std::string>{src_path};
  KILN_ASSIGN_OR_RETURN(auto m, fsutil::ResolveWildcards(src_root, src_path, a.followsymlink()));
  if (m.empty() && !a.allowemptywildcard()) {
    return absl::NotFoundError(absl::StrCat("copy ", a.src(), ": no such file or directory"));
  }
  return m;
}

absl::Status CheckDestParent(const pb::FileActionCopy& a, const std::string& dest_root) {
  if (a.createdestpath()) return absl::OkStatus();
  KILN_ASSIGN_OR_RETURN(std::string p, fsutil::ResolveInRoot(dest_root, "/" + a.dest(), true));
  std::string parent = p.substr(0, p.rfind('/'));
  struct stat st;
  if (lstat(parent.empty() ? "/" : parent.c_str(), &st) != 0) {
    return absl::NotFoundError(
        absl::StrCat("copy to ", a.dest(), ": destination directory does not exist"));
  }
  return absl::OkStatus();
}

// Docker's ADD: a local tar archive is extracted into the destination
// directory instead of copied. Sets *done when `src` was such an archive.
absl::Status MaybeUnpack(CopyJob& job, const std::string& src, bool* done) {
  *done = false;
  if (!job.a.attemptunpackdockercompatibility()) return absl::OkStatus();
  KILN_ASSIGN_OR_RETURN(std::string src_host, fsutil::ResolveInRoot(job.src_root, src, true));
  if (!ops_internal::IsTarArchive(src_host)) return absl::OkStatus();
  KILN_ASSIGN_OR_RETURN(std::string dest_host,
                        fsutil::ResolveInRoot(job.dest_root, job.dest_path, true));
  KILN_RETURN_IF_ERROR(fsutil::MkdirAll(dest_host, 0755, job.owner, job.ts).status());
  *done = true;
  return ops_internal::ExtractArchive(src_host, dest_host, job.owner);
}

absl::Status Copy(const std::string& src_root, const std::string& dest_root,
                  const pb::FileActionCopy& a, const std::optional<Ownership>& owner) {
  if (fsutil::EscapesRoot(a.src())) {
    return absl::InvalidArgumentError(
        absl::StrCat("copy source ", a.src(), " is outside the build context"));
  }
  KILN_RETURN_IF_ERROR(CheckDestParent(a, dest_root));
  std::vector<std::string> include(a.include_patterns().begin(), a.include_patterns().end());
  std::vector<std::string> exclude(a.exclude_patterns().begin(), a.exclude_patterns().end());
  KILN_ASSIGN_OR_RETURN(fsutil::Filter filter, fsutil::Filter::Create(include, exclude));
  std::optional<fsutil::ModeSet> mode_set;
  if (!a.modestr().empty()) {
    KILN_ASSIGN_OR_RETURN(mode_set, fsutil::ModeSet::Parse(a.modestr()));
  }
  CopyJob job{a, src_root, dest_root, CleanKeepTrailing(a.dest())};
  job.owner = job.opt.chown = owner;
  job.ts = job.opt.mtime_ns = Timestamp(a.timestamp());
  job.opt.filter = &filter;
  job.opt.replace_existing = a.alwaysreplaceexistingdestpaths();
  if (mode_set) {
    job.opt.mode_set = &*mode_set;
  } else if (a.mode() != -1) {
    job.opt.chmod = static_cast<mode_t>(a.mode()) & 07777;
  }
  KILN_ASSIGN_OR_RETURN(auto sources, Sources(a, src_root, CleanKeepTrailing(a.src())));
  for (const std::string& s : sources) {
    bool unpacked = false;
    KILN_RETURN_IF_ERROR(MaybeUnpack(job, s, &unpacked));
    if (!unpacked) KILN_RETURN_IF_ERROR(CopyOne(job, s));
  }
  return FixCreatedDirTimes(job);
}

}  // namespace

absl::Status ApplyCopy(const std::string& src_root, const std::string& dest_root,
                       const pb::FileActionCopy& a, const std::optional<Ownership>& owner) {
  return StripRoot(StripRoot(Copy(src_root, dest_root, a, owner), src_root), dest_root);
}

}  // namespace kiln::ops
