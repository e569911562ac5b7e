// Resolving an LLB user string against the root filesystem's /etc/passwd and
// /etc/group, the way BuildKit does through runc's user package. Pure apart
// from reading those two files; thread-safe.
#ifndef KILN_GATEWAY_OPS_EXEC_INTERNAL_USER_H_
#define KILN_GATEWAY_OPS_EXEC_INTERNAL_USER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::exec_internal {

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> additional_gids;
};

// "" is root. "uid:gid" (numbers or "root") needs no files. Otherwise the
// user part is looked up in <rootfs>/etc/passwd by name or uid, and the group
// part (if any) in <rootfs>/etc/group by name or gid; a number without an
// entry is taken as is (gid 0 for a bare uid). Without an explicit group, the
// groups that list the user as a member become additional gids.
// Errors: InvalidArgument "unknown user NAME" / "unknown group NAME" for a
// name without an entry; a read error of an existing file as ErrnoToStatus.
absl::StatusOr<User> ResolveUser(const std::string& rootfs, std::string_view user);

}  // namespace kiln::exec_internal

#endif  // KILN_GATEWAY_OPS_EXEC_INTERNAL_USER_H_
