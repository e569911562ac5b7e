#include "sdk/llb/internal/go_path.h"

#include <vector>

#include "absl/strings/match.h"

namespace kiln::llb_internal {
namespace {

absl::string_view Abs(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

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
