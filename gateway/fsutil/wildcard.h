// Shell-glob sources ("src/*.txt", "dir/[ab]?/x") resolved inside a root, as
// BuildKit's COPY with allowWildcard does (fsutil copy.ResolveWildcards).
//
// Globs follow Go's filepath.Match: `*` and `?` never match "/", `[...]`
// classes negate with `^`, `\` escapes. The path is split at the first
// component holding a wildcard; the part before it is resolved in the root
// (following symlinks, the last component only when asked); the rest is
// matched component by component without following symlinks. Stateless and
// thread-safe.
#ifndef KILN_GATEWAY_FSUTIL_WILDCARD_H_
#define KILN_GATEWAY_FSUTIL_WILDCARD_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::fsutil {

// True if `path` holds an unescaped '*', '?' or '['.
bool ContainsWildcards(std::string_view path);

// Go's filepath.Match(pattern, name). A malformed pattern matches nothing.
bool GlobMatch(std::string_view pattern, std::string_view name);

// The paths inside `root` matching `path`, in walk order, each in clean
// absolute form relative to the root ("/dir/a.txt"). Without wildcards this
// is just the cleaned `path` (whether or not it exists). No match gives an
// empty list. Errors: the directory before the first wildcard missing is
// NotFound naming it; system errors as ErrnoToStatus.
absl::StatusOr<std::vector<std::string>> ResolveWildcards(const std::string& root,
                                                          std::string_view path, bool follow_links);

}  // namespace kiln::fsutil

#endif  // KILN_GATEWAY_FSUTIL_WILDCARD_H_
