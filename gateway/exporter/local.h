// Exports a directory tree into a directory on the local filesystem, the
// way BuildKit's local exporter (fsutil's disk writer on the client) does:
//
//  - dest_dir is created with its parents (mode 0700, as BuildKit) when
//    missing; its own mode, owner and times are never changed;
//  - merge by default: paths already in dest_dir that the tree lacks stay;
//    a path in both is replaced (a directory present in both is merged and
//    takes the tree's metadata; a type change removes the old path first);
//    `delete_extraneous` (BuildKit's mode=delete) removes the rest instead;
//  - modes (with set-id and sticky bits), symlinks as they are (never
//    followed), hard links within the tree, fifos and devices, xattrs
//    (filtered as in tar.h, set best-effort) and nanosecond mtimes are kept;
//    atimes are set equal to mtimes;
//  - ownership: like BuildKit, every path is owned by this process's uid and
//    gid, unless `preserve_ownership` copies the tree's owners (needs root).
//
// Atomicity: the tree is first copied whole into a hidden staging directory
// beside dest_dir ("<parent>/.<name>.kiln-tmp-XXXXXX"), then moved in. Any
// failure while copying leaves dest_dir exactly as it was. When dest_dir did
// not exist the move is a single rename: all or nothing. Otherwise entries
// are renamed in one by one: each path is atomically either old or new, but
// a failure part-way through the move (rare: the copy already succeeded on
// the same filesystem) can leave some paths updated and others not.
//
// Functions are thread-safe; two exports into one dest_dir at once are not.
#ifndef KILN_GATEWAY_EXPORTER_LOCAL_H_
#define KILN_GATEWAY_EXPORTER_LOCAL_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "gateway/exporter/epoch.h"

namespace kiln::exporter {

struct LocalOptions {
  // SOURCE_DATE_EPOCH, when the build has one.
  std::optional<Epoch> source_date_epoch;
  bool preserve_ownership = false;
  bool delete_extraneous = false;
};

// Writes the tree under `root` into `dest_dir` as described above. Errors:
// NotFound when `root` does not exist; InvalidArgument when `root` is not a
// directory, or `dest_dir` exists and is not one, or lies inside `root`;
// Internal (naming the path) for filesystem failures.
absl::Status ExportLocal(const std::string& root, const std::string& dest_dir,
                         const LocalOptions& opts);

}  // namespace kiln::exporter

#endif  // KILN_GATEWAY_EXPORTER_LOCAL_H_
