#include "gateway/cache/snapshotter.h"

#include <dirent.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "gateway/cache/fs.h"
#include "gateway/cache/snapshotter_internal.h"
#include "gateway/fsutil/errors.h"
#include "sdk/base/status_macros.h"

namespace kiln::cache {

absl::StatusOr<std::unique_ptr<Snapshotter>> NewSnapshotter(const std::string& root,
                                                            const std::string& kind, bool probe) {
  for (const char* sub : {"/layers", "/tmp", "/empty"}) {
    KILN_RETURN_IF_ERROR(cache_internal::MakeDirs(root + sub));
  }
  if (kind == "native") return cache_internal::NewNativeSnapshotter(root);
  if (kind == "overlay") {
    if (probe) KILN_RETURN_IF_ERROR(cache_internal::ProbeOverlay(root));
    return cache_internal::NewOverlaySnapshotter(root);
  }
  if (kind == "auto") {
    if (cache_internal::ProbeOverlay(root).ok()) return cache_internal::NewOverlaySnapshotter(root);
    return cache_internal::NewNativeSnapshotter(root);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown snapshotter \"", kind, "\": want overlay, native or auto"));
}

absl::Status SweepRoot(const std::string& root, const std::vector<std::string>& known_layers) {
  std::string tmp = root + "/tmp";
  if (!cache_internal::IsEmptyDir(tmp)) {
    for (const std::string& m : cache_internal::MountsUnder(tmp)) {
      KILN_RETURN_IF_ERROR(cache_internal::Unmount(m));
    }
    KILN_RETURN_IF_ERROR(cache_internal::RemoveAll(tmp));
    KILN_RETURN_IF_ERROR(cache_internal::MakeDirs(tmp));
  }
  std::set<std::string> known(known_layers.begin(), known_layers.end());
  std::string layers = root + "/layers";
  DIR* d = opendir(layers.c_str());
  if (d == nullptr) return absl::OkStatus();
  std::vector<std::string> orphans;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != ".." && !known.count(name)) orphans.push_back(name);
  }
  closedir(d);
  for (const std::string& id : orphans) {
    KILN_RETURN_IF_ERROR(cache_internal::RemoveAll(absl::StrCat(layers, "/", id)));
  }
  return absl::OkStatus();
}

}  // namespace kiln::cache
