#include "gateway/ops/exec/internal/user.h"

#include <cerrno>
#include <fstream>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/path.h"
#include "sdk/base/status_macros.h"

namespace kiln::exec_internal {
namespace {

// One line of passwd or group: name, id, and (group only) the member list.
struct Entry {
  std::string name;
  uint32_t id = 0;
  uint32_t gid = 0;  // passwd only
  std::vector<std::string> members;
};

std::optional<uint32_t> ParseId(std::string_view s) {
  if (s == "root") return 0;
  uint32_t id = 0;
  if (s.empty() || !absl::SimpleAtoi(absl::string_view(s.data(), s.size()), &id)) {
    return std::nullopt;
  }
  return id;
}

// Parses name:x:id:... lines; malformed lines are skipped like runc does.
// A missing file is an empty database: numeric ids still work without one.
absl::StatusOr<std::vector<Entry>> ReadDb(const std::string& rootfs, const char* path,
                                          bool passwd) {
  KILN_ASSIGN_OR_RETURN(std::string host, fsutil::ResolveInRoot(rootfs, path, true));
  std::ifstream in(host);
  std::vector<Entry> out;
  if (!in) {
    if (errno == ENOENT || errno == ENOTDIR) return out;
    return fsutil::ErrnoToStatus(errno, "open", host);
  }
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, ':');
    Entry e;
    if (f.size() < (passwd ? 4u : 3u) || f[0].empty()) continue;
    if (!absl::SimpleAtoi(f[2], &e.id)) continue;
    if (passwd && !absl::SimpleAtoi(f[3], &e.gid)) continue;
    if (!passwd && f.size() > 3 && !f[3].empty()) e.members = absl::StrSplit(f[3], ',');
    e.name = f[0];
    out.push_back(std::move(e));
  }
  return out;
}

const Entry* Find(const std::vector<Entry>& db, std::string_view key) {
  std::optional<uint32_t> id = ParseId(key);
  for (const Entry& e : db) {
    if (e.name == key || (id && e.id == *id)) return &e;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<User> ResolveUser(const std::string& rootfs, std::string_view user) {
  User out;
  if (user.empty()) return out;
  size_t colon = user.find(':');
  std::string_view name = user.substr(0, colon);
  std::optional<std::string_view> group;
  if (colon != std::string_view::npos) group = user.substr(colon + 1);
  if (group) {
    std::optional<uint32_t> uid = ParseId(name), gid = ParseId(*group);
    if (uid && gid) return User{*uid, *gid, {}};
  }
  KILN_ASSIGN_OR_RETURN(std::vector<Entry> passwd, ReadDb(rootfs, "/etc/passwd", true));
  KILN_ASSIGN_OR_RETURN(std::vector<Entry> groups, ReadDb(rootfs, "/etc/group", false));
  const Entry* pw = Find(passwd, name);
  if (pw != nullptr) {
    out.uid = pw->id;
    out.gid = pw->gid;
  } else if (std::optional<uint32_t> uid = ParseId(name)) {
    out.uid = *uid;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown user ", std::string(name)));
  }
  if (group) {
    if (const Entry* g = Find(groups, *group)) {
      out.gid = g->id;
    } else if (std::optional<uint32_t> gid = ParseId(*group)) {
      out.gid = *gid;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown group ", std::string(*group)));
    }
    return out;
  }
  // Supplementary groups come only with the implicit form, as in runc.
  if (pw == nullptr) return out;
  for (const Entry& g : groups) {
    for (const std::string& m : g.members) {
      if (m == pw->name) out.additional_gids.push_back(g.id);
    }
  }
  return out;
}

}  // namespace kiln::exec_internal
