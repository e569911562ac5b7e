// Include/exclude filtering of a directory tree, with the semantics of
// BuildKit's local sources and COPY (tonistiigi/fsutil's filter walk).
//
// A path is selected when it matches the include patterns (if any; a match
// on a parent directory counts) and does not match the exclude patterns
// (whose "!" exceptions can re-include paths below an excluded directory).
// Directories that are not selected themselves are still emitted by walkers
// when something below them is selected: Walk and CopyTree do that lazily.
//
// Immutable after Create; const methods are thread-safe. Cheap to copy.
#ifndef KILN_GATEWAY_FSUTIL_FILTER_H_
#define KILN_GATEWAY_FSUTIL_FILTER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sdk/base/patterns.h"

namespace kiln::fsutil {

class Filter {
 public:
  // Matching state of a directory, handed down to its children so that each
  // pattern is evaluated once per path component.
  struct State {
    PatternMatcher::MatchInfo include;
    PatternMatcher::MatchInfo exclude;
  };
  struct Decision {
    bool keep = true;     // the path itself is selected
    bool descend = true;  // (directories) something below may be selected
  };

  // An empty filter keeps everything. A malformed pattern is InvalidArgument
  // naming the pattern ("invalid include pattern ...").
  static absl::StatusOr<Filter> Create(const std::vector<std::string>& include_patterns,
                                       const std::vector<std::string>& exclude_patterns);
  Filter() = default;

  // Decides for `rel` ("a/b", clean, relative to the walked root) given its
  // parent directory's state (default State for top-level entries); fills
  // `state` for a directory's children (may be null for non-directories).
  Decision Evaluate(std::string_view rel, bool is_dir, const State& parent, State* state) const;

  // Stateless forms of Evaluate, checking parent directories lexically.
  bool Keep(std::string_view rel, bool is_dir) const;
  bool MayDescend(std::string_view rel_dir) const;

  bool empty() const { return !has_include_ && !has_exclude_; }

 private:
  bool IncludePrefixBelow(std::string_view rel_dir) const;
  bool ExceptionPrefixBelow(std::string_view rel_dir) const;

  PatternMatcher include_;
  PatternMatcher exclude_;
  bool has_include_ = false;
  bool has_exclude_ = false;
  // When every include (resp. exclude exception) pattern is a plain path,
  // directories that no such path lies under need not be walked.
  bool only_prefix_includes_ = true;
  bool only_prefix_exceptions_ = true;
  std::vector<std::string> include_prefixes_;    // "a/b/" for include "a/b/*"
  std::vector<std::string> exception_prefixes_;  // "a/b/" for exception "!a/b"
};

// A local source's include patterns with its follow paths (BuildKit's
// local.followpaths, fsutil's FollowLinks): each follow path ("/src",
// "app/*.go") is resolved in `root`, every symlink on the way adds its
// target too, and the results join `include`. A local source that names
// follow paths is so narrowed to them (plus `include`); a follow path that
// resolves to the root itself means no narrowing, and `include` is returned
// as it is. Symlinks never lead outside `root`: absolute and climbing
// targets are read inside it. Errors: system errors reading `root`.
absl::StatusOr<std::vector<std::string>> IncludeFollowPaths(const std::string& root,
                                                            std::vector<std::string> include,
                                                            const std::vector<std::string>& follow);

}  // namespace kiln::fsutil

#endif  // KILN_GATEWAY_FSUTIL_FILTER_H_
