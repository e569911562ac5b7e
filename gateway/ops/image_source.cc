// The image source: an image's filesystem, from the image store. Its cache
// key is the manifest digest, so a tag that moves rebuilds what stands on it.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/ops/internal.h"
#include "sdk/base/digest.h"
#include "sdk/base/status_macros.h"

namespace kiln::ops_internal {
namespace {

class ImageRunner : public solver::OpRunner {
 public:
  ImageRunner(std::string ref, image::Store* images) : ref_(std::move(ref)), images_(images) {}

  absl::StatusOr<solver::CacheMap> GetCacheMap(solver::OpContext&) override {
    KILN_ASSIGN_OR_RETURN(image_, images_->Resolve(ref_));
    Sha256 h;
    h.UpdateField("image");
    h.UpdateField(image_.digest);
    return solver::CacheMap{h.Digest(), {}, true};
  }

  absl::StatusOr<std::vector<cache::Committed>> Run(solver::OpContext&,
                                                    const std::vector<cache::Chain>&) override {
    // The store owns and records the layers; the result only points at them.
    return std::vector<cache::Committed>{cache::Committed{image_.chain, {}}};
  }

 private:
  std::string ref_;
  image::Store* images_;
  image::Image image_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<solver::OpRunner>> NewImageRunner(const solver::Vertex& v,
                                                                 image::Store* images) {
  std::string ref = v.op.source().identifier().substr(std::string("docker-image://").size());
  if (ref.empty()) return absl::InvalidArgumentError("image source without a reference");
  if (images == nullptr) {
    return absl::UnimplementedError(absl::StrCat(
        "image ", ref, ": kiln has no image store yet (it comes with the container work)"));
  }
  return std::make_unique<ImageRunner>(std::move(ref), images);
}

}  // namespace kiln::ops_internal
