// Parser directives (`# syntax=`, `# escape=`, `# check=`): recognised only
// in the leading run of comment lines, each at most once, like BuildKit.
#ifndef KILN_FRONTENDS_DOCKERFILE_PARSER_DIRECTIVES_H_
#define KILN_FRONTENDS_DOCKERFILE_PARSER_DIRECTIVES_H_

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "frontends/dockerfile/parser/parser.h"

namespace kiln::dockerfile::parser_internal {

// Fed every logical-line candidate in order; stops looking after the first
// line that is not a directive. Not thread-safe.
class DirectiveParser {
 public:
  // `comment` is the prefix directives start with ("#", or "//" when
  // detecting the syntax of other formats); `first_line` is the number of
  // lines already skipped (a shebang).
  explicit DirectiveParser(std::string comment = "#", int first_line = 0)
      : comment_(std::move(comment)), line_(first_line) {}

  // The directive on `line` (newline already trimmed), nullopt when it is
  // none. InvalidArgument "only one X parser directive can be used" on a
  // repeat.
  absl::StatusOr<std::optional<Directive>> ParseLine(std::string_view line);

  // True once a line ended the directive block.
  bool done() const { return done_; }

 private:
  std::string comment_;
  int line_ = 0;
  bool done_ = false;
  std::set<std::string> seen_;
};

}  // namespace kiln::dockerfile::parser_internal

#endif  // KILN_FRONTENDS_DOCKERFILE_PARSER_DIRECTIVES_H_
