#include "sdk/base/digest.h"

#include "gtest/gtest.h"

namespace kiln {
namespace {

TEST(DigestTest, KnownVectors) {
  EXPECT_EQ(DigestOf(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DigestTest, IncrementalMatchesOneShot) {
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(h.HexDigest(), Sha256Hex("abc"));
}

TEST(DigestTest, FieldsAreLengthPrefixed) {
  Sha256 a, b;
  a.UpdateField("ab");
  a.UpdateField("c");
  b.UpdateField("a");
  b.UpdateField("bc");
  EXPECT_NE(a.HexDigest(), b.HexDigest());
}

TEST(DigestTest, ValidateRejectsMalformed) {
  EXPECT_TRUE(ValidateDigest(DigestOf("x")).ok());
  EXPECT_EQ(ValidateDigest("sha256:abc").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateDigest("md5:" + std::string(64, 'a')).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateDigest("sha256:" + std::string(64, 'A')).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln
