#include "sdk/llb/internal/go_path.h"

#include <vector>

#include "absl/strings/match.h"

namespace kiln::llb_internal {
namespace {

absl::string_view Abs(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

std::string CleanPath(std::string_view path) {
  if (path.empty()) return ".";
  const bool rooted = path[0] == '/';
  // Elements kept so far; ".." entries only survive at the front of a
  // relative path, where there is nothing left to cancel.
  std::vector<std::string_view> kept;
  size_t leading_dotdots = 0;
  size_t i = 0;
  while (i < path.size()) {
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    std::string_view elem = path.substr(i, end - i);
    i = end + 1;
    if (elem.empty() || elem == ".") continue;
    if (elem == "..") {
      if (kept.size() > leading_dotdots) {
        kept.pop_back();
      } else if (!rooted) {
        kept.push_back(elem);
        ++leading_dotdots;
      }
      continue;
    }
    kept.push_back(elem);
  }
  std::string out = rooted ? "/" : "";
  for (size_t k = 0; k < kept.size(); ++k) {
    if (k > 0) out += '/';
    out.append(kept[k].data(), kept[k].size());
  }
  return out.empty() ? "." : out;
}

std::string JoinPath(std::initializer_list<std::string_view> elems) {
  std::string joined;
  bool any = false;
  for (std::string_view e : elems) {
    if (e.empty()) continue;
    if (any) joined += '/';
    joined.append(e.data(), e.size());
    any = true;
  }
  return any ? CleanPath(joined) : std::string();
}

std::string NormalizeActionPath(std::string_view parent, std::string_view path, bool keep_slash) {
  std::string p = CleanPath(path);
  if (!IsAbsPath(p)) p = JoinPath({"/", parent, p});
  if (keep_slash) {
    if (absl::EndsWith(Abs(path), "/") && !absl::EndsWith(p, "/")) {
      p += '/';
    } else if (absl::EndsWith(Abs(path), "/.")) {
      if (p != "/") p += '/';
      p += '.';
    }
  }
  return p;
}

}  // namespace kiln::llb_internal
