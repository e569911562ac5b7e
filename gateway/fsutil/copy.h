// Copying files and trees with `cp -a` semantics, as BuildKit's file op does
// (tonistiigi/fsutil/copy).
//
// Everything is preserved: type, permission and set-id/sticky bits, owner,
// atime/mtime (ns), symlinks as symlinks, hard links between files of the
// copied set, extended attributes (except trusted.overlay.*; failures to set
// one are ignored, as BuildKit does), fifos and device nodes (root only).
// Options override owner, mode and times for every copied entry. Content is
// copied with FICLONE (reflink) when the filesystem allows, else
// copy_file_range, else read/write.
//
// Stateless functions; thread-safe as far as the filesystem allows.
#ifndef KILN_GATEWAY_FSUTIL_COPY_H_
#define KILN_GATEWAY_FSUTIL_COPY_H_

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "gateway/fsutil/filter.h"
#include "gateway/fsutil/mode.h"
#include "gateway/fsutil/tree.h"

namespace kiln::fsutil {

struct CopyOptions {
  std::optional<Ownership> chown;     // owner of every copied entry; else the source's
  std::optional<mode_t> chmod;        // mode (07777 bits) of every entry; else the source's
  const ModeSet* mode_set = nullptr;  // applied to the source mode; wins over chmod
  std::optional<int64_t> mtime_ns;    // atime = mtime of every entry; else the source's
  // Selects what is copied below the source (paths relative to it). The
  // source itself is always copied. Not owned; may be null.
  const Filter* filter = nullptr;
  // An existing destination entry of another type is removed first (BuildKit's
  // alwaysReplaceExistingDestPaths); directories still merge.
  bool replace_existing = false;
  bool copy_xattrs = true;
};

// Copies `src` (any type; a symlink is copied as a symlink) to exactly
// `dst`. A directory onto an existing directory merges: existing entries
// below are overwritten, and nested directories take the source's metadata,
// while `dst` itself keeps its mode and owner (only its times are set). The
// parent of `dst` must exist. A destination inside the source is not copied
// into itself, and a file copied onto itself is left alone. Errors: a missing `src` is NotFound
// naming it; a file onto a directory, or a directory onto a non-directory, is FailedPrecondition
// (unless `replace_existing`); system errors as ErrnoToStatus naming the host path.
absl::Status CopyTree(const std::string& src, const std::string& dst, const CopyOptions& opt);

// Copies a single non-directory `src` to `dst`, replacing a non-directory
// there. Errors as CopyTree; a directory `src` is FailedPrecondition.
absl::Status CopyFile(const std::string& src, const std::string& dst, const CopyOptions& opt);

// Copies `size` bytes (or until EOF) from `src_fd` to `dst_fd`, both at
// offset 0 and freshly opened. Errors as ErrnoToStatus naming `what`.
absl::Status CopyFileContent(int src_fd, int dst_fd, int64_t size, const std::string& what);

// Sets owner, mode, times and (optionally) xattrs of `dst` from the source's
// `src_st` (xattrs read from `src`), honouring the overrides in `opt`.
absl::Status ApplyMetadata(const std::string& src, const struct stat& src_st,
                           const std::string& dst, const CopyOptions& opt);

}  // namespace kiln::fsutil

#endif  // KILN_GATEWAY_FSUTIL_COPY_H_
