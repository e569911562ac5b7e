#include "gateway/ops/file/internal/common.h"

#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_replace.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/path.h"

namespace kiln::ops_internal {

absl::Status StripRoot(absl::Status s, const std::string& root) {
  if (s.ok()) return s;
  std::string r = root;
  while (r.size() > 1 && r.back() == '/') r.pop_back();
  if (r.empty() || r == "/") return s;
  std::string msg(s.message());
  msg = absl::StrReplaceAll(msg, {{r + "/", "/"}});
  // The root itself, where a separator or the end follows.
  std::string out;
  size_t i = 0;
  for (size_t at = msg.find(r); at != std::string::npos; at = msg.find(r, i)) {
    size_t end = at + r.size();
    bool boundary = end == msg.size() || msg[end] == ':' || msg[end] == ' ';
    out.append(msg, i, at - i);
    out += boundary ? "/" : r;
    i = end;
  }
  out.append(msg, i, std::string::npos);
  return absl::Status(s.code(), out);
}

std::string CleanKeepTrailing(std::string_view p) {
  std::string clean = fsutil::CleanPath(std::string("/") + std::string(p));
  auto ends = [&](std::string_view suffix) {
    return p.size() >= suffix.size() && p.substr(p.size() - suffix.size()) == suffix;
  };
  if (ends("/.")) {
    if (clean != "/") clean += "/";
    clean += ".";
  } else if (ends("/") && clean != "/") {
    clean += "/";
  }
  return clean;
}

absl::Status ChownAndTime(const std::string& path, const std::optional<fsutil::Ownership>& owner,
                          std::optional<int64_t> ts) {
  if (owner && lchown(path.c_str(), owner->uid, owner->gid) != 0) {
    return fsutil::ErrnoToStatus(errno, "chown", path);
  }
  if (ts) return fsutil::SetTimes(path, *ts, *ts);
  return absl::OkStatus();
}

}  // namespace kiln::ops_internal
