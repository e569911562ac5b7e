// Deterministic, symlink-safe walking of a directory tree.
//
// Walk visits every entry below a root in a fixed order: the names of each
// directory sorted by bytes, a directory before its contents. It lstat()s
// and never follows symlinks (links are reported with their targets), works
// relative to open directory descriptors so renames above the walk cannot
// redirect it, and skips whole subtrees that a Filter rules out. Stateless
// and thread-safe; the callback runs on the calling thread.
#ifndef KILN_GATEWAY_FSUTIL_WALK_H_
#define KILN_GATEWAY_FSUTIL_WALK_H_

#include <sys/stat.h>

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "gateway/fsutil/filter.h"

namespace kiln::fsutil {

struct Entry {
  std::string rel;          // "a/b", relative to the root, never empty
  struct stat st;           // lstat of the entry
  std::string link_target;  // for symlinks
};

using WalkFn = std::function<absl::Status(const Entry&)>;

// Calls `fn` for each entry below `root` (the root itself is not visited).
// With a `filter` (may be null), only selected entries are visited, plus the
// directories above a selected entry even when those are not selected
// themselves (visited just before their first selected descendant).
// Errors: a missing or non-directory root is NotFound/FailedPrecondition;
// system errors as ErrnoToStatus; the first non-OK status of `fn` stops the
// walk and is returned. Entries vanishing during the walk are skipped.
absl::Status Walk(const std::string& root, const Filter* filter, const WalkFn& fn);

}  // namespace kiln::fsutil

#endif  // KILN_GATEWAY_FSUTIL_WALK_H_
