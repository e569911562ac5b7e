#include "sdk/base/path.h"

namespace kiln {

std::string CleanPath(std::string_view path) {
  if (path.empty()) return ".";
  const bool rooted = path[0] == '/';
  std::string out;
  out.reserve(path.size());
  if (rooted) out.push_back('/');
  // `floor` is where ".." may no longer remove elements.
  size_t floor = out.size();
  size_t i = 0;
  const size_t n = path.size();
  while (i < n) {
    if (path[i] == '/') {
      ++i;
    } else if (path[i] == '.' && (i + 1 == n || path[i + 1] == '/')) {
      ++i;
    } else if (path[i] == '.' && path[i + 1] == '.' && (i + 2 == n || path[i + 2] == '/')) {
      i += 2;
      if (out.size() > floor) {
        size_t cut = out.size() - 1;
        while (cut > floor && out[cut] != '/') --cut;
        out.resize(cut);
      } else if (!rooted) {
        if (!out.empty()) out.push_back('/');
        out += "..";
        floor = out.size();
      }
    } else {
      if ((rooted && out.size() != 1) || (!rooted && !out.empty())) out.push_back('/');
      while (i < n && path[i] != '/') out.push_back(path[i++]);
    }
  }
  if (out.empty()) return ".";
  return out;
}

}  // namespace kiln
