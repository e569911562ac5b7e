// Per-instruction argument parsing: the dispatch table of BuildKit's parser
// (which instructions take strings, JSON-or-string, name=value pairs, ...)
// and the splitting of a logical line into instruction, flags and arguments.
#ifndef KILN_FRONTENDS_DOCKERFILE_PARSER_LINE_PARSERS_H_
#define KILN_FRONTENDS_DOCKERFILE_PARSER_LINE_PARSERS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "frontends/dockerfile/parser/parser.h"

namespace kiln::dockerfile::parser_internal {

// Builds the node for one logical line (no line numbers set). `escape` is the
// current escape token; `depth` the number of enclosing ONBUILDs.
// InvalidArgument with a bare message (no location) on bad arguments.
absl::StatusOr<Node> NewNodeFromLine(std::string_view line, char escape, int depth = 0);

// Splits words on whitespace, keeping quotes and escapes (ENV/LABEL/ARG).
std::vector<std::string> ParseWords(std::string_view rest, char escape);

// Removes leading --flags from `line`; returns the rest, flags in `flags`.
std::string ExtractBuilderFlags(std::string_view line, char escape,
                                std::vector<std::string>* flags);

// True when a RUN/COPY/ADD node (or ONBUILD wrapping one) in shell form may
// carry heredocs.
bool CanContainHeredoc(const Node& node);

}  // namespace kiln::dockerfile::parser_internal

#endif  // KILN_FRONTENDS_DOCKERFILE_PARSER_LINE_PARSERS_H_
