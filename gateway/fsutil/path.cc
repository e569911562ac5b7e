#include "gateway/fsutil/path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/internal/sys.h"

namespace kiln::fsutil {
namespace {

constexpr int kMaxLinks = 255;

// Splits a clean absolute path into its components ("/a/b" -> {"a","b"}).
std::vector<std::string> Components(std::string_view clean_abs) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < clean_abs.size()) {
    while (i < clean_abs.size() && clean_abs[i] == '/') ++i;
    size_t j = i;
    while (j < clean_abs.size() && clean_abs[j] != '/') ++j;
    if (j > i) out.emplace_back(clean_abs.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

bool EscapesRoot(std::string_view rel) {
  if (!rel.empty() && rel[0] == '/') return false;
  std::string clean = CleanPath(rel);
  return clean == ".." || clean.compare(0, 3, "../") == 0;
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  bool a_slash = out.back() == '/';
  bool b_slash = b.front() == '/';
  if (a_slash && b_slash) {
    out.append(b.substr(1));
  } else if (!a_slash && !b_slash) {
    out.push_back('/');
    out.append(b);
  } else {
    out.append(b);
  }
  return out;
}

absl::StatusOr<std::string> ResolveInRootRel(const std::string& root, std::string_view path,
                                             bool follow_last) {
  std::string clean = CleanPath(absl::StrCat("/", std::string(path)));
  std::vector<std::string> todo = Components(clean);
  size_t next = 0;
  std::string resolved;  // "" or "/a/b"
  bool exists = true;
  int links = 0;
  while (next < todo.size()) {
    const std::string& comp = todo[next++];
    std::string candidate = absl::StrCat(resolved, "/", comp);
    bool last = next == todo.size();
    if (!exists || (last && !follow_last)) {
      resolved = std::move(candidate);
      continue;
    }
    std::string host = root + candidate;
    struct stat st;
    if (lstat(host.c_str(), &st) != 0) {
      if (errno != ENOENT && errno != ENOTDIR) return ErrnoToStatus(errno, "lstat", host);
      exists = false;
      resolved = std::move(candidate);
      continue;
    }
    if (!S_ISLNK(st.st_mode)) {
      resolved = std::move(candidate);
      continue;
    }
    if (++links > kMaxLinks) {
      return absl::InvalidArgumentError(
          absl::StrCat("resolving ", std::string(path), ": too many links"));
    }
    auto target = fsutil_internal::ReadLinkAt(AT_FDCWD, host.c_str(), host);
    if (!target.ok()) return target.status();
    // Re-walk from the root: the link's target (relative to the link's
    // directory, or to the root when absolute) followed by what remains.
    std::string restart =
        (!target->empty() && (*target)[0] == '/') ? *target : absl::StrCat(resolved, "/", *target);
    for (size_t k = next; k < todo.size(); ++k) absl::StrAppend(&restart, "/", todo[k]);
    todo = Components(CleanPath(absl::StrCat("/", restart)));
    next = 0;
    resolved.clear();
  }
  return resolved.empty() ? std::string("/") : resolved;
}

absl::StatusOr<std::string> ResolveInRoot(const std::string& root, std::string_view path,
                                          bool follow_last) {
  auto rel = ResolveInRootRel(root, path, follow_last);
  if (!rel.ok()) return rel.status();
  if (*rel == "/") return root;
  if (!root.empty() && root.back() == '/') return root + rel->substr(1);
  return root + *rel;
}

std::string AbsPath(const std::string& p) {
  if (!p.empty() && p[0] == '/') return p;
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return p;
  return p == "." ? std::string(cwd) : absl::StrCat(cwd, "/", p);
}

}  // namespace kiln::fsutil
