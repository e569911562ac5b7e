// Images from build results: each layer of a result's chain becomes a tar
// blob, gzip (default), zstd or uncompressed, with overlay deletions written
// as OCI `.wh.` whiteouts and opaque directories as `.wh..wh..opq`; an OCI
// config lists their diff IDs and a manifest lists the blobs, all in the
// content store. A layer's blob is remembered beside the layer, so later
// exports of the same layer reuse it.
//
// With an epoch (SOURCE_DATE_EPOCH), timestamps newer than it are clamped to
// it, as BuildKit's image exporter does, and the config's `created` is the
// epoch: the same result always gives the same manifest digest.
#ifndef KILN_GATEWAY_IMAGE_BUILD_H_
#define KILN_GATEWAY_IMAGE_BUILD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/cache/cache.h"
#include "gateway/image/layer/layer.h"

namespace kiln::image {

struct BuiltImage {
  std::string manifest;             // digest
  std::string config;               // digest
  std::vector<std::string> layers;  // blob digests, bottom first
  std::vector<std::string> media_types;
};

struct BuildImageOptions {
  std::optional<int64_t> epoch;  // SOURCE_DATE_EPOCH
  // The image config a frontend supplied (Env, Cmd, ..., history with
  // empty_layer marks), or empty for a bare config. Its rootfs is replaced;
  // history entries are added for layers it does not account for, as
  // BuildKit's exporter does.
  std::string config;
  Compression compression = Compression::kGzip;
};

absl::StatusOr<BuiltImage> BuildImage(cache::Cache* cache, const cache::Chain& chain,
                                      const BuildImageOptions& options);

// "gzip" (default), "zstd" or "uncompressed" (the oci output's
// compression= option); InvalidArgument naming the value otherwise.
absl::StatusOr<Compression> ParseCompression(const std::string& name);

enum class ArchiveFormat {
  kOciLayout,   // oci-layout, index.json, blobs/sha256/...
  kDockerSave,  // the same plus manifest.json, which `docker load` reads
};

// Writes `image` as an archive to `dest` (through a temporary file renamed
// at the end), naming it `ref` (index.json annotation; RepoTags for docker)
// when not empty.
absl::Status WriteImageArchive(cache::ContentStore* content, const BuiltImage& image,
                               const std::string& ref, const std::string& dest,
                               ArchiveFormat format = ArchiveFormat::kOciLayout);

// "docker.io/library/app:1" -> "app:1", as Docker shows and tags names.
std::string FamiliarName(const std::string& ref);

}  // namespace kiln::image

#endif  // KILN_GATEWAY_IMAGE_BUILD_H_
