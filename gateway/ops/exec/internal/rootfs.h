// Preparing a root filesystem for a container and tidying it afterwards:
// the working directory, and the empty mount-point stubs runc creates for
// mount targets that do not exist (BuildKit removes those so that they do not
// end up in the step's layer). Not thread-safe per object; distinct objects
// on distinct roots are independent.
#ifndef KILN_GATEWAY_OPS_EXEC_INTERNAL_ROOTFS_H_
#define KILN_GATEWAY_OPS_EXEC_INTERNAL_ROOTFS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kiln::exec_internal {

class MountStubs {
 public:
  // Records every path of `dests` (absolute, inside `rootfs`), and each of its
  // parents, that does not exist yet. Errors: those of fsutil::ResolveInRoot.
  static absl::StatusOr<MountStubs> Record(const std::string& rootfs,
                                           const std::vector<std::string>& dests);

  // Removes the recorded paths that are now empty files or empty directories,
  // deepest first, keeping their parents' timestamps. Best effort: what is
  // not empty or cannot be removed stays.
  void Remove() const;

  const std::vector<std::string>& paths() const { return paths_; }

 private:
  std::vector<std::string> paths_;  // host paths, deepest first
};

// Creates `cwd` inside `rootfs` (mode 0755, the new directories owned by
// uid:gid) unless it exists. Errors: InvalidArgument naming cwd when a
// component is not a directory; other system errors as ErrnoToStatus.
absl::Status MakeWorkingDir(const std::string& rootfs, const std::string& cwd, uint32_t uid,
                            uint32_t gid);

}  // namespace kiln::exec_internal

#endif  // KILN_GATEWAY_OPS_EXEC_INTERNAL_ROOTFS_H_
