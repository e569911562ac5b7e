// Turning errno values from system calls into absl::Status.
//
// Every fsutil function reports system-call failures through ErrnoToStatus so
// that callers can branch on the canonical code: ENOENT is NotFound, EEXIST is
// AlreadyExists, EACCES/EPERM are PermissionDenied, and so on. Thread-safe.
#ifndef KILN_GATEWAY_FSUTIL_ERRORS_H_
#define KILN_GATEWAY_FSUTIL_ERRORS_H_

#include <string_view>

#include "absl/status/status.h"

namespace kiln::fsutil {

// A Status whose code matches `err` and whose message is
// "<op> <path>: <strerror(err)>". `err` 0 gives OK.
absl::Status ErrnoToStatus(int err, std::string_view op, std::string_view path);

// The canonical code for `err` (ENOENT -> kNotFound, ...).
absl::StatusCode ErrnoToCode(int err);

}  // namespace kiln::fsutil

#endif  // KILN_GATEWAY_FSUTIL_ERRORS_H_
