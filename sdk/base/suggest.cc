#include "sdk/base/suggest.h"

#include <algorithm>

#include "absl/strings/ascii.h"

namespace kiln {

std::string Suggest(std::string_view word, const std::vector<std::string>& options) {
  std::string w = absl::AsciiStrToLower(absl::string_view(word.data(), word.size()));
  std::string best;
  size_t best_d = 3;  // at most two edits away
  for (const std::string& o : options) {
    std::string l = absl::AsciiStrToLower(o);
    // Edit distance with adjacent transpositions ("rnu" is one edit from
    // "run"): optimal string alignment, three rows.
    std::vector<size_t> before(l.size() + 1), prev(l.size() + 1), cur(l.size() + 1);
    for (size_t j = 0; j <= l.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= w.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= l.size(); ++j) {
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (w[i - 1] != l[j - 1])});
        if (i > 1 && j > 1 && w[i - 1] == l[j - 2] && w[i - 2] == l[j - 1]) {
          cur[j] = std::min(cur[j], before[j - 2] + 1);
        }
      }
      std::swap(before, prev);
      std::swap(prev, cur);
    }
    if (prev[l.size()] < best_d) {
      best_d = prev[l.size()];
      best = o;
    }
  }
  return best;
}

}  // namespace kiln
