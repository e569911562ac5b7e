// Hostile and broken layers: nothing may be written outside the destination,
// and every failure is a clear error.
#include <sys/stat.h>

#include <string>
#include <vector>

#include "gateway/fsutil/testing.h"
#include "gateway/image/layer/layer.h"
#include "gateway/image/layer/testing.h"
#include "gtest/gtest.h"
#include "sdk/base/digest.h"

namespace kiln::image {
namespace {

namespace ft = fsutil::testing;
using testing::Compress;
using testing::File;
using testing::Hardlink;
using testing::MakeTar;
using testing::Symlink;
using testing::TarEntry;

// A box holding the destination and some files a hostile layer would like to
// touch; Outside() lists everything in the box but the destination.
class LayerSafetyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    box_ = ft::MakeTempDir();
    dest_ = box_ + "/dest";
    ft::MakeDir(dest_);
    ft::WriteFile(box_ + "/victim", "precious");
    ft::WriteFile(box_ + "/etc/passwd", "root:x:0:0");
    before_ = Outside();
  }

  std::vector<std::string> Outside() {
    std::vector<std::string> out;
    for (const std::string& e : ft::ListTree(box_)) {
      if (e.rfind("dest", 0) != 0) out.push_back(e);
    }
    out.push_back(ft::ReadFile(box_ + "/victim"));
    out.push_back(ft::ReadFile(box_ + "/etc/passwd"));
    return out;
  }

  absl::StatusOr<LayerStats> Apply(const std::string& tar,
                                   ApplyOptions::Whiteouts w = ApplyOptions::Whiteouts::kOci) {
    ApplyOptions opt;
    opt.whiteouts = w;
    opt.name = "sha256:bad";
    std::string data = tar;
    size_t pos = 0;
    return ApplyLayer(
        [&](char* buf, size_t size) -> absl::StatusOr<size_t> {
          size_t n = std::min(size, data.size() - pos);
          data.copy(buf, n, pos);
          pos += n;
          return n;
        },
        dest_, opt);
  }

  // Checks that `tar` fails with `code`, naming the layer, and leaves the box
  // outside dest untouched.
  void ExpectRejected(const std::string& tar, absl::StatusCode code, const std::string& mention) {
    auto stats = Apply(tar);
    EXPECT_EQ(stats.status().code(), code) << stats.status();
    EXPECT_NE(stats.status().message().find("sha256:bad"), std::string::npos) << stats.status();
    EXPECT_NE(stats.status().message().find(mention), std::string::npos) << stats.status();
    EXPECT_EQ(Outside(), before_);
  }

  std::string box_;
  std::string dest_;
  std::vector<std::string> before_;
};

TEST_F(LayerSafetyTest, DotDotNamesAreRejected) {
  ExpectRejected(MakeTar({File("../victim", "pwned")}), absl::StatusCode::kInvalidArgument,
                 "../victim");
  ExpectRejected(MakeTar({File("a/../../victim", "pwned")}), absl::StatusCode::kInvalidArgument,
                 "a/../../victim");
  ExpectRejected(MakeTar({File("a/.wh...", "")}), absl::StatusCode::kInvalidArgument, "a/.wh...");
}

TEST_F(LayerSafetyTest, AbsoluteNamesCountFromTheRoot) {
  auto stats = Apply(MakeTar({File("/etc/passwd", "inside"), File("/../x", "y")}));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(ft::ReadFile(dest_ + "/etc/passwd"), "inside");
  EXPECT_EQ(ft::ReadFile(dest_ + "/x"), "y");
  EXPECT_EQ(Outside(), before_);
}

TEST_F(LayerSafetyTest, SymlinkParentsResolveInsideTheRoot) {
  auto stats = Apply(MakeTar({Symlink("abs", box_ + "/etc"), File("abs/passwd", "pwned"),
                              Symlink("rel", "../../../.."), File("rel/victim", "pwned"),
                              Symlink("etc", "/"), File("etc/passwd", "root-of-dest")}));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(Outside(), before_);
  EXPECT_EQ(ft::ReadFile(dest_ + box_ + "/etc/passwd"), "pwned");
  EXPECT_EQ(ft::ReadFile(dest_ + "/victim"), "pwned");
  EXPECT_EQ(ft::ReadFile(dest_ + "/passwd"), "root-of-dest");
}

TEST_F(LayerSafetyTest, FinalSymlinkIsReplacedNotFollowed) {
  ft::MakeSymlink(box_ + "/victim", dest_ + "/f");
  ft::MakeSymlink(box_ + "/etc", dest_ + "/d");
  TarEntry dir = testing::Dir("d", 0777);
  auto stats = Apply(MakeTar({File("f", "pwned", 0777), dir}));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(Outside(), before_);
  EXPECT_EQ(ft::Lstat(box_ + "/etc").st_mode & 07777, 0755u);
  EXPECT_EQ(ft::ReadFile(dest_ + "/f"), "pwned");
  EXPECT_TRUE(S_ISDIR(ft::Lstat(dest_ + "/d").st_mode));
}

TEST_F(LayerSafetyTest, WhiteoutsThroughSymlinksStayInside) {
  ft::MakeSymlink(box_, dest_ + "/out");
  auto stats = Apply(
      MakeTar({File("out/.wh.victim", ""), File("out/etc/.wh..wh..opq", ""), File(".wh.out", "")}));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(Outside(), before_);
  EXPECT_FALSE(ft::Exists(dest_ + "/out"));  // the symlink itself is whited out
}

TEST_F(LayerSafetyTest, OverlayWhiteoutThroughSymlinkStaysInside) {
  ft::MakeSymlink(box_, dest_ + "/out");
  auto stats = Apply(MakeTar({File("out/.wh.victim", "")}), ApplyOptions::Whiteouts::kOverlay);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(Outside(), before_);
  EXPECT_TRUE(S_ISCHR(ft::Lstat(dest_ + box_ + "/victim").st_mode));
}

TEST_F(LayerSafetyTest, HardlinksOutsideAreRejected) {
  ExpectRejected(MakeTar({Hardlink("h", "../victim")}), absl::StatusCode::kInvalidArgument,
                 "outside");
  // Through a symlink the target resolves inside dest, where it does not exist.
  ExpectRejected(MakeTar({Symlink("s", box_), Hardlink("h", "s/victim")}),
                 absl::StatusCode::kInvalidArgument, "does not exist");
  ExpectRejected(MakeTar({testing::Dir("d"), Hardlink("h", "d")}),
                 absl::StatusCode::kInvalidArgument, "is a directory");
}

TEST_F(LayerSafetyTest, HardlinkToSymlinkLinksTheSymlink) {
  auto stats = Apply(MakeTar({Symlink("s", box_ + "/victim"), Hardlink("h", "s")}));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_TRUE(S_ISLNK(ft::Lstat(dest_ + "/h").st_mode));
  EXPECT_EQ(ft::Lstat(dest_ + "/h").st_ino, ft::Lstat(dest_ + "/s").st_ino);
  EXPECT_EQ(Outside(), before_);
}

TEST_F(LayerSafetyTest, PathBelowAFileIsRejected) {
  ExpectRejected(MakeTar({File("f", "x"), File("f/g", "y")}), absl::StatusCode::kInvalidArgument,
                 "not a directory");
}

TEST_F(LayerSafetyTest, GarbageIsDataLoss) {
  ExpectRejected(std::string(3000, 'x'), absl::StatusCode::kDataLoss, "sha256:bad");
}

TEST_F(LayerSafetyTest, TruncatedTarIsDataLoss) {
  std::string tar = MakeTar({File("a", std::string(5000, 'a')), File("b", "b")});
  ExpectRejected(tar.substr(0, 2000), absl::StatusCode::kDataLoss, "sha256:bad");
}

TEST_F(LayerSafetyTest, TruncatedCompressedStreamsAreDataLoss) {
  std::vector<TarEntry> entries = {File("a", std::string(200000, 'a')), File("b", "b")};
  for (Compression c : {Compression::kGzip, Compression::kZstd}) {
    std::string layer = MakeTar(entries, c);
    ExpectRejected(layer.substr(0, layer.size() / 2), absl::StatusCode::kDataLoss, "sha256:bad");
  }
}

std::string Noise(size_t n) {
  std::string out;
  uint32_t x = 12345;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245 + 12345;
    out.push_back(static_cast<char>(x >> 24));
  }
  return out;
}

// Flipped bytes inside a compressed stream either break the stream or the
// tar (an error), or give other bytes: libarchive checks neither gzip's CRC
// nor zstd's optional checksum, and noise is stored, not coded, so the
// damage passes through. The diff ID then differs from the image config's,
// which is what the caller checks.
TEST_F(LayerSafetyTest, CorruptCompressedStreamsAreCaught) {
  std::vector<TarEntry> entries = {File("a", Noise(100000)), File("b", "b")};
  std::string plain = MakeTar(entries);
  for (Compression c : {Compression::kGzip, Compression::kZstd}) {
    std::string layer = MakeTar(entries, c);
    for (size_t i = layer.size() / 3; i < layer.size() / 3 + 64; ++i) layer[i] ^= 0x5a;
    auto stats = Apply(layer);
    if (stats.ok()) {
      EXPECT_NE(stats->diff_id, DigestOf(plain)) << CompressionName(c);
    } else {
      EXPECT_NE(stats.status().message().find("sha256:bad"), std::string::npos) << stats.status();
    }
    EXPECT_EQ(Outside(), before_);
  }
}

TEST_F(LayerSafetyTest, CompressedNonTarIsDataLoss) {
  ExpectRejected(Compress(std::string(5000, 'x'), Compression::kGzip), absl::StatusCode::kDataLoss,
                 "sha256:bad");
  ExpectRejected(Compress(std::string(5000, 'x'), Compression::kZstd), absl::StatusCode::kDataLoss,
                 "sha256:bad");
}

TEST_F(LayerSafetyTest, ReadErrorsAreReturnedAsIs) {
  std::string tar = MakeTar({File("a", Noise(300000))}, Compression::kGzip);
  size_t pos = 0;
  auto stats = ApplyLayer(
      [&](char* buf, size_t size) -> absl::StatusOr<size_t> {
        if (pos > 1000) return absl::UnavailableError("registry went away");
        size_t n = std::min(size, std::min<size_t>(512, tar.size() - pos));
        tar.copy(buf, n, pos);
        pos += n;
        return n;
      },
      dest_, {});
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kUnavailable) << stats.status();
  EXPECT_EQ(stats.status().message(), "registry went away");
}

TEST_F(LayerSafetyTest, XzIsUnimplemented) {
  ExpectRejected(std::string("\xfd"
                             "7zXZ\0\0\x04\xe6\xd6\xb4\x46\x02\x00\x21\x01",
                             16),
                 absl::StatusCode::kUnimplemented, "xz");
}

}  // namespace
}  // namespace kiln::image
