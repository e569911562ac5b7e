// Docker image reference normalization, as `docker pull` and BuildKit's
// llb.Image apply it (distribution/reference ParseNormalizedNamed followed by
// TagNameOnly):
//
//   NormalizeImageRef("busybox")          -> "docker.io/library/busybox:latest"
//   NormalizeImageRef("me/app:1")         -> "docker.io/me/app:1"
//   NormalizeImageRef("localhost:5000/x") -> "localhost:5000/x:latest"
//   NormalizeImageRef("alpine@sha256:<64 hex>") keeps the digest, adds no tag.
//
// Stateless and thread-safe.
#ifndef KILN_SDK_LLB_IMAGE_REF_H_
#define KILN_SDK_LLB_IMAGE_REF_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kiln::llb {

// The fully qualified form of `ref`. InvalidArgument naming `ref` when it is
// empty, a bare 64-hex image ID, has upper-case repository letters, breaks
// the reference grammar, has a repository path over 255 characters, or
// carries a malformed or unsupported digest.
absl::StatusOr<std::string> NormalizeImageRef(std::string_view ref);

}  // namespace kiln::llb

#endif  // KILN_SDK_LLB_IMAGE_REF_H_
