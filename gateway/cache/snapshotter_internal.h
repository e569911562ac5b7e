#ifndef KILN_GATEWAY_CACHE_SNAPSHOTTER_INTERNAL_H_
#define KILN_GATEWAY_CACHE_SNAPSHOTTER_INTERNAL_H_

#include <memory>
#include <string>

#include "gateway/cache/snapshotter.h"

namespace kiln::cache_internal {

std::unique_ptr<cache::Snapshotter> NewOverlaySnapshotter(const std::string& root);
std::unique_ptr<cache::Snapshotter> NewNativeSnapshotter(const std::string& root);
// OK when this process can mount an overlay with an upper dir under ROOT/tmp.
absl::Status ProbeOverlay(const std::string& root);

}  // namespace kiln::cache_internal

#endif  // KILN_GATEWAY_CACHE_SNAPSHOTTER_INTERNAL_H_
