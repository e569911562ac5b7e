#include "gateway/ops/file/chown.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/path.h"
#include "sdk/base/status_macros.h"

namespace kiln::ops {
namespace {

constexpr int64_t kMaxUserFileBytes = 10 << 20;

// The content of `path` inside `root`, or nullopt when it does not exist.
absl::StatusOr<std::optional<std::string>> ReadUserFile(const std::string& root,
                                                        const std::string& path) {
  KILN_ASSIGN_OR_RETURN(std::string host, fsutil::ResolveInRoot(root, path, true));
  int fd = open(host.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>();
    return fsutil::ErrnoToStatus(errno, "open", path);
  }
  struct stat st;
  std::string data;
  absl::Status s;
  if (fstat(fd, &st) != 0) {
    s = fsutil::ErrnoToStatus(errno, "stat", path);
  } else if (!S_ISREG(st.st_mode)) {
    s = absl::InvalidArgumentError(absl::StrCat(path, " is not a regular file"));
  } else if (st.st_size > kMaxUserFileBytes) {
    s = absl::InvalidArgumentError(absl::StrCat(path, " exceeds ", kMaxUserFileBytes, " bytes"));
  } else {
    data.resize(st.st_size);
    size_t off = 0;
    while (s.ok() && off < data.size()) {
      ssize_t n = read(fd, data.data() + off, data.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) s = fsutil::ErrnoToStatus(errno, "read", path);
      if (n <= 0) break;
      off += n;
    }
    data.resize(off);
  }
  close(fd);
  if (!s.ok()) return s;
  return std::optional<std::string>(std::move(data));
}

// Finds `name` in colon-separated `content` (passwd or group format) and
// returns the numeric fields at `first` and, if `second` >= 0, `second`.
// Unparsable numbers read as 0, like moby/sys/user.
std::optional<std::pair<uint32_t, uint32_t>> FindEntry(std::string_view content,
                                                       std::string_view name, int first,
                                                       int second) {
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(content.data(), content.size()), '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    std::vector<absl::string_view> f = absl::StrSplit(line, ':');
    if (f[0] != absl::string_view(name.data(), name.size())) continue;
    uint32_t a = 0, b = 0;
    if (static_cast<int>(f.size()) > first && !absl::SimpleAtoi(f[first], &a)) a = 0;
    if (second >= 0 && static_cast<int>(f.size()) > second && !absl::SimpleAtoi(f[second], &b)) {
      b = 0;
    }
    return std::make_pair(a, b);
  }
  return std::nullopt;
}

absl::StatusOr<std::string> RootFor(const pb::NamedUserOpt& n, const InputRootFn& root_of_input,
                                    const std::string& dest_root) {
  if (n.input() == -1) return dest_root;
  if (n.input() < -1) {
    return absl::InvalidArgumentError(absl::StrCat("invalid user index ", n.input()));
  }
  return root_of_input(n.input());
}

}  // namespace

absl::StatusOr<std::optional<Ownership>> ResolveChown(const pb::ChownOpt* opt,
                                                      const InputRootFn& root_of_input,
                                                      const std::string& dest_root) {
  if (opt == nullptr) return std::optional<Ownership>();
  Ownership o;
  if (opt->has_user()) {
    const pb::UserOpt& u = opt->user();
    if (u.has_byname()) {
      KILN_ASSIGN_OR_RETURN(std::string root, RootFor(u.byname(), root_of_input, dest_root));
      KILN_ASSIGN_OR_RETURN(auto passwd, ReadUserFile(root, "/etc/passwd"));
      auto e = passwd ? FindEntry(*passwd, u.byname().name(), 2, 3) : std::nullopt;
      if (!e) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown user ", u.byname().name(), " in /etc/passwd"));
      }
      o.uid = e->first;
      o.gid = e->second;
    } else if (u.user_case() == pb::UserOpt::kByID) {
      o.uid = o.gid = u.byid();
    }
  }
  if (opt->has_group()) {
    const pb::UserOpt& g = opt->group();
    if (g.has_byname()) {
      KILN_ASSIGN_OR_RETURN(std::string root, RootFor(g.byname(), root_of_input, dest_root));
      KILN_ASSIGN_OR_RETURN(auto group, ReadUserFile(root, "/etc/group"));
      auto e = group ? FindEntry(*group, g.byname().name(), 2, -1) : std::nullopt;
      if (!e) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown group ", g.byname().name(), " in /etc/group"));
      }
      o.gid = e->first;
    } else if (g.user_case() == pb::UserOpt::kByID) {
      o.gid = g.byid();
    }
  }
  return std::optional<Ownership>(o);
}

}  // namespace kiln::ops
