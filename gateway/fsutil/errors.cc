#include "gateway/fsutil/errors.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace kiln::fsutil {

absl::StatusCode ErrnoToCode(int err) {
  switch (err) {
    case 0:
      return absl::StatusCode::kOk;
    case ENOENT:
      return absl::StatusCode::kNotFound;
    case EEXIST:
    case ENOTEMPTY:
      return absl::StatusCode::kAlreadyExists;
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::StatusCode::kPermissionDenied;
    case ENOTDIR:
    case EISDIR:
    case ELOOP:
    case EXDEV:
    case EBUSY:
      return absl::StatusCode::kFailedPrecondition;
    case EINVAL:
    case ENAMETOOLONG:
      return absl::StatusCode::kInvalidArgument;
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return absl::StatusCode::kResourceExhausted;
    case ENOTSUP:
    case ENOSYS:
      return absl::StatusCode::kUnimplemented;
    case EINTR:
    case EAGAIN:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status ErrnoToStatus(int err, std::string_view op, std::string_view path) {
  if (err == 0) return absl::OkStatus();
  char buf[256];
  // GNU strerror_r may return a static string instead of filling `buf`.
  const char* msg = strerror_r(err, buf, sizeof(buf));
  return absl::Status(ErrnoToCode(err),
                      absl::StrCat(std::string(op), " ", std::string(path), ": ", msg));
}

}  // namespace kiln::fsutil
