// Shell patterns (* ? and \-escapes, no brackets) for ${VAR#pat}, ${VAR%pat}
// and ${VAR/pat/repl}, matched the way BuildKit does: converted to a regular
// expression with Go's leftmost-first semantics (RE2 has the same).
#ifndef KILN_FRONTENDS_DOCKERFILE_SHELL_PATTERN_H_
#define KILN_FRONTENDS_DOCKERFILE_SHELL_PATTERN_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kiln::dockerfile::shell_internal {

// The regular expression for `pattern`; `greedy` picks .* over .*? for `*`.
// InvalidArgument "invalid escape '\x'" for an escape other than \* \? \\.
absl::StatusOr<std::string> ShellPatternToRegex(std::string_view pattern, bool greedy,
                                                bool anchored);

// ${value#pattern} (shortest) or ${value##pattern} (greedy).
absl::StatusOr<std::string> TrimPrefix(std::string_view pattern, std::string_view value,
                                       bool greedy);

// ${value%pattern} (shortest) or ${value%%pattern} (greedy).
absl::StatusOr<std::string> TrimSuffix(std::string_view pattern, std::string_view value,
                                       bool greedy);

// ${value/pattern/replacement} or, with `all`, ${value//pattern/replacement}.
// Like BuildKit, only the replace-all form expands $0-style references in
// `replacement` (Go's Regexp.ReplaceAllString).
absl::StatusOr<std::string> Replace(std::string_view pattern, std::string_view replacement,
                                    std::string_view value, bool all);

// Reverses a pattern while keeping each \x escape in order (a\*c -> c\*a).
std::string ReversePattern(std::string_view pattern);

}  // namespace kiln::dockerfile::shell_internal

#endif  // KILN_FRONTENDS_DOCKERFILE_SHELL_PATTERN_H_
