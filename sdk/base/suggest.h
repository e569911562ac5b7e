// "Did you mean" help for frontends' error messages.
//
//   std::string s = kiln::Suggest("wrokdir", {"workdir", "user", "env"});  // "workdir"
#ifndef KILN_SDK_BASE_SUGGEST_H_
#define KILN_SDK_BASE_SUGGEST_H_

#include <string>
#include <string_view>
#include <vector>

namespace kiln {

// The option closest to `word` (case-insensitive edit distance where
// swapping two neighbouring letters is one edit; at most two edits; the
// first such option on a tie), or "" when none is close.
std::string Suggest(std::string_view word, const std::vector<std::string>& options);

}  // namespace kiln

#endif  // KILN_SDK_BASE_SUGGEST_H_
