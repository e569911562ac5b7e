#include "gateway/image/layer/layer.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/testing.h"
#include "gateway/image/layer/testing.h"
#include "gtest/gtest.h"
#include "sdk/base/digest.h"

namespace kiln::image {
namespace {

namespace ft = fsutil::testing;
using testing::Dir;
using testing::File;
using testing::Hardlink;
using testing::MakeTar;
using testing::Symlink;
using testing::TarEntry;

// A ReadFn over `data` that hands out at most `chunk` bytes per call.
ReadFn FromString(const std::string& data, size_t chunk = 4096) {
  auto pos = std::make_shared<size_t>(0);
  return [&data, chunk, pos](char* buf, size_t size) -> absl::StatusOr<size_t> {
    size_t n = std::min({size, chunk, data.size() - *pos});
    data.copy(buf, n, *pos);
    *pos += n;
    return n;
  };
}

absl::StatusOr<LayerStats> Apply(const std::string& tar, const std::string& dest,
                                 ApplyOptions::Whiteouts w = ApplyOptions::Whiteouts::kOci) {
  ApplyOptions opt;
  opt.whiteouts = w;
  opt.name = "sha256:test";
  return ApplyLayer(FromString(tar), dest, opt);
}

TEST(ApplyLayerTest, CreatesEntriesWithMetadata) {
  std::string dest = ft::MakeTempDir();
  TarEntry dir = Dir("etc", 0750);
  dir.uid = 1000;
  dir.gid = 2000;
  dir.mtime = 1500000000;
  TarEntry file = File("etc/conf", "hello", 04755);
  file.uid = 33;
  file.gid = 44;
  file.mtime = 1400000000;
  TarEntry fifo;
  fifo.name = "etc/fifo";
  fifo.type = 'p';
  auto stats = Apply(MakeTar({dir, file, Symlink("etc/link", "conf"),
                              Hardlink("etc/hard", "etc/conf"), fifo, File("usr/bin/tool", "x")}),
                     dest);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->entries, 6);
  EXPECT_EQ(stats->file_bytes, 6);
  struct stat st = ft::Lstat(dest + "/etc");
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 2000u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1500000000);  // set after its children were written
  st = ft::Lstat(dest + "/etc/conf");
  EXPECT_EQ(ft::ReadFile(dest + "/etc/conf"), "hello");
  EXPECT_EQ(st.st_mode & 07777, 04755u);  // set-id bit survives the chown
  EXPECT_EQ(st.st_uid, 33u);
  EXPECT_EQ(st.st_gid, 44u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1400000000);
  EXPECT_EQ(st.st_nlink, 2u);
  EXPECT_EQ(ft::Lstat(dest + "/etc/hard").st_ino, st.st_ino);
  char target[64] = {};
  ASSERT_GT(readlink((dest + "/etc/link").c_str(), target, sizeof(target)), 0);
  EXPECT_STREQ(target, "conf");
  EXPECT_TRUE(S_ISFIFO(ft::Lstat(dest + "/etc/fifo").st_mode));
  // A parent the layer does not list is created 0755.
  EXPECT_EQ(ft::Lstat(dest + "/usr/bin").st_mode & 07777, 0755u);
  EXPECT_EQ(ft::ReadFile(dest + "/usr/bin/tool"), "x");
}

TEST(ApplyLayerTest, DiffIdIsDigestOfUncompressedTarForEveryCompression) {
  std::vector<TarEntry> entries = {Dir("a"), File("a/b", std::string(100000, 'z')),
                                   Symlink("a/c", "b")};
  std::string plain = MakeTar(entries);
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    std::string layer = MakeTar(entries, c);
    EXPECT_EQ(*DetectCompression(layer), c);
    std::string dest = ft::MakeTempDir();
    auto stats = Apply(layer, dest);
    ASSERT_TRUE(stats.ok()) << CompressionName(c) << ": " << stats.status();
    EXPECT_EQ(stats->compression, c);
    EXPECT_EQ(stats->diff_id, DigestOf(plain)) << CompressionName(c);
    EXPECT_EQ(stats->tar_bytes, static_cast<int64_t>(plain.size()));
    EXPECT_EQ(ft::ReadFile(dest + "/a/b"), std::string(100000, 'z'));
  }
}

TEST(ApplyLayerTest, DiffIdCountsTrailingPadding) {
  std::string tar = MakeTar({File("f", "x")}) + std::string(10240, '\0');
  auto stats = Apply(tar, ft::MakeTempDir());
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->diff_id, DigestOf(tar));
}

TEST(ApplyLayerTest, FileAndFdVariants) {
  std::string tmp = ft::MakeTempDir();
  ft::WriteFile(tmp + "/layer.tar.zst", MakeTar({File("f", "content")}, Compression::kZstd));
  std::string dest = ft::MakeTempDir();
  auto stats = ApplyLayerFile(tmp + "/layer.tar.zst", dest, {});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(ft::ReadFile(dest + "/f"), "content");
  EXPECT_EQ(ApplyLayerFile(tmp + "/missing", dest, {}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ApplyLayerFile(tmp + "/layer.tar.zst", tmp + "/nodest", {}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(ApplyLayerTest, LaterLayerReplacesEntriesOfOtherTypes) {
  std::string dest = ft::MakeTempDir();
  ft::WriteFile(dest + "/was_file", "x");
  ft::WriteFile(dest + "/was_dir/deep/f", "x");
  ft::MakeDir(dest + "/was_dir_too");
  ft::WriteFile(dest + "/merged/old", "old");
  auto stats = Apply(
      MakeTar({Dir("was_file", 0700), File("was_dir", "now a file"),
               Symlink("was_dir_too", "target"), Dir("merged", 0711), File("merged/new", "new")}),
      dest);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_TRUE(S_ISDIR(ft::Lstat(dest + "/was_file").st_mode));
  EXPECT_EQ(ft::ReadFile(dest + "/was_dir"), "now a file");
  EXPECT_TRUE(S_ISLNK(ft::Lstat(dest + "/was_dir_too").st_mode));
  EXPECT_EQ(ft::ReadFile(dest + "/merged/old"), "old");  // directories merge
  EXPECT_EQ(ft::ReadFile(dest + "/merged/new"), "new");
  EXPECT_EQ(ft::Lstat(dest + "/merged").st_mode & 07777, 0711u);
}

TEST(ApplyLayerTest, SkipsRootEntry) {
  std::string dest = ft::MakeTempDir();
  chmod(dest.c_str(), 0755);
  auto stats = Apply(MakeTar({Dir("./", 0700), File("./f", "x")}), dest);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(ft::Lstat(dest).st_mode & 07777, 0755u);
  EXPECT_EQ(ft::ReadFile(dest + "/f"), "x");
}

TEST(ApplyLayerTest, DevicesAsRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string dest = ft::MakeTempDir();
  TarEntry null_dev;
  null_dev.name = "dev/null";
  null_dev.type = 'c';
  null_dev.perm = 0666;
  null_dev.major = 1;
  null_dev.minor = 3;
  TarEntry blk = null_dev;
  blk.name = "dev/loop9";
  blk.type = 'b';
  blk.major = 7;
  blk.minor = 9;
  auto stats = Apply(MakeTar({null_dev, blk}), dest);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->skipped_devices, 0);
  struct stat st = ft::Lstat(dest + "/dev/null");
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(st.st_mode & 07777, 0666u);
  EXPECT_EQ(ft::Lstat(dest + "/dev/loop9").st_rdev, makedev(7, 9));
}

TEST(ApplyLayerTest, XattrsAreSetExceptOverlayOnes) {
  std::string dest = ft::MakeTempDir();
  TarEntry f = File("f", "x");
  f.xattrs = {{"user.kiln", "value"}, {"trusted.overlay.opaque", "y"}};
  auto stats = Apply(MakeTar({f}), dest);
  ASSERT_TRUE(stats.ok()) << stats.status();
  char buf[16] = {};
  ssize_t n = lgetxattr((dest + "/f").c_str(), "user.kiln", buf, sizeof(buf));
  if (n < 0) {
    EXPECT_EQ(stats->skipped_xattrs, 2);  // the filesystem has no user xattrs
  } else {
    EXPECT_EQ(std::string(buf, n), "value");
    EXPECT_EQ(stats->skipped_xattrs, 1);
  }
  EXPECT_LT(lgetxattr((dest + "/f").c_str(), "trusted.overlay.opaque", buf, sizeof(buf)), 0);
}

TEST(ApplyLayerTest, ThousandEntries) {
  std::vector<TarEntry> entries;
  for (int d = 0; d < 10; ++d) {
    entries.push_back(Dir(absl::StrCat("d", d)));
    for (int f = 0; f < 99; ++f) {
      entries.push_back(File(absl::StrCat("d", d, "/f", f), absl::StrCat(d, "-", f)));
    }
  }
  std::string dest = ft::MakeTempDir();
  auto stats = Apply(MakeTar(entries, Compression::kGzip), dest);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->entries, 1000);
  EXPECT_EQ(ft::ListTree(dest).size(), 1000u);
  EXPECT_EQ(ft::ReadFile(dest + "/d7/f42"), "7-42");
}

// ---- Whiteouts.

TEST(ApplyLayerTest, OciWhiteoutRemovesFileAndDirectory) {
  std::string dest = ft::MakeTempDir();
  ft::WriteFile(dest + "/a/gone", "x");
  ft::WriteFile(dest + "/a/kept", "x");
  ft::WriteFile(dest + "/tree/deep/f", "x");
  auto stats =
      Apply(MakeTar({File("a/.wh.gone", ""), File(".wh.tree", ""), File("x/.wh.none", "")}), dest);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_FALSE(ft::Exists(dest + "/a/gone"));
  EXPECT_FALSE(ft::Exists(dest + "/a/.wh.gone"));
  EXPECT_TRUE(ft::Exists(dest + "/a/kept"));
  EXPECT_FALSE(ft::Exists(dest + "/tree"));
  EXPECT_FALSE(ft::Exists(dest + "/x"));  // a whiteout below nothing creates nothing
}

TEST(ApplyLayerTest, OciOpaqueKeepsEntriesOfTheSameLayer) {
  std::string dest = ft::MakeTempDir();
  ft::WriteFile(dest + "/o/old", "x");
  ft::WriteFile(dest + "/o/sub/old", "x");
  ft::WriteFile(dest + "/other/old", "x");
  // The marker comes after some of the layer's own entries and before others.
  auto stats = Apply(MakeTar({Dir("o"), File("o/early", "e"), Dir("o/sub"),
                              File("o/.wh..wh..opq", ""), File("o/late", "l")}),
                     dest);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(ft::ListTree(dest + "/o"), (std::vector<std::string>{"early", "late", "sub/"}));
  EXPECT_TRUE(ft::Exists(dest + "/other/old"));
}

TEST(ApplyLayerTest, OciOpaqueKeepsDirectoriesTheLayerOnlyWritesInto) {
  std::string dest = ft::MakeTempDir();
  ft::WriteFile(dest + "/o/sub/old", "x");
  ft::WriteFile(dest + "/o/gone/old", "x");
  auto stats = Apply(MakeTar({File("o/sub/new", "n"), File("o/.wh..wh..opq", "")}), dest);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(ft::ListTree(dest + "/o"), (std::vector<std::string>{"sub/", "sub/new"}));
}

TEST(ApplyLayerTest, EmptyStreamsAreEmptyLayers) {
  for (const std::string& layer :
       {std::string(), std::string(1024, '\0'), MakeTar({}), MakeTar({}, Compression::kGzip),
        MakeTar({}, Compression::kZstd)}) {
    std::string dest = ft::MakeTempDir();
    auto stats = Apply(layer, dest);
    ASSERT_TRUE(stats.ok()) << layer.size() << ": " << stats.status();
    EXPECT_EQ(stats->entries, 0);
    EXPECT_TRUE(ft::ListTree(dest).empty());
  }
  auto stats = Apply("", ft::MakeTempDir());
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->diff_id, DigestOf(""));
}

// A tar member with a 512-byte header block; `name` fits in 100 bytes.
std::string RawMember(const std::string& name, char type, const std::string& data) {
  std::string h(512, '\0');
  name.copy(&h[0], std::min<size_t>(name.size(), 100));
  snprintf(&h[100], 8, "%07o", 0644);
  snprintf(&h[108], 8, "%07o", 0);
  snprintf(&h[116], 8, "%07o", 0);
  snprintf(&h[124], 12, "%011zo", data.size());
  snprintf(&h[136], 12, "%011o", 0);
  h[156] = type;
  memcpy(&h[257],
         "ustar\0"
         "00",
         8);
  memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  snprintf(&h[148], 8, "%06o", sum);
  return h + data + std::string((512 - data.size() % 512) % 512, '\0');
}

// What Go's archive/tar writes for a non-ASCII name: a pax "path" record in
// UTF-8 with no hdrcharset, which libarchive cannot convert to the C locale.
TEST(ApplyLayerTest, GoStylePaxUtf8Names) {
  std::string name = "caf\xc3\xa9/na\xc3\xafve-\xe2\x98\x83";
  std::string record = " path=" + name + "\n";
  record = std::to_string(record.size() + 2) + record;
  std::string tar = RawMember("PaxHeaders/x", 'x', record) + RawMember("cafe", '0', "utf8") +
                    std::string(1024, '\0');
  std::string dest = ft::MakeTempDir();
  auto stats = Apply(tar, dest);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(ft::ReadFile(dest + "/" + name), "utf8");
}

TEST(ApplyLayerTest, LongAndUtf8Names) {
  std::string dest = ft::MakeTempDir();
  std::string long_name = std::string(120, 'd') + "/" + std::string(150, 'f');
  std::string long_target = std::string(200, 't');
  auto stats = Apply(MakeTar({File(long_name, "long"), File("h\xc3\xa9llo-\xe2\x98\x83", "utf8"),
                              Symlink("link", long_target)}),
                     dest);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(ft::ReadFile(dest + "/" + long_name), "long");
  EXPECT_EQ(ft::ReadFile(dest + "/h\xc3\xa9llo-\xe2\x98\x83"), "utf8");
  char target[512] = {};
  ASSERT_EQ(readlink((dest + "/link").c_str(), target, sizeof(target)), 200);
  EXPECT_EQ(std::string(target), long_target);
}

TEST(ApplyLayerTest, OverlayWhiteoutsBecomeDevicesAndOpaqueXattr) {
  std::string dest = ft::MakeTempDir();
  TarEntry wh = File("a/.wh.gone", "");
  wh.uid = 7;
  auto stats =
      Apply(MakeTar({Dir("a"), wh, Dir("o"), File("o/.wh..wh..opq", ""), File("o/new", "n")}), dest,
            ApplyOptions::Whiteouts::kOverlay);
  if (!stats.ok() && stats.status().message().find("trusted.overlay") != std::string::npos) {
    GTEST_SKIP() << "filesystem refuses trusted xattrs: " << stats.status();
  }
  ASSERT_TRUE(stats.ok()) << stats.status();
  struct stat st = ft::Lstat(dest + "/a/gone");
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_EQ(st.st_uid, 7u);
  EXPECT_FALSE(ft::Exists(dest + "/a/.wh.gone"));
  EXPECT_FALSE(ft::Exists(dest + "/o/.wh..wh..opq"));
  char buf[4] = {};
  EXPECT_EQ(lgetxattr((dest + "/o").c_str(), "trusted.overlay.opaque", buf, sizeof(buf)), 1);
  EXPECT_EQ(buf[0], 'y');
  EXPECT_EQ(ft::ReadFile(dest + "/o/new"), "n");
}

TEST(ApplyLayerTest, AufsMetadataIsSkipped) {
  std::string dest = ft::MakeTempDir();
  auto stats = Apply(MakeTar({File(".wh..wh.plnk/123", "x"), File(".wh..wh.aufs", "")}), dest);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->skipped_entries, 2);
  EXPECT_FALSE(ft::Exists(dest + "/.wh..wh.aufs"));
  EXPECT_FALSE(ft::Exists(dest + "/.wh..wh.plnk"));
}

TEST(ApplyLayerTest, InvalidWhiteoutNameIsRejected) {
  auto stats = Apply(MakeTar({File("a/.wh..", "")}), ft::MakeTempDir());
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln::image
