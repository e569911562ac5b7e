// Chain: an immutable filesystem result as an ordered list of layer ids,
// bottom first. The empty chain is scratch (an empty directory).
#ifndef KILN_GATEWAY_CACHE_CHAIN_H_
#define KILN_GATEWAY_CACHE_CHAIN_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace kiln::cache {

using Chain = std::vector<std::string>;

inline std::string ChainToString(const Chain& c) { return absl::StrJoin(c, " "); }

inline Chain ChainFromString(std::string_view s) {
  return absl::StrSplit(absl::string_view(s.data(), s.size()), ' ', absl::SkipEmpty());
}

}  // namespace kiln::cache

#endif  // KILN_GATEWAY_CACHE_CHAIN_H_
