// The Dockerfile parser: turns Dockerfile text into BuildKit's low-level AST
// (frontend/dockerfile/parser), one Node per instruction, with the same
// argument shapes BuildKit produces (JSON vs shell form, ENV/LABEL key-value
// triples, HEALTHCHECK type, ONBUILD nested instruction, heredocs) and the
// same debugging dump. Variables are not expanded here; see
// frontends/dockerfile/shell for that.
//
// Parse is a pure function; results are plain values owned by the caller.
// Everything here is thread-safe.
#ifndef KILN_FRONTENDS_DOCKERFILE_PARSER_PARSER_H_
#define KILN_FRONTENDS_DOCKERFILE_PARSER_PARSER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::dockerfile {

// A here-document attached to RUN, COPY or ADD (`<<EOF`, `<<-EOF`, `<<"EOF"`).
struct Heredoc {
  std::string name;              // the delimiter word, quotes removed
  uint64_t file_descriptor = 0;  // the N in N<<EOF, 0 when absent
  bool expand = false;           // false when any part of the delimiter was quoted
  bool chomp = false;            // `<<-`: leading tabs are stripped (see ChompHeredocContent)
  std::string content;           // the body lines, newlines included
};

// One AST node. The root holds one child per instruction. An instruction node
// has `value` (the instruction as written, e.g. "RUN"), `flags` ("--from=x"),
// and its arguments in `next`; an argument node holds one string in `value`,
// except ONBUILD's single argument, whose `children` hold the nested
// instruction.
struct Node {
  std::string value;
  std::vector<Node> next;
  std::vector<Node> children;
  std::vector<Heredoc> heredocs;
  std::map<std::string, bool> attributes;  // {"json": true} for the exec form
  std::string original;                    // the logical line, continuations joined
  std::vector<std::string> flags;
  std::vector<std::string> prev_comment;  // comment lines directly above
  int start_line = 0;                     // 1-based; the root spans all instructions
  int end_line = 0;
};

// A non-fatal finding, e.g. an empty line inside a continued instruction.
struct Warning {
  std::string short_text;
  std::string detail;
  std::string url;
  int line = 0;
};

// A parser directive from the top of the file (`# syntax=...`, `# escape=`,
// `# check=...`), name lowercased.
struct Directive {
  std::string name;
  std::string value;
  int line = 0;
};

struct Result {
  Node ast;
  char escape_token = '\\';
  std::vector<Warning> warnings;
  std::vector<Directive> directives;
};

// Parses a Dockerfile. InvalidArgument "Dockerfile:LINE: message" for input
// BuildKit rejects: no instructions, a bad escape directive, a repeated
// directive, ENV/LABEL without value, a JSON array with non-strings, an
// unterminated heredoc, a line over 64 KiB. Never crashes on any input.
absl::StatusOr<Result> Parse(std::string_view dockerfile);

// The AST as BuildKit's Node.Dump prints it: one `(instruction ["flags"]
// "arg" ...)` per line for the root, Go-quoted strings, no trailing newline.
std::string Dump(const Node& node);
inline std::string Dump(const Result& result) { return Dump(result.ast); }

// The heredoc that a word such as "<<EOF", "<<-'EOF'" or "3<<EOF" starts
// (content empty), or nullopt when the word starts none; the converter uses
// it on COPY/ADD sources. InvalidArgument when the delimiter does not lex.
absl::StatusOr<std::optional<Heredoc>> ParseHeredoc(std::string_view word);

// A directive found by DetectSyntax / FindDirective.
struct DirectiveMatch {
  std::string ref;      // the value up to the first space ("docker/dockerfile:1")
  std::string cmdline;  // the whole value
  int line = 0;         // 1-based; for the JSON form, 1 after a shebang else 0
};

// BuildKit's DetectSyntax: the `syntax` directive of a file in any of the
// formats BuildKit frontends accept: `# syntax=...` (also after a leading
// BOM and a `#!` line), `// syntax=...`, or a JSON object {"syntax": "..."}.
// nullopt when there is none.
std::optional<DirectiveMatch> DetectSyntax(std::string_view dockerfile);

// BuildKit's ParseDirective: the `# key=value` directive (syntax, escape or
// check), nullopt when absent.
std::optional<DirectiveMatch> FindDirective(std::string_view key, std::string_view dockerfile);

// Removes leading tabs from every line of a `<<-` heredoc body.
std::string ChompHeredocContent(std::string_view content);

}  // namespace kiln::dockerfile

#endif  // KILN_FRONTENDS_DOCKERFILE_PARSER_PARSER_H_
