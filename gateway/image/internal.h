// Helpers shared by the image store's files.
#ifndef KILN_GATEWAY_IMAGE_INTERNAL_H_
#define KILN_GATEWAY_IMAGE_INTERNAL_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "gateway/cache/content_store.h"
#include "gateway/image/layer/layer.h"

namespace kiln::image_internal {

// The OCI layer media type for a compression.
std::string LayerMediaType(image::Compression c);
// An OCI descriptor as JSON.
std::string Descriptor(const std::string& media_type, const std::string& digest, int64_t size);
// Streams file `path` into the content store: (digest, size). NotFound
// naming the path when it cannot be read.
absl::StatusOr<std::pair<std::string, int64_t>> StoreFile(cache::ContentStore* content,
                                                          const std::string& path);

}  // namespace kiln::image_internal

#endif  // KILN_GATEWAY_IMAGE_INTERNAL_H_
