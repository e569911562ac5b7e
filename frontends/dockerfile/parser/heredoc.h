// Heredoc delimiters on a RUN/COPY/ADD line, found with BuildKit's rules:
// words of the line (raw lexing) that match `N<<[-]WORD`.
#ifndef KILN_FRONTENDS_DOCKERFILE_PARSER_HEREDOC_H_
#define KILN_FRONTENDS_DOCKERFILE_PARSER_HEREDOC_H_

#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "frontends/dockerfile/parser/parser.h"

namespace kiln::dockerfile::parser_internal {

// The heredoc `word` starts, nullopt when it starts none. InvalidArgument
// when the delimiter does not lex (e.g. an unterminated quote).
absl::StatusOr<std::optional<Heredoc>> ParseHeredoc(std::string_view word);

// All heredocs started on `line`, in order, with empty content.
absl::StatusOr<std::vector<Heredoc>> HeredocsFromLine(std::string_view line);

}  // namespace kiln::dockerfile::parser_internal

#endif  // KILN_FRONTENDS_DOCKERFILE_PARSER_HEREDOC_H_
