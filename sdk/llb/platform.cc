#include "sdk/llb/platform.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace kiln::llb {
namespace {

Platform CompiledPlatform() {
#if defined(__x86_64__)
  return {"linux", "amd64"};
#elif defined(__aarch64__)
  return {"linux", "arm64"};
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7
  return {"linux", "arm", "v7"};
#elif defined(__arm__)
  return {"linux", "arm", "v6"};
#elif defined(__i386__)
  return {"linux", "386"};
#elif defined(__s390x__)
  return {"linux", "s390x"};
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return {"linux", "ppc64le"};
#elif defined(__riscv) && __riscv_xlen == 64
  return {"linux", "riscv64"};
#else
#error "kiln: unknown host architecture; add it to Platform::Host"
#endif
}

}  // namespace

Platform Platform::Host() { return CompiledPlatform().Normalized(); }

Platform Platform::Normalized() const {
  Platform p = *this;
  p.os = p.os.empty() ? "linux" : absl::AsciiStrToLower(p.os);
  if (p.os == "macos") p.os = "darwin";
  p.architecture = absl::AsciiStrToLower(p.architecture);
  p.variant = absl::AsciiStrToLower(p.variant);
  std::sort(p.os_features.begin(), p.os_features.end());
  p.os_features.erase(std::unique(p.os_features.begin(), p.os_features.end()), p.os_features.end());
  const std::string& a = p.architecture;
  std::string& v = p.variant;
  if (a == "i386") {
    p.architecture = "386";
    v.clear();
  } else if (a == "x86_64" || a == "x86-64" || a == "amd64") {
    p.architecture = "amd64";
    if (v == "v1") v.clear();
  } else if (a == "aarch64" || a == "arm64") {
    p.architecture = "arm64";
    if (v == "8" || v == "v8" || v == "v8.0") v.clear();
    if (v == "9" || v == "9.0" || v == "v9.0") v = "v9";
  } else if (a == "armhf") {
    p.architecture = "arm";
    v = "v7";
  } else if (a == "armel") {
    p.architecture = "arm";
    v = "v6";
  } else if (a == "arm") {
    if (v.empty() || v == "7") v = "v7";
    if (v == "5" || v == "6" || v == "8") v = "v" + v;
  }
  return p;
}

pb::Platform Platform::ToProto() const {
  pb::Platform out;
  out.set_os(os);
  out.set_architecture(architecture);
  out.set_variant(variant);
  out.set_osversion(os_version);
  for (const std::string& f : os_features) out.add_osfeatures(f);
  return out;
}

Platform Platform::Parse(std::string_view s) {
  std::vector<std::string> parts = absl::StrSplit(absl::string_view(s.data(), s.size()), '/');
  if (parts.size() == 1) return Platform{"linux", parts[0]};
  return Platform{parts[0], parts[1], parts.size() > 2 ? parts[2] : ""};
}

std::string Platform::ToString() const {
  return absl::StrCat(os, "/", architecture, variant.empty() ? "" : "/", variant);
}

absl::Status CheckNativePlatform(std::string_view wanted, const Platform& native) {
  if (Platform::Parse(wanted).Normalized() == native.Normalized()) return absl::OkStatus();
  return absl::UnimplementedError(
      absl::StrCat("platform ", std::string(wanted), ": kiln builds for the native platform (",
                   native.Normalized().ToString(), ") only, until multi-platform builds come"));
}

}  // namespace kiln::llb
