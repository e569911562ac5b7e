// The OCI platform an op runs on or an image is pulled for.
//
//   llb::Platform arm{"linux", "arm64"};
//   llb::State img = llb::Image("alpine", llb::ImageOptions{arm});
//
// A plain value type; thread-compatible.
#ifndef KILN_SDK_LLB_PLATFORM_H_
#define KILN_SDK_LLB_PLATFORM_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "proto/llb/ops.pb.h"

namespace kiln::llb {

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // "amd64", "arm64", "arm", ...
  std::string variant;       // "v7" for 32-bit arm; usually empty
  std::string os_version;    // Windows only
  std::vector<std::string> os_features;

  // The platform this process was compiled for, normalized; what BuildKit's
  // Go client uses when no platform is given (platforms.DefaultSpec).
  static Platform Host();

  // containerd's normalization: lower-case names, empty OS -> "linux",
  // canonical architectures ("x86_64" -> "amd64", "aarch64" -> "arm64",
  // "armhf" -> arm/v7), default variants dropped ("arm64/v8" -> "arm64"),
  // OS features sorted and deduplicated.
  Platform Normalized() const;

  pb::Platform ToProto() const;

  // "os/arch[/variant]", or "arch" alone for linux; not normalized.
  static Platform Parse(std::string_view s);
  // "os/arch[/variant]".
  std::string ToString() const;

  friend bool operator==(const Platform& a, const Platform& b) {
    return a.os == b.os && a.architecture == b.architecture && a.variant == b.variant &&
           a.os_version == b.os_version && a.os_features == b.os_features;
  }
  friend bool operator!=(const Platform& a, const Platform& b) { return !(a == b); }
};

// OK when `wanted` ("linux/amd64", as --platform gives it) is `native`
// after normalization; Unimplemented naming both otherwise, since kiln
// builds for the native platform only until multi-platform builds come.
absl::Status CheckNativePlatform(std::string_view wanted,
                                 const Platform& native = Platform::Host());

}  // namespace kiln::llb

#endif  // KILN_SDK_LLB_PLATFORM_H_
