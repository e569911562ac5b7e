#include <string>

#include "gateway/image/layer/layer.h"
#include "gateway/image/layer/testing.h"
#include "gtest/gtest.h"

namespace kiln::image {
namespace {

TEST(CompressionTest, DetectsByMagic) {
  EXPECT_EQ(*DetectCompression(testing::Compress("x", Compression::kGzip)), Compression::kGzip);
  EXPECT_EQ(*DetectCompression(testing::Compress("x", Compression::kZstd)), Compression::kZstd);
  EXPECT_EQ(*DetectCompression(testing::MakeTar({testing::File("a", "b")})), Compression::kNone);
  EXPECT_EQ(*DetectCompression(""), Compression::kNone);
}

TEST(CompressionTest, TarNamedLikeBzip2IsPlain) {
  EXPECT_EQ(*DetectCompression(testing::MakeTar({testing::File("BZh91AY", "b")})),
            Compression::kNone);
}

TEST(CompressionTest, XzAndBzip2AreUnimplemented) {
  EXPECT_EQ(DetectCompression(std::string("\xfd"
                                          "7zXZ\0\0\x04",
                                          8))
                .status()
                .code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(DetectCompression("BZh91AY&SYxxxx").status().code(), absl::StatusCode::kUnimplemented);
}

TEST(CompressionTest, MediaTypes) {
  EXPECT_EQ(*CompressionForMediaType("application/vnd.oci.image.layer.v1.tar"), Compression::kNone);
  EXPECT_EQ(*CompressionForMediaType("application/vnd.oci.image.layer.v1.tar+gzip"),
            Compression::kGzip);
  EXPECT_EQ(*CompressionForMediaType("application/vnd.oci.image.layer.v1.tar+zstd"),
            Compression::kZstd);
  EXPECT_EQ(
      *CompressionForMediaType("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"),
      Compression::kGzip);
  EXPECT_EQ(
      *CompressionForMediaType("application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"),
      Compression::kZstd);
  EXPECT_EQ(*CompressionForMediaType("application/vnd.oci.image.layer.nondistributable.v1.tar"),
            Compression::kNone);
  EXPECT_EQ(*CompressionForMediaType("application/vnd.docker.image.rootfs.diff.tar.gzip"),
            Compression::kGzip);
  EXPECT_EQ(*CompressionForMediaType("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"),
            Compression::kGzip);
}

TEST(CompressionTest, UnknownMediaTypeIsInvalidArgument) {
  auto c = CompressionForMediaType("application/vnd.oci.image.config.v1+json");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("config.v1+json"), std::string::npos);
}

}  // namespace
}  // namespace kiln::image
