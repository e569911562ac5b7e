#include "gateway/image/store.h"

#include "absl/strings/str_cat.h"

namespace kiln::image {

absl::Status ImageNotFound(const std::string& ref) {
  return absl::NotFoundError(
      absl::StrCat("image ", ref,
                   " is not in kiln's image store; import it first (kiln image import "
                   "FILE ",
                   ref, ")"));
}

absl::StatusOr<Image> MemoryStore::Resolve(const std::string& ref) {
  absl::MutexLock lock(&mu_);
  auto it = images_.find(ref);
  if (it == images_.end()) return ImageNotFound(ref);
  return it->second;
}

}  // namespace kiln::image
