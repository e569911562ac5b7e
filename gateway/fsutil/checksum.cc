#include "gateway/fsutil/checksum.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <optional>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/filter.h"
#include "gateway/fsutil/internal/sys.h"
#include "gateway/fsutil/path.h"
#include "gateway/fsutil/walk.h"
#include "gateway/fsutil/wildcard.h"
#include "sdk/base/digest.h"

namespace kiln::fsutil {
namespace {

using fsutil_internal::HashEntry;
using fsutil_internal::HashFile;
using fsutil_internal::ListXattrs;
using fsutil_internal::ReadLinkAt;
using fsutil_internal::Xattrs;

absl::Status HashOne(Sha256& h, const std::string& host, std::string_view rel,
                     const struct stat& st, std::string_view link_target,
                     const ChecksumOptions& opt) {
  std::string content;
  if (S_ISREG(st.st_mode)) {
    auto hex = HashFile(host);
    if (!hex.ok()) return hex.status();
    content = *std::move(hex);
  }
  std::optional<Xattrs> xattrs;
  if (opt.include_xattrs) {
    auto x = ListXattrs(host);
    if (!x.ok()) return x.status();
    xattrs = *std::move(x);
  }
  HashEntry(h, rel, st, link_target, content, xattrs ? &*xattrs : nullptr);
  return absl::OkStatus();
}

// Feeds the path `rel_in_root` and everything below it to `h`.
absl::Status HashPath(Sha256& h, const std::string& root, std::string_view rel_in_root,
                      const Filter* filter, const ChecksumOptions& opt) {
  auto host = ResolveInRoot(root, rel_in_root, opt.follow_symlinks);
  if (!host.ok()) return host.status();
  struct stat st;
  if (lstat(host->c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return absl::NotFoundError(
          absl::StrCat("checksum ", std::string(rel_in_root), ": no such file or directory"));
    }
    return ErrnoToStatus(errno, "lstat", *host);
  }
  std::string target;
  if (S_ISLNK(st.st_mode)) {
    auto t = ReadLinkAt(AT_FDCWD, host->c_str(), *host);
    if (!t.ok()) return t.status();
    target = *std::move(t);
  }
  absl::Status s = HashOne(h, *host, "", st, target, opt);
  if (!s.ok() || !S_ISDIR(st.st_mode)) return s;
  const std::string& dir = *host;
  return Walk(dir, filter, [&](const Entry& e) {
    return HashOne(h, JoinPath(dir, e.rel), e.rel, e.st, e.link_target, opt);
  });
}

}  // namespace

absl::StatusOr<std::string> Checksum(const std::string& root, std::string_view path,
                                     const ChecksumOptions& opt) {
  auto filter = Filter::Create(opt.include_patterns, opt.exclude_patterns);
  if (!filter.ok()) return filter.status();
  Sha256 h;
  if (!opt.wildcard || !ContainsWildcards(path)) {
    absl::Status s = HashPath(h, root, path, &*filter, opt);
    if (!s.ok()) return s;
    return h.Digest();
  }
  auto matches = ResolveWildcards(root, path, opt.follow_symlinks);
  if (!matches.ok()) return matches.status();
  if (matches->empty()) {
    return absl::NotFoundError(absl::StrCat("checksum ", std::string(path), ": no matches"));
  }
  for (const std::string& m : *matches) {
    Sha256 one;
    absl::Status s = HashPath(one, root, m, &*filter, opt);
    if (!s.ok()) return s;
    h.UpdateField(m);
    h.UpdateField(one.HexDigest());
  }
  return h.Digest();
}

}  // namespace kiln::fsutil
