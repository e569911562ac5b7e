#include "gateway/exporter/internal/tree_walk.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sdk/base/status_macros.h"

namespace kiln::exporter_internal {
namespace {

absl::StatusOr<std::vector<std::string>> SortedNames(const std::string& dir) {
  DIR* d = ::opendir(dir.empty() ? "/" : dir.c_str());  // "" is the root "/"
  if (d == nullptr) return ErrnoError("cannot open directory", dir);
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* de = ::readdir(d)) {
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
      names.emplace_back(de->d_name);
    }
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) {
    errno = err;
    return ErrnoError("cannot read directory", dir);
  }
  std::sort(names.begin(), names.end());  // byte order, like Go's sort.Strings
  return names;
}

absl::StatusOr<std::string> ReadLink(const std::string& path, size_t size_hint) {
  std::string buf(size_hint + 1, '\0');
  for (;;) {
    ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
    if (n < 0) return ErrnoError("cannot read symlink", path);
    if (static_cast<size_t>(n) < buf.size()) return buf.substr(0, n);
    buf.resize(buf.size() * 2);
  }
}

class Walker {
 public:
  Walker(TreeVisitor& v, const WalkOptions& opts) : v_(v), opts_(opts) {}

  absl::Status WalkDir(const std::string& full, const std::string& rel) {
    KILN_ASSIGN_OR_RETURN(std::vector<std::string> names, SortedNames(full));
    for (const std::string& name : names) {
      TreeEntry e;
      e.path = rel.empty() ? name : absl::StrCat(rel, "/", name);
      e.full_path = absl::StrCat(full, "/", name);
      if (::lstat(e.full_path.c_str(), &e.st) != 0) {
        if (errno == ENOENT) continue;  // removed since listed, as fsutil skips
        return ErrnoError("cannot stat", e.full_path);
      }
      if (opts_.skip == std::make_pair(e.st.st_dev, e.st.st_ino)) continue;
      KILN_RETURN_IF_ERROR(Describe(e));
      KILN_RETURN_IF_ERROR(v_.Enter(e));
      if (S_ISDIR(e.st.st_mode)) {
        KILN_RETURN_IF_ERROR(WalkDir(e.full_path, e.path));
        KILN_RETURN_IF_ERROR(v_.Leave(e));
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Describe(TreeEntry& e) {
    if (S_ISLNK(e.st.st_mode)) {
      KILN_ASSIGN_OR_RETURN(e.symlink_target, ReadLink(e.full_path, e.st.st_size));
    }
    // Hard-linked symlinks stay symlinks, as fsutil's readlink overrides
    // the link name it records for them.
    if (!S_ISDIR(e.st.st_mode) && !S_ISLNK(e.st.st_mode) && e.st.st_nlink > 1) {
      auto [it, inserted] = first_path_.try_emplace({e.st.st_dev, e.st.st_ino}, e.path);
      if (!inserted) e.hardlink_to = it->second;
    }
    return ReadXattrs(e.full_path, &e.xattrs);
  }

  TreeVisitor& v_;
  const WalkOptions& opts_;
  std::map<std::pair<dev_t, ino_t>, std::string> first_path_;
};

}  // namespace

absl::Status ErrnoError(const std::string& what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", strerror(errno)));
}

bool KeepXattr(const std::string& name) {
  if (absl::StartsWith(name, "trusted.overlay.")) return false;
  if (absl::StartsWith(name, "security.")) return name == "security.capability";
  return true;
}

absl::Status ReadXattrs(const std::string& path,
                        std::vector<std::pair<std::string, std::string>>* out) {
  out->clear();
  std::string names(256, '\0');
  ssize_t n;
  while ((n = ::llistxattr(path.c_str(), names.data(), names.size())) < 0 && errno == ERANGE) {
    names.resize(names.size() * 4);
  }
  if (n < 0) {
    if (errno == ENOTSUP || errno == ENODATA) return absl::OkStatus();
    return ErrnoError("cannot list xattrs of", path);
  }
  for (size_t pos = 0; pos < static_cast<size_t>(n);) {
    std::string name(names.c_str() + pos);
    pos += name.size() + 1;
    if (!KeepXattr(name)) continue;
    std::string value(256, '\0');
    ssize_t len;
    while ((len = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size())) < 0 &&
           errno == ERANGE) {
      value.resize(value.size() * 4);
    }
    if (len < 0) {
      if (errno == ENODATA) continue;  // removed meanwhile
      return ErrnoError(absl::StrCat("cannot read xattr ", name, " of"), path);
    }
    value.resize(len);
    out->emplace_back(std::move(name), std::move(value));
  }
  std::sort(out->begin(), out->end());
  return absl::OkStatus();
}

absl::Status WalkTree(const std::string& root, TreeVisitor& v, const WalkOptions& opts) {
  struct stat st;
  if (::stat(root.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return absl::NotFoundError(absl::StrCat("export: no such directory ", root));
    return ErrnoError("cannot stat", root);
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("export: ", root, " is not a directory"));
  }
  std::string dir = root;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  Walker w(v, opts);
  return w.WalkDir(dir == "/" ? "" : dir, "");
}

}  // namespace kiln::exporter_internal
