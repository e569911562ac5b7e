// Cache: the engine's on-disk state under one root directory.
//
//   ROOT/kiln.db           cache index (SQLite, WAL)
//   ROOT/layers/<id>/      committed layers
//   ROOT/tmp/              work in progress, mounts (swept at open)
//   ROOT/content/          content store (blobs)
//   ROOT/snapshotter       which snapshotter wrote the layers
//   ROOT/lock              flock: shared while open, exclusive to sweep/prune
//   ROOT/open.lock         flock: openers take turns
//   ROOT/keys/<hex>        flock per cache key being computed
//   ROOT/cachemounts/      exec cache mounts (see cache_mounts.h)
//
// Several processes may use one root at once. The first to open it alone
// sweeps what crashed processes left behind; prune waits for the others.
// Thread-safe.
#ifndef KILN_GATEWAY_CACHE_CACHE_H_
#define KILN_GATEWAY_CACHE_CACHE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/cache/cache_mounts.h"
#include "gateway/cache/content_store.h"
#include "gateway/cache/index.h"
#include "gateway/cache/snapshotter.h"

namespace kiln::cache {

struct CacheOptions {
  std::string root;
  // "auto", "overlay" or "native". A root keeps the kind it was created with.
  std::string snapshotter = "auto";
};

// Held while one process computes a cache key, so that another process
// computing the same key waits and then finds the record.
class KeyLock {
 public:
  virtual ~KeyLock() = default;
};

struct PruneReport {
  int records_removed = 0;
  int layers_removed = 0;
  int64_t bytes_freed = 0;
  int cache_mount_instances_removed = 0;  // surplus PRIVATE instances, or all with --all
};

class Cache {
 public:
  // Errors: PermissionDenied/Internal when ROOT cannot be created or locked,
  // InvalidArgument for an unknown snapshotter or one that differs from the
  // root's.
  static absl::StatusOr<std::unique_ptr<Cache>> Open(const CacheOptions& options);
  ~Cache();

  const std::string& root() const { return root_; }
  CacheIndex* index() { return index_.get(); }
  Snapshotter* snapshotter() { return snapshotter_.get(); }
  ContentStore* content() { return content_.get(); }
  CacheMounts* cache_mounts() { return cache_mounts_.get(); }
  // A directory for facts derived from layer `id` (such as its exported
  // blob); Prune removes it with the layer. Not created here.
  std::string LayerMetaDir(const std::string& id) const { return root_ + "/layer-meta/" + id; }

  // Blocks until this process is the only one computing `key`. Errors:
  // Internal when the lock file cannot be opened.
  absl::StatusOr<std::unique_ptr<KeyLock>> LockKey(const std::string& key);

  // Removes records least recently used first until at most `keep_bytes`
  // remain (everything when keep_bytes < 0) and deletes their layers. Waits
  // up to `wait` for other processes using the root; then Unavailable.
  // With `cache_mounts`, also empties every exec cache mount.
  absl::StatusOr<PruneReport> Prune(int64_t keep_bytes, absl::Duration wait,
                                    bool cache_mounts = false);

 private:
  Cache() = default;
  std::string root_;
  int lock_fd_ = -1;
  std::unique_ptr<CacheIndex> index_;
  std::unique_ptr<Snapshotter> snapshotter_;
  std::unique_ptr<ContentStore> content_;
  std::unique_ptr<CacheMounts> cache_mounts_;
};

}  // namespace kiln::cache

#endif  // KILN_GATEWAY_CACHE_CACHE_H_
