// The difference between two directory trees as an overlayfs upper layer.
//
// DiffTrees writes into `out` what must be laid over `lower` to obtain
// `upper`: added and changed entries are copied from `upper` (with all their
// metadata), removed ones become whiteouts (character device 0:0 of the same
// name), and a directory whose old entries were all removed is marked opaque
// (xattr trusted.overlay.opaque=y) instead of listing a whiteout for each,
// when the filesystem of `out` allows it. Directories are created in `out`
// only when something inside them changed or their own metadata did, and
// then carry `upper`'s metadata.
//
// Entries compare equal when type, permission/set-id/sticky bits, owner,
// xattrs, and the type's payload (file bytes, link target, device numbers)
// match; times are ignored, so a touched file is not a change. File bytes
// are only read when sizes match and the two are not the same inode.
// Stateless; thread-safe as far as the filesystem allows.
#ifndef KILN_GATEWAY_FSUTIL_DIFF_H_
#define KILN_GATEWAY_FSUTIL_DIFF_H_

#include <string>

#include "absl/status/status.h"

namespace kiln::fsutil {

// Errors: a missing `lower` or `upper` is NotFound; writing whiteouts needs
// CAP_MKNOD (PermissionDenied otherwise); system errors as ErrnoToStatus.
absl::Status DiffTrees(const std::string& lower, const std::string& upper, const std::string& out);

}  // namespace kiln::fsutil

#endif  // KILN_GATEWAY_FSUTIL_DIFF_H_
