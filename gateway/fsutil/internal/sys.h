// Small system-call helpers shared by the fsutil sources. Not a public API.
#ifndef KILN_GATEWAY_FSUTIL_INTERNAL_SYS_H_
#define KILN_GATEWAY_FSUTIL_INTERNAL_SYS_H_

#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "sdk/base/digest.h"
#include "sdk/base/utf8.h"

namespace kiln::fsutil_internal {

// Owns a file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

using Xattrs = std::vector<std::pair<std::string, std::string>>;

// readlinkat(dirfd, name); `path` names the link in errors.
absl::StatusOr<std::string> ReadLinkAt(int dirfd, const char* name, std::string_view path);

// Sorted names of the entries of the open directory `fd` (without "." and
// ".."). Does not consume `fd`.
absl::StatusOr<std::vector<std::string>> ListDir(int fd, std::string_view path);

// Hex sha256 of everything readable from `fd`.
absl::StatusOr<std::string> HashFd(int fd, std::string_view path);
// Opens `path` (not following a final symlink) and hashes it.
absl::StatusOr<std::string> HashFile(const std::string& path);

// The extended attributes of `path` (not following symlinks), sorted by
// name. Filesystems without xattr support give an empty list.
absl::StatusOr<Xattrs> ListXattrs(const std::string& path);

// One character per file type: d - l c b p s, '?' otherwise.
char TypeChar(mode_t mode);

// Feeds the content-relevant metadata of one entry to `h`: name, type,
// permission and set-id/sticky bits, owner, and the type's payload (size and
// content digest, link target, device numbers). Never the times.
void HashEntry(Sha256& h, std::string_view rel, const struct stat& st, std::string_view link_target,
               std::string_view content_hex, const Xattrs* xattrs);

inline bool HasPrefix(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}
inline bool HasSuffix(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

using ::kiln::Utf8Length;

// Opens the directory `path` and lists it like ListDir.
absl::StatusOr<std::vector<std::string>> ListDirPath(const std::string& path);

// Nanoseconds since the epoch of a timespec.
inline int64_t Nanos(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace kiln::fsutil_internal

#endif  // KILN_GATEWAY_FSUTIL_INTERNAL_SYS_H_
