// Snapshotter: where results live on disk and how they are seen.
//
// A result is a Chain of immutable layers (directories under
// ROOT/layers/<id>). The overlay snapshotter keeps one layer per step in
// overlayfs "upper" form (deletions as 0:0 character devices), mounts a chain
// read-only to read it, and merges by stacking chains without copying. The
// native snapshotter is the fallback where overlayfs cannot be mounted (no
// privilege, unsupported filesystem): each layer is a whole tree and every
// chain has at most one layer, so it copies where overlay stacks.
//
// Mounts and Actives are RAII: destroying one unmounts it and, for an
// uncommitted Active, deletes its work. Thread-safe.
#ifndef KILN_GATEWAY_CACHE_SNAPSHOTTER_H_
#define KILN_GATEWAY_CACHE_SNAPSHOTTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/cache/chain.h"
#include "gateway/cache/index.h"

namespace kiln::cache {

// A read-only view of a chain at path().
class Mount {
 public:
  virtual ~Mount() = default;
  virtual const std::string& path() const = 0;
};

// A committed result and the layers it created (for the cache index).
struct Committed {
  Chain chain;
  std::vector<LayerInfo> new_layers;
};

// A writable tree on top of a parent chain.
class Active {
 public:
  virtual ~Active() = default;
  virtual const std::string& path() const = 0;
  // Seals the tree into a layer. The Active must not be used afterwards.
  virtual absl::StatusOr<Committed> Commit() = 0;
};

class Snapshotter {
 public:
  virtual ~Snapshotter() = default;
  virtual std::string name() const = 0;

  virtual absl::StatusOr<std::unique_ptr<Mount>> View(const Chain& chain) = 0;
  virtual absl::StatusOr<std::unique_ptr<Active>> Prepare(const Chain& parent) = 0;
  // The inputs laid over each other in order, later ones on top.
  virtual absl::StatusOr<Committed> Merge(const std::vector<Chain>& inputs) = 0;
  // What changed from lower to upper, as a result of its own.
  virtual absl::StatusOr<Committed> Diff(const Chain& lower, const Chain& upper) = 0;
  // Deletes a layer's directory (the index no longer references it).
  virtual absl::Status RemoveLayer(const std::string& id) = 0;
  // The directory of committed layer `id`, to read only: for overlay, the
  // changes of one step (deletions as 0:0 character devices, opaque
  // directories marked with trusted.overlay.opaque); for native, a tree.
  virtual std::string LayerDir(const std::string& id) const = 0;
};

// Opens the snapshotter for ROOT (creating ROOT/layers, ROOT/tmp). `kind` is
// "overlay", "native" or "auto" (overlay when a probe mount succeeds). With
// `probe` false, "overlay" is trusted without a test mount (a root that
// already holds overlay layers); errors then surface at the first mount.
absl::StatusOr<std::unique_ptr<Snapshotter>> NewSnapshotter(const std::string& root,
                                                            const std::string& kind,
                                                            bool probe = true);

// Removes leftovers of crashed processes: mounts and work under ROOT/tmp, and
// layer directories that `known_layers` does not list. Only call while
// holding the root's exclusive lock.
absl::Status SweepRoot(const std::string& root, const std::vector<std::string>& known_layers);

}  // namespace kiln::cache

#endif  // KILN_GATEWAY_CACHE_SNAPSHOTTER_H_
