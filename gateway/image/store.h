// Store: the images a build can start from.
//
// The `docker-image://REF` source resolves through a Store: an image is its
// manifest digest (what the cache keys on), its filesystem as a chain of
// layers the store has unpacked into the snapshotter and recorded in the
// cache index, and its config (Env, WorkingDir, User, ...) for frontends.
// The store that imports `docker save` and OCI archives and pulls from
// registries comes with the containers work; MemoryStore is the fake.
//
// Implementations are thread-safe.
#ifndef KILN_GATEWAY_IMAGE_STORE_H_
#define KILN_GATEWAY_IMAGE_STORE_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gateway/cache/chain.h"

namespace kiln::image {

struct Image {
  std::string ref;     // normalized: docker.io/library/busybox:latest
  std::string digest;  // manifest digest
  cache::Chain chain;  // the unpacked root filesystem
  std::string config;  // the image config, JSON
};

class Store {
 public:
  virtual ~Store() = default;
  // The image `ref` (normalized) names. NotFound naming the reference and
  // saying how to get the image.
  virtual absl::StatusOr<Image> Resolve(const std::string& ref) = 0;
};

// Images added by hand: the fake for tests of what uses a Store.
class MemoryStore : public Store {
 public:
  void Add(Image image) {
    absl::MutexLock lock(&mu_);
    images_[image.ref] = std::move(image);
  }
  absl::StatusOr<Image> Resolve(const std::string& ref) override;

 private:
  absl::Mutex mu_;
  std::map<std::string, Image> images_ ABSL_GUARDED_BY(mu_);
};

// The NotFound every store returns for an unknown image.
absl::Status ImageNotFound(const std::string& ref);

}  // namespace kiln::image

#endif  // KILN_GATEWAY_IMAGE_STORE_H_
