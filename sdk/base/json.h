// Minimal JSON for the places kiln meets it without a JSON library: LLB
// attrs that hold a JSON array of strings ("local.includepattern"), written
// byte-for-byte as Go writes them, and the one-line JSON progress events.
#ifndef KILN_SDK_BASE_JSON_H_
#define KILN_SDK_BASE_JSON_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln {

// `s` as a quoted JSON string, escaped exactly as Go's encoding/json does:
// control characters, the HTML-sensitive <, > and &, U+2028 and U+2029 as
// \u escapes, invalid UTF-8 as \ufffd. Exactness matters: BuildKit clients
// put such JSON into LLB attrs, so the bytes end up in op digests.
std::string JsonQuote(std::string_view s);

// Parses a JSON array of strings ("[\"a\",\"b\"]"). `null` and "" give an
// empty list. InvalidArgument naming the offset on anything else.
absl::StatusOr<std::vector<std::string>> ParseJsonStringArray(std::string_view json);

// Encodes a list as a JSON array of strings.
std::string JsonStringArray(const std::vector<std::string>& items);

}  // namespace kiln

#endif  // KILN_SDK_BASE_JSON_H_
