// CacheMounts: the persistent directories behind exec cache mounts
// (`RUN --mount=type=cache`), kept under ROOT/cachemounts across builds and
// processes and never part of a result.
//
//   ROOT/cachemounts/<sha256 of id>/<n>/       instance n of the mount
//   ROOT/cachemounts/<sha256 of id>/<n>.lock   flock held while in use
//
// Sharing follows BuildKit: SHARED lets every user into instance 0 at once;
// LOCKED lets one user at a time into instance 0 (others wait); PRIVATE gives
// each concurrent user an instance nobody else holds, creating one when all
// are busy. A new instance is seeded by the caller (Lease::fresh()).
// Thread-safe and safe across processes.
#ifndef KILN_GATEWAY_CACHE_CACHE_MOUNTS_H_
#define KILN_GATEWAY_CACHE_CACHE_MOUNTS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "proto/llb/ops.pb.h"

namespace kiln::cache {

// A cache mount in use; releasing it (destruction) lets others in.
class CacheMountLease {
 public:
  CacheMountLease(std::string path, int lock_fd, bool fresh)
      : path_(std::move(path)), lock_fd_(lock_fd), fresh_(fresh) {}
  ~CacheMountLease();
  CacheMountLease(const CacheMountLease&) = delete;
  CacheMountLease& operator=(const CacheMountLease&) = delete;

  const std::string& path() const { return path_; }
  // True when the directory was created for this lease (seed it now).
  bool fresh() const { return fresh_; }

 private:
  std::string path_;
  int lock_fd_;
  bool fresh_;
};

class CacheMounts {
 public:
  explicit CacheMounts(std::string root) : dir_(root + "/cachemounts") {}
  // Blocks while a LOCKED mount is held by another user. Errors: system
  // errors creating or locking the directories.
  absl::StatusOr<std::unique_ptr<CacheMountLease>> Acquire(const std::string& id,
                                                           pb::CacheSharingOpt sharing);
  // Removes every cache mount. Only while no build runs (prune --all holds
  // the root's exclusive lock).
  absl::Status RemoveAll();
  // Removes the extra instances PRIVATE sharing created for concurrent
  // users (all but instance 0 of each id), which would otherwise pile up
  // with every burst of parallel builds; instance 0 keeps the cache. Skips
  // an instance some lease still holds. Returns how many it removed.
  absl::StatusOr<int> RemoveSurplus();

 private:
  std::string dir_;
};

}  // namespace kiln::cache

#endif  // KILN_GATEWAY_CACHE_CACHE_MOUNTS_H_
