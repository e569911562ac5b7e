// Applying container image layers (OCI / Docker "diff" tar streams) to a
// directory, with containerd's archive.Apply semantics as BuildKit uses them.
//
// A layer is a tar stream, plain or compressed with gzip or zstd. Entries are
// applied in order on top of what `dest` already holds: a directory merges
// into an existing directory; any other entry replaces what was there (a file
// replacing a directory removes the whole tree). Whiteouts are either applied
// (kOci: the deleted path is removed from `dest`) or converted into the
// overlayfs form for an upper directory (kOverlay). While applying, the
// uncompressed stream is hashed: its digest is the layer's diff ID, to be
// checked against the image config's rootfs.diff_ids.
//
// Safety: nothing outside `dest` is ever written. Entry names are cleaned; an
// absolute name counts from `dest` (as Docker and containerd do), a name that
// climbs above the root with ".." is rejected. Parent directories are resolved
// inside `dest` the way a chroot would (fsutil::ResolveInRoot): a symlink
// "a" -> "/etc" followed by an entry "a/passwd" writes dest/etc/passwd. The
// final component is never followed. Hard-link targets resolve inside `dest`
// the same way. On any error `dest` is left partially written (still
// confined to it) and the caller is expected to discard it.
//
// Integrity: a truncated or malformed stream is an error, but libarchive does
// not check gzip's CRC (nor a zstd checksum the encoder left out), so damage
// that keeps the stream well-formed only shows in the diff ID: callers must
// compare it with the image config's rootfs.diff_ids (and the compressed
// blob with its digest).
//
// Devices: a character or block device the process may not create (EPERM,
// e.g. unprivileged) is skipped and counted; fifos are always created.
// Parent directories a layer does not list are created 0755, root-owned.
//
// Ownership: owners are numeric (user and group names in the tar are
// ignored). Stateless functions; concurrent calls on different `dest`
// directories are safe.
#ifndef KILN_GATEWAY_IMAGE_LAYER_LAYER_H_
#define KILN_GATEWAY_IMAGE_LAYER_LAYER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kiln::image {

enum class Compression { kNone, kGzip, kZstd };

// "none", "gzip" or "zstd".
std::string_view CompressionName(Compression c);

// The compression of a stream starting with `prefix` (at least the first 10
// bytes, when the stream has that many): gzip and zstd by their magic numbers,
// anything else is taken as a plain tar. Errors: xz and bzip2 streams, which
// OCI does not allow, are Unimplemented.
absl::StatusOr<Compression> DetectCompression(std::string_view prefix);

// The compression a layer media type declares: the OCI layer types (tar,
// tar+gzip, tar+zstd and their nondistributable variants) and Docker's
// rootfs.diff.tar.gzip (and its foreign variant). Errors: any other media type
// is InvalidArgument naming it.
absl::StatusOr<Compression> CompressionForMediaType(std::string_view media_type);

struct ApplyOptions {
  enum class Whiteouts {
    // ".wh.NAME" removes NAME from dest; ".wh..wh..opq" removes everything
    // the directory held before this layer (entries of this layer stay).
    kOci,
    // dest is an overlayfs upper directory: ".wh.NAME" becomes a 0:0
    // character device NAME, ".wh..wh..opq" sets trusted.overlay.opaque=y on
    // its directory.
    kOverlay,
    // Not a layer but a tree (kilnd sending an output): ".wh." names are
    // files like any other.
    kNone,
  };
  Whiteouts whiteouts = Whiteouts::kOci;
  // Names the layer in error messages (e.g. its digest). ApplyLayerFile uses
  // the file's path when empty.
  std::string name;
};

struct LayerStats {
  int64_t entries = 0;     // tar entries read, whiteouts included
  int64_t file_bytes = 0;  // content bytes of the regular files written
  int64_t tar_bytes = 0;   // size of the uncompressed tar stream
  std::string diff_id;     // "sha256:<hex>" of the uncompressed tar stream
  Compression compression = Compression::kNone;
  // Device nodes that could not be created for lack of privilege (EPERM).
  int64_t skipped_devices = 0;
  // Extended attributes the filesystem refused (ENOTSUP, EPERM) or that are
  // reserved (trusted.overlay.*, which would change how overlayfs reads dest).
  int64_t skipped_xattrs = 0;
  // AUFS metadata entries (".wh..wh.*" other than the opaque marker).
  int64_t skipped_entries = 0;
};

// Reads up to `size` bytes into `buf`; returns how many, 0 at the end of the
// stream. An error stops the apply and is returned by it as is.
using ReadFn = std::function<absl::StatusOr<size_t>(char* buf, size_t size)>;

// Applies the layer read from `read` to the existing directory `dest`.
// Errors: `dest` missing is NotFound; a corrupt or truncated tar or
// compressed stream is DataLoss naming the layer; an unsafe or inconsistent
// entry (name climbing out of the root, hard link to a missing file or a
// directory, a path below a non-directory, bad whiteout name) is
// InvalidArgument naming the layer and the entry; system errors as
// fsutil::ErrnoToStatus naming the entry.
absl::StatusOr<LayerStats> ApplyLayer(const ReadFn& read, const std::string& dest,
                                      const ApplyOptions& opt);

// ApplyLayer reading from the open descriptor `fd` (not closed; read from its
// current offset to EOF).
absl::StatusOr<LayerStats> ApplyLayerFd(int fd, const std::string& dest, const ApplyOptions& opt);

// ApplyLayer reading the file `path`. Errors: as ApplyLayer; `path` missing is
// NotFound.
absl::StatusOr<LayerStats> ApplyLayerFile(const std::string& path, const std::string& dest,
                                          const ApplyOptions& opt);

}  // namespace kiln::image

#endif  // KILN_GATEWAY_IMAGE_LAYER_LAYER_H_
