// .dockerignore-style path patterns with the semantics of moby/patternmatcher,
// which BuildKit uses for .dockerignore, local-source include/exclude patterns
// and COPY --exclude.
//
// A pattern is a slash-separated glob: `*` and `?` never match "/", `[...]`
// is a character class (`^` negates, `\` escapes), `**` matches any number of
// directories (including none), and `\` escapes the next character. Patterns
// are trimmed and cleaned (leading "/" and "./" dropped, ".." resolved). A
// leading `!` makes an exception: later patterns override earlier ones. A
// pattern that matches a directory matches everything below it.
//
// PatternMatcher is immutable after Create; all const methods are thread-safe.
// Copies share the compiled regular expressions.
#ifndef KILN_SDK_BASE_PATTERNS_H_
#define KILN_SDK_BASE_PATTERNS_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace re2 {
class RE2;
}

namespace kiln {

class PatternMatcher {
 public:
  // Which patterns matched a directory; children inherit those matches.
  // An empty MatchInfo means "unknown": parents are then checked lexically.
  struct MatchInfo {
    std::vector<bool> matched;
  };

  // One cleaned pattern.
  struct Pattern {
    std::string text;        // cleaned, without the leading '!'
    bool exclusion = false;  // had a leading '!'
  };

  // Compiles `patterns`; blank entries are skipped. A malformed pattern
  // (unclosed '[', bad range, trailing '\', a lone "!") is InvalidArgument
  // naming it.
  static absl::StatusOr<PatternMatcher> Create(const std::vector<std::string>& patterns);

  PatternMatcher();
  ~PatternMatcher();
  PatternMatcher(const PatternMatcher&);
  PatternMatcher& operator=(const PatternMatcher&);
  PatternMatcher(PatternMatcher&&) noexcept;
  PatternMatcher& operator=(PatternMatcher&&) noexcept;

  // True when `rel_path` ("a/b/c", cleaned here) or one of its parent
  // directories matches, and no later exception pattern re-includes it
  // (patternmatcher's MatchesOrParentMatches).
  bool Matches(std::string_view rel_path) const;

  // The same decision for walkers: `parent` is the MatchInfo of the parent
  // directory (empty for top-level entries), `info` receives this path's.
  // `rel_path` must already be clean. (MatchesUsingParentResults.)
  bool MatchesUsingParent(std::string_view rel_path, const MatchInfo& parent,
                          MatchInfo* info) const;

  // True if any pattern is an exception ("!x").
  bool Exclusions() const { return exclusions_; }
  bool empty() const { return patterns_.empty(); }
  const std::vector<Pattern>& patterns() const { return patterns_; }

 private:
  struct Compiled;
  bool MatchOne(size_t i, std::string_view path) const;
  bool MatchOneOrParents(size_t i, std::string_view path) const;

  std::vector<Pattern> patterns_;
  std::vector<std::shared_ptr<const Compiled>> compiled_;
  bool exclusions_ = false;
};

}  // namespace kiln

#endif  // KILN_SDK_BASE_PATTERNS_H_
