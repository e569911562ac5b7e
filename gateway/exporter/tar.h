// Exports a directory tree as a tar stream, the way BuildKit's tar exporter
// (fsutil.WriteTar over Go's archive/tar) does:
//
//  - ustar headers, with PAX extended records only where ustar cannot hold
//    a field (long or non-ASCII names, large ids or sizes, xattrs as
//    SCHILY.xattr.<name>); no atime/ctime;
//  - no entry for the root itself; paths relative ("bin/sh"), directories
//    with a trailing slash ("bin/");
//  - depth-first, each directory's entries sorted by name bytes, so every
//    parent precedes its children;
//  - numeric uid/gid only (no user or group names);
//  - mode bits 07777; mtimes in whole seconds (rounded to nearest, as Go's
//    writer does), or per SOURCE_DATE_EPOCH;
//  - symlinks stored as they are (never followed, absolute ones too);
//  - a second and later path of a hard-linked inode stored as a hard link to
//    the first path seen; fifos and devices as such; a socket as an empty
//    regular file (fsutil drops the socket type bit);
//  - xattrs, except security.* other than security.capability (host labels
//    such as SELinux contexts) and trusted.overlay.* (overlayfs internals).
//
// Two exports of trees with equal contents, owners, modes and (after the
// epoch) mtimes are byte-identical. Reading races with writers of the tree
// are not guarded against: a file whose size changes mid-export fails it.
// Functions are thread-safe; they share no state.
#ifndef KILN_GATEWAY_EXPORTER_TAR_H_
#define KILN_GATEWAY_EXPORTER_TAR_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "gateway/exporter/epoch.h"

namespace kiln::exporter {

struct TarOptions {
  // SOURCE_DATE_EPOCH, when the build has one.
  std::optional<Epoch> source_date_epoch;
  // `root` is an overlayfs upper directory (an image layer): its 0:0
  // character devices are written as OCI whiteouts (`.wh.NAME`) and its
  // opaque directories get a `.wh..wh..opq` entry.
  bool oci_whiteouts = false;
  // Nanosecond mtimes in PAX records instead of Go's whole seconds: the
  // tree exactly, as kilnd sends a local output to its client (which
  // unpacks it with image::ApplyLayer and Whiteouts::kNone).
  bool exact_times = false;
};

// Writes the tree under `root` as a tar to `dest_file`, or to standard
// output when it is "-". A file is written under a temporary name in the
// same directory (mode 0666 less umask) and renamed over `dest_file` only
// when complete and flushed, so on error `dest_file` is untouched and no
// temporary is left; if `dest_file` is inside `root` the export skips it.
// Errors: NotFound when `root` or the directory of `dest_file` does not
// exist; InvalidArgument when `root` is not a directory; Internal for read,
// write or archive failures (naming the path).
absl::Status ExportTar(const std::string& root, const std::string& dest_file,
                       const TarOptions& opts);

// As ExportTar, to an open descriptor (not closed; nothing renamed).
absl::Status ExportTarToFd(const std::string& root, int fd, const TarOptions& opts);

}  // namespace kiln::exporter

#endif  // KILN_GATEWAY_EXPORTER_TAR_H_
