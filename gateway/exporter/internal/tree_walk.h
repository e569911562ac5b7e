// A deterministic walk of a directory tree, shared by the exporters.
#ifndef KILN_GATEWAY_EXPORTER_INTERNAL_TREE_WALK_H_
#define KILN_GATEWAY_EXPORTER_INTERNAL_TREE_WALK_H_

#include <sys/stat.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace kiln::exporter_internal {

struct TreeEntry {
  std::string path;       // relative to the root, no leading/trailing '/'
  std::string full_path;  // root + "/" + path
  struct stat st;         // lstat: symlinks are never followed
  std::string symlink_target;
  // Set when an earlier entry of the walk is the same inode (st_nlink > 1,
  // not a directory or symlink): the path of that first entry.
  std::string hardlink_to;
  // Extended attributes worth exporting (see KeepXattr), sorted by name.
  std::vector<std::pair<std::string, std::string>> xattrs;
};

class TreeVisitor {
 public:
  virtual ~TreeVisitor() = default;
  // Every entry, parents before children.
  virtual absl::Status Enter(const TreeEntry& e) = 0;
  // A directory again, after all of its children.
  virtual absl::Status Leave(const TreeEntry& dir) { return absl::OkStatus(); }
};

struct WalkOptions {
  // An inode to leave out (the archive being written inside the tree).
  std::optional<std::pair<dev_t, ino_t>> skip;
};

// Walks the tree under `root` (the root itself is not visited) depth-first,
// the entries of each directory in byte order of their names, as Go's
// filepath.WalkDir does. Stops at the first error from `v`. Errors:
// NotFound / InvalidArgument when `root` is missing / not a directory;
// Internal when a directory, link or xattr cannot be read.
absl::Status WalkTree(const std::string& root, TreeVisitor& v, const WalkOptions& opts = {});

// Whether an xattr is exported: not security.* (except security.capability)
// and not trusted.overlay.*.
bool KeepXattr(const std::string& name);

// Reads the exported xattrs of `path` (not following a symlink); an empty
// list where the filesystem has none or does not support them.
absl::Status ReadXattrs(const std::string& path,
                        std::vector<std::pair<std::string, std::string>>* out);

// "<what> <path>: <strerror(errno)>" as Internal.
absl::Status ErrnoError(const std::string& what, const std::string& path);

}  // namespace kiln::exporter_internal

#endif  // KILN_GATEWAY_EXPORTER_INTERNAL_TREE_WALK_H_
