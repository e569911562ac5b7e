// Minimal JSON for the two places kiln meets it without a JSON library:
// BuildKit's LLB attrs that hold a JSON array of strings
// ("local.includepattern") and the one-line JSON progress events.
#ifndef KILN_SDK_BASE_JSON_H_
#define KILN_SDK_BASE_JSON_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln {

// `s` as a quoted JSON string, with control characters and invalid UTF-8
// escaped (\u00XX per byte), so any bytes give valid JSON.
std::string JsonQuote(std::string_view s);

// Parses a JSON array of strings ("[\"a\",\"b\"]"). `null` and "" give an
// empty list. InvalidArgument naming the offset on anything else.
absl::StatusOr<std::vector<std::string>> ParseJsonStringArray(std::string_view json);

// Encodes a list as a JSON array of strings.
std::string JsonStringArray(const std::vector<std::string>& items);

}  // namespace kiln

#endif  // KILN_SDK_BASE_JSON_H_
