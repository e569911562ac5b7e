// Compression detection by magic number and by media type.
#include <array>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gateway/image/layer/layer.h"

namespace kiln::image {
namespace {

bool StartsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

struct MediaType {
  const char* name;
  Compression compression;
};

constexpr std::array<MediaType, 10> kMediaTypes = {{
    {"application/vnd.oci.image.layer.v1.tar", Compression::kNone},
    {"application/vnd.oci.image.layer.v1.tar+gzip", Compression::kGzip},
    {"application/vnd.oci.image.layer.v1.tar+zstd", Compression::kZstd},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar", Compression::kNone},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Compression::kGzip},
    {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", Compression::kZstd},
    {"application/vnd.docker.image.rootfs.diff.tar.gzip", Compression::kGzip},
    {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", Compression::kGzip},
    // Docker's uncompressed form, seen in `docker save` archives.
    {"application/vnd.docker.image.rootfs.diff.tar", Compression::kNone},
    {"application/vnd.docker.image.rootfs.foreign.diff.tar", Compression::kNone},
}};

}  // namespace

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

absl::StatusOr<Compression> DetectCompression(std::string_view prefix) {
  if (StartsWith(prefix, std::string_view("\x1f\x8b", 2))) return Compression::kGzip;
  if (StartsWith(prefix, std::string_view("\x28\xb5\x2f\xfd", 4))) return Compression::kZstd;
  if (StartsWith(prefix, std::string_view("\xfd"
                                          "7zXZ\x00",
                                          6))) {
    return absl::UnimplementedError("xz-compressed layers are not supported");
  }
  // "BZh", the block size, then the magic of a block or of the end of stream: a
  // plain tar whose first name starts with "BZh" is not mistaken for bzip2.
  if (prefix.size() >= 10 && StartsWith(prefix, "BZh") && prefix[3] >= '1' && prefix[3] <= '9' &&
      (prefix.substr(4, 6) == "1AY&SY" || prefix.substr(4, 6) == "\x17\x72\x45\x38\x50\x90")) {
    return absl::UnimplementedError("bzip2-compressed layers are not supported");
  }
  return Compression::kNone;
}

absl::StatusOr<Compression> CompressionForMediaType(std::string_view media_type) {
  for (const MediaType& m : kMediaTypes) {
    if (media_type == m.name) return m.compression;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported layer media type \"", std::string(media_type), "\""));
}

}  // namespace kiln::image
