// The exec-form check of BuildKit's parser: Go's encoding/json decoding of
// the argument text into []any, then "is every element a string".
#ifndef KILN_FRONTENDS_DOCKERFILE_PARSER_JSON_ARRAY_H_
#define KILN_FRONTENDS_DOCKERFILE_PARSER_JSON_ARRAY_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::dockerfile::parser_internal {

enum class JsonArrayKind {
  kNotJson,     // not a complete JSON array: the shell form applies
  kNotStrings,  // valid JSON array with a non-string element: an error
  kStrings,     // valid array of strings, decoded into the output
};

// Classifies `text` (leading whitespace allowed) and, for kStrings, decodes
// the elements as Go does (invalid UTF-8 and lone surrogates become U+FFFD).
JsonArrayKind ParseJsonArray(std::string_view text, std::vector<std::string>* out);

// Parses `text` as one JSON object (Go's json.Unmarshal into map[string]any)
// and maps each key to its string value, or nullopt for non-string values.
// False when `text` is not a JSON object.
bool ParseJsonObjectStrings(std::string_view text,
                            std::map<std::string, std::optional<std::string>>* out);

}  // namespace kiln::dockerfile::parser_internal

#endif  // KILN_FRONTENDS_DOCKERFILE_PARSER_JSON_ARRAY_H_
