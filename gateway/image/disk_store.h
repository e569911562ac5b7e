// DiskStore: kiln's image store, in the engine's cache root.
//
//   ROOT/images/<sha256 of name>   one record per name (written atomically):
//                                  name, manifest, config and layer digests
//   ROOT/content/blobs/sha256/     manifests, configs and layer blobs
//
// An image's layers are unpacked into the snapshotter once and recorded in
// the cache index under "image:<manifest digest>", so the sweep keeps them
// and prune may drop them; Resolve unpacks again from the blobs when they
// were pruned. Thread-safe.
#ifndef KILN_GATEWAY_IMAGE_DISK_STORE_H_
#define KILN_GATEWAY_IMAGE_DISK_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gateway/cache/cache.h"
#include "gateway/image/build.h"
#include "gateway/image/store.h"

namespace kiln::image {

// An image's config without its filesystem (what frontends resolve).
struct ImageConfigInfo {
  std::string ref;
  std::string digest;  // manifest
  std::string config;  // JSON
};

struct ImageInfo {
  std::string ref;
  std::string digest;  // manifest
  int64_t size = 0;    // bytes of the layer blobs
};

class DiskStore : public Store {
 public:
  // `cache` must outlive the store.
  static absl::StatusOr<std::unique_ptr<DiskStore>> Open(cache::Cache* cache);

  // Imports a plain filesystem tar (optionally gzip or zstd compressed) as a
  // one-layer image named `ref`, like `docker import`. The same tar always
  // gives the same manifest digest. Errors: the tar's own (DataLoss,
  // InvalidArgument naming the entry); nothing is recorded on error.
  absl::StatusOr<Image> ImportRootfs(const std::string& tar_path, const std::string& ref);

  // Imports a `docker save` archive or an OCI image-layout tar (its first
  // manifest) as `ref`. Every layer's diff ID is checked against the
  // config. Errors name what is wrong (a missing blob is NotFound, a layer
  // that does not match DataLoss); nothing is recorded on error.
  absl::StatusOr<Image> ImportArchive(const std::string& archive, const std::string& ref);

  // `ref` may pin a digest ("name:tag@sha256:..."): the image named must
  // have that manifest digest, else NotFound saying the name has moved.
  absl::StatusOr<Image> Resolve(const std::string& ref) override;
  // As Resolve, without unpacking the layers. Errors as Resolve.
  absl::StatusOr<ImageConfigInfo> ResolveConfig(const std::string& ref);
  absl::StatusOr<std::vector<ImageInfo>> List();
  // NotFound naming the reference when there is no such image.
  absl::Status Remove(const std::string& ref);

  // Writes image `ref` as an OCI image-layout tar (oci-layout, index.json
  // naming it with org.opencontainers.image.ref.name, blobs/sha256/...) to
  // `dest`, through a temporary file renamed at the end. NotFound for an
  // unknown image or a missing blob.
  absl::Status ExportOci(const std::string& ref, const std::string& dest);

  // Names a built image `ref` (type=image outputs); `chain` is the result
  // it was built from.
  absl::StatusOr<Image> Tag(const BuiltImage& built, const cache::Chain& chain,
                            const std::string& ref);

 private:
  struct Record {
    std::string ref, manifest, config;
    std::vector<std::string> layers;  // layer blob digests, bottom first
    std::vector<std::string> media_types;
  };
  explicit DiskStore(cache::Cache* cache) : cache_(cache) {}
  std::string RecordPath(const std::string& ref) const;
  absl::Status WriteRecord(const Record& r);
  absl::StatusOr<Record> ReadRecord(const std::string& path) const;
  // The record `ref` (optionally @digest-pinned) names; errors as Resolve.
  absl::StatusOr<Record> FindRecord(const std::string& ref) const;
  // Stores and unpacks the layers (checking diff IDs), writes the manifest
  // and names the image.
  absl::StatusOr<Image> AddImage(const std::string& ref, const std::string& config,
                                 const std::vector<std::string>& layer_paths,
                                 const std::vector<std::string>& diff_ids);
  // The unpacked chain of `r`, unpacking (and recording) it if needed.
  absl::StatusOr<cache::Chain> Unpack(const Record& r);

  cache::Cache* cache_;
  absl::Mutex mu_;  // serializes imports and unpacking
};

}  // namespace kiln::image

#endif  // KILN_GATEWAY_IMAGE_DISK_STORE_H_
