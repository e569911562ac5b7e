// Lex expands variables in, and splits, Dockerfile words with BuildKit's shell
// rules (frontend/dockerfile/shell): quotes, the escape token (\ or `), $VAR,
// ${VAR}, ${VAR:-x} ${VAR-x} ${VAR:+x} ${VAR+x} ${VAR:?msg} ${VAR?msg},
// ${VAR#pat} ${VAR##pat} ${VAR%pat} ${VAR%%pat}, ${VAR/a/b} ${VAR//a/b}.
// BuildKit's quirks are kept on purpose, since the results land in LLB
// digests; e.g. in ProcessWords a ${VAR:-x} form drops any part of the word
// that came before it (BuildKit shares one word buffer with the nested scan).
//
// A Lex holds only options; its const methods are thread-safe.
#ifndef KILN_FRONTENDS_DOCKERFILE_SHELL_LEX_H_
#define KILN_FRONTENDS_DOCKERFILE_SHELL_LEX_H_

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "frontends/dockerfile/shell/env.h"

namespace kiln::dockerfile::shell {

// Everything one expansion produced.
struct ProcessResult {
  std::string result;               // the expanded word, spaces kept
  std::vector<std::string> words;   // the expansion split into words
  std::set<std::string> matched;    // variables looked up and found
  std::set<std::string> unmatched;  // variables looked up and not set
};

class Lex {
 public:
  explicit Lex(char escape = '\\') : escape_(static_cast<unsigned char>(escape)) {}

  // Keep quote characters in the output (used for heredoc detection and the
  // "only set env" mode of BuildKit's tests).
  void set_raw_quotes(bool v) { raw_quotes_ = v; }
  // Keep escape tokens in the output.
  void set_raw_escapes(bool v) { raw_escapes_ = v; }
  // Treat quotes as ordinary characters.
  void set_skip_process_quotes(bool v) { skip_process_quotes_ = v; }
  // Leave references to unset variables as written ($X, ${X:-y}, ...).
  void set_skip_unset_env(bool v) { skip_unset_env_ = v; }

  char escape() const { return static_cast<char>(escape_); }

  // The expanded word. InvalidArgument `failed to process "<word>": <why>`
  // on bad syntax (unterminated quote, bad substitution, ${X?msg} unset...).
  absl::StatusOr<std::string> ProcessWord(std::string_view word, const Env& env) const;

  // The expanded word split into words; errors as ProcessWord.
  absl::StatusOr<std::vector<std::string>> ProcessWords(std::string_view word,
                                                        const Env& env) const;

  // The expansion plus which variables were used and which were unset;
  // errors as ProcessWord.
  absl::StatusOr<ProcessResult> ProcessWordWithMatches(std::string_view word, const Env& env) const;

 private:
  friend class ShellWord;

  char32_t escape_;
  bool raw_quotes_ = false;
  bool raw_escapes_ = false;
  bool skip_process_quotes_ = false;
  bool skip_unset_env_ = false;
};

}  // namespace kiln::dockerfile::shell

#endif  // KILN_FRONTENDS_DOCKERFILE_SHELL_LEX_H_
