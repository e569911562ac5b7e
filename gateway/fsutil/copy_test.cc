#include "gateway/fsutil/copy.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "gateway/fsutil/testing.h"
#include "gtest/gtest.h"

namespace kiln::fsutil {
namespace {

using testing::Exists;
using testing::ListTree;
using testing::Lstat;
using testing::MakeDir;
using testing::MakeSymlink;
using testing::MakeTempDir;
using testing::ReadFile;
using testing::SetMtime;
using testing::WriteFile;

std::string GetXattr(const std::string& path, const char* name) {
  char buf[256];
  ssize_t n = lgetxattr(path.c_str(), name, buf, sizeof(buf));
  return n < 0 ? "<none>" : std::string(buf, n);
}

class CopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = MakeTempDir();
    src_ = base_ + "/src";
    dst_ = base_ + "/dst";
    MakeDir(src_);
  }
  std::string base_, src_, dst_;
};

TEST_F(CopyTest, PreservesMetadataOfEveryType) {
  WriteFile(src_ + "/f", "hello");
  ASSERT_EQ(lchown((src_ + "/f").c_str(), 1234, 5678), 0);
  ASSERT_EQ(chmod((src_ + "/f").c_str(), 04750), 0);  // after chown, which clears set-id
  SetMtime(src_ + "/f", 1000000000, 123456789);
  MakeDir(src_ + "/d", 01777);
  MakeSymlink("../f", src_ + "/d/link");
  ASSERT_EQ(lchown((src_ + "/d/link").c_str(), 7, 8), 0);
  SetMtime(src_ + "/d", 1500000000, 42);
  ASSERT_EQ(mkfifo((src_ + "/fifo").c_str(), 0604), 0);
  ASSERT_EQ(mknod((src_ + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  ASSERT_EQ(setxattr((src_ + "/f").c_str(), "user.k", "v", 1, 0), 0);

  ASSERT_TRUE(CopyTree(src_, dst_, CopyOptions()).ok());

  struct stat f = Lstat(dst_ + "/f");
  EXPECT_EQ(f.st_mode & 07777, 04750u);
  EXPECT_EQ(f.st_uid, 1234u);
  EXPECT_EQ(f.st_gid, 5678u);
  EXPECT_EQ(f.st_mtim.tv_sec, 1000000000);
  EXPECT_EQ(f.st_mtim.tv_nsec, 123456789);
  EXPECT_EQ(ReadFile(dst_ + "/f"), "hello");
  EXPECT_EQ(GetXattr(dst_ + "/f", "user.k"), "v");
  struct stat d = Lstat(dst_ + "/d");
  EXPECT_EQ(d.st_mode & 07777, 01777u);
  EXPECT_EQ(d.st_mtim.tv_sec, 1500000000);  // set after its contents
  EXPECT_EQ(d.st_mtim.tv_nsec, 42);
  struct stat l = Lstat(dst_ + "/d/link");
  EXPECT_TRUE(S_ISLNK(l.st_mode));
  EXPECT_EQ(l.st_uid, 7u);
  EXPECT_TRUE(S_ISFIFO(Lstat(dst_ + "/fifo").st_mode));
  EXPECT_EQ(Lstat(dst_ + "/fifo").st_mode & 07777, 0604u);
  struct stat n = Lstat(dst_ + "/null");
  EXPECT_TRUE(S_ISCHR(n.st_mode));
  EXPECT_EQ(n.st_rdev, makedev(1, 3));
  EXPECT_EQ(ListTree(dst_), ListTree(src_));
}

TEST_F(CopyTest, HardLinksWithinTheTreeStayLinked) {
  WriteFile(src_ + "/a", "same");
  MakeDir(src_ + "/sub");
  ASSERT_EQ(link((src_ + "/a").c_str(), (src_ + "/sub/b").c_str()), 0);
  WriteFile(src_ + "/c", "same");
  ASSERT_TRUE(CopyTree(src_, dst_, CopyOptions()).ok());
  EXPECT_EQ(Lstat(dst_ + "/a").st_ino, Lstat(dst_ + "/sub/b").st_ino);
  EXPECT_EQ(Lstat(dst_ + "/a").st_nlink, 2u);
  EXPECT_NE(Lstat(dst_ + "/a").st_ino, Lstat(src_ + "/a").st_ino);
  EXPECT_NE(Lstat(dst_ + "/a").st_ino, Lstat(dst_ + "/c").st_ino);
}

TEST_F(CopyTest, LargeFileContentIsExact) {
  std::string big;
  for (int i = 0; i < 300000; ++i) big += static_cast<char>('a' + i % 26) + std::to_string(i);
  WriteFile(src_ + "/big", big);
  ASSERT_TRUE(CopyTree(src_, dst_, CopyOptions()).ok());
  EXPECT_EQ(ReadFile(dst_ + "/big"), big);
}

TEST_F(CopyTest, OverridesApplyToEveryEntry) {
  WriteFile(src_ + "/a/f", "x", 0600);
  MakeSymlink("f", src_ + "/a/l");
  CopyOptions opt;
  opt.chown = Ownership{100, 200};
  opt.chmod = 0751;
  opt.mtime_ns = 86400LL * 1000000000 + 5;
  ASSERT_TRUE(CopyTree(src_, dst_, opt).ok());
  for (const char* p : {"/a", "/a/f"}) {
    struct stat st = Lstat(dst_ + p);
    EXPECT_EQ(st.st_uid, 100u) << p;
    EXPECT_EQ(st.st_gid, 200u) << p;
    EXPECT_EQ(st.st_mode & 07777, 0751u) << p;
    EXPECT_EQ(st.st_mtim.tv_sec, 86400) << p;
    EXPECT_EQ(st.st_mtim.tv_nsec, 5) << p;
  }
  struct stat l = Lstat(dst_ + "/a/l");
  EXPECT_EQ(l.st_uid, 100u);
  EXPECT_EQ(l.st_mtim.tv_sec, 86400);
}

TEST_F(CopyTest, ModeSetIsAppliedToSourceMode) {
  WriteFile(src_ + "/f", "x", 0640);
  MakeDir(src_ + "/d", 0700);
  auto ms = ModeSet::Parse("go+rX");
  ASSERT_TRUE(ms.ok());
  CopyOptions opt;
  opt.mode_set = &*ms;
  opt.chmod = 0777;  // mode_set wins
  ASSERT_TRUE(CopyTree(src_, dst_, opt).ok());
  EXPECT_EQ(Lstat(dst_ + "/f").st_mode & 07777, 0644u);
  EXPECT_EQ(Lstat(dst_ + "/d").st_mode & 07777, 0755u);
}

TEST_F(CopyTest, MergeIntoExistingDirectory) {
  WriteFile(src_ + "/new", "new");
  WriteFile(src_ + "/over", "src");
  MakeDir(src_ + "/sub", 0700);
  WriteFile(src_ + "/sub/x", "x");
  ASSERT_EQ(chmod(src_.c_str(), 0700), 0);
  SetMtime(src_, 2000000000);
  WriteFile(dst_ + "/keep", "keep");
  WriteFile(dst_ + "/over", "dst-longer-content");
  MakeDir(dst_ + "/sub", 0755);
  ASSERT_EQ(chmod(dst_.c_str(), 0711), 0);
  ASSERT_TRUE(CopyTree(src_, dst_, CopyOptions()).ok());
  EXPECT_EQ(ReadFile(dst_ + "/keep"), "keep");
  EXPECT_EQ(ReadFile(dst_ + "/over"), "src");
  EXPECT_EQ(ReadFile(dst_ + "/sub/x"), "x");
  // Nested directories take the source's metadata; the top keeps its own
  // mode but gets the source's times (BuildKit).
  EXPECT_EQ(Lstat(dst_ + "/sub").st_mode & 07777, 0700u);
  EXPECT_EQ(Lstat(dst_).st_mode & 07777, 0711u);
  EXPECT_EQ(Lstat(dst_).st_mtim.tv_sec, 2000000000);
}

TEST_F(CopyTest, FileOntoDirectoryFails) {
  WriteFile(src_ + "/x", "file");
  MakeDir(dst_ + "/x");
  absl::Status s = CopyTree(src_, dst_, CopyOptions());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
}

TEST_F(CopyTest, DirectoryOntoFileFails) {
  MakeDir(src_ + "/x");
  WriteFile(dst_ + "/x", "file");
  absl::Status s = CopyTree(src_, dst_, CopyOptions());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("non-directory"), std::string::npos);
}

TEST_F(CopyTest, ReplaceExistingSwapsTypes) {
  MakeDir(src_ + "/was_file");
  WriteFile(src_ + "/was_file/in", "in");
  WriteFile(src_ + "/was_dir", "now a file");
  WriteFile(dst_ + "/was_file", "old");
  WriteFile(dst_ + "/was_dir/deep/old", "old");
  CopyOptions opt;
  opt.replace_existing = true;
  ASSERT_TRUE(CopyTree(src_, dst_, opt).ok());
  EXPECT_EQ(ReadFile(dst_ + "/was_file/in"), "in");
  EXPECT_EQ(ReadFile(dst_ + "/was_dir"), "now a file");
}

TEST_F(CopyTest, SymlinkReplacesExistingFile) {
  MakeSymlink("target", src_ + "/l");
  WriteFile(dst_ + "/l", "file");
  ASSERT_TRUE(CopyTree(src_, dst_, CopyOptions()).ok());
  EXPECT_TRUE(S_ISLNK(Lstat(dst_ + "/l").st_mode));
}

TEST_F(CopyTest, FilterCreatesOnlyParentsOfSelectedEntries) {
  WriteFile(src_ + "/a/b/keep.txt", "k");
  WriteFile(src_ + "/a/b/drop.bin", "d");
  WriteFile(src_ + "/c/drop.bin", "d");
  MakeDir(src_ + "/a", 0700);
  SetMtime(src_ + "/a", 1234567890);
  auto f = Filter::Create({"**/*.txt"}, {});
  ASSERT_TRUE(f.ok());
  CopyOptions opt;
  opt.filter = &*f;
  ASSERT_TRUE(CopyTree(src_, dst_, opt).ok());
  EXPECT_EQ(ListTree(dst_), (std::vector<std::string>{"a/", "a/b/", "a/b/keep.txt"}));
  EXPECT_EQ(Lstat(dst_ + "/a").st_mode & 07777, 0700u);
  EXPECT_EQ(Lstat(dst_ + "/a").st_mtim.tv_sec, 1234567890);
}

TEST_F(CopyTest, OverlayXattrsAreNotCopied) {
  MakeDir(src_ + "/d");
  ASSERT_EQ(lsetxattr((src_ + "/d").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  ASSERT_EQ(lsetxattr((src_ + "/d").c_str(), "trusted.other", "z", 1, 0), 0);
  ASSERT_TRUE(CopyTree(src_, dst_, CopyOptions()).ok());
  EXPECT_EQ(GetXattr(dst_ + "/d", "trusted.overlay.opaque"), "<none>");
  EXPECT_EQ(GetXattr(dst_ + "/d", "trusted.other"), "z");
}

TEST_F(CopyTest, MissingSourceIsNotFoundNamingIt) {
  absl::Status s = CopyTree(src_ + "/nope", dst_, CopyOptions());
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find(src_ + "/nope"), std::string::npos);
}

TEST_F(CopyTest, CopyFileSingleAndRejectsDirectory) {
  WriteFile(src_ + "/f", "content", 0755);
  WriteFile(base_ + "/existing", "old");
  ASSERT_TRUE(CopyFile(src_ + "/f", base_ + "/existing", CopyOptions()).ok());
  EXPECT_EQ(ReadFile(base_ + "/existing"), "content");
  EXPECT_EQ(Lstat(base_ + "/existing").st_mode & 07777, 0755u);
  EXPECT_EQ(CopyFile(src_, base_ + "/x", CopyOptions()).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CopyTest, DestinationInsideSourceIsNotCopiedIntoItself) {
  WriteFile(src_ + "/a/f", "f");
  ASSERT_TRUE(CopyTree(src_, src_ + "/a/copy", CopyOptions()).ok());
  EXPECT_EQ(ListTree(src_),
            (std::vector<std::string>{"a/", "a/copy/", "a/copy/a/", "a/copy/a/f", "a/f"}));
}

TEST_F(CopyTest, TreeOntoItselfLosesNothing) {
  WriteFile(src_ + "/f", "keep me");
  CopyOptions opt;
  opt.replace_existing = true;
  ASSERT_TRUE(CopyTree(src_, src_, opt).ok());
  EXPECT_EQ(ReadFile(src_ + "/f"), "keep me");
  ASSERT_TRUE(CopyFile(src_ + "/f", src_ + "/f", CopyOptions()).ok());
  EXPECT_EQ(ReadFile(src_ + "/f"), "keep me");
}

TEST(TreeTest, MkdirAllReportsCreatedDirsWithExactMode) {
  std::string base = MakeTempDir();
  mode_t old = umask(077);
  auto made = MkdirAll(base + "/a/b/c", 0755, Ownership{5, 6}, 1000000000LL * 7);
  umask(old);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(*made, (std::vector<std::string>{base + "/a", base + "/a/b", base + "/a/b/c"}));
  struct stat st = Lstat(base + "/a/b");
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  EXPECT_EQ(st.st_uid, 5u);
  auto again = MkdirAll(base + "/a/b/c", 0700, std::nullopt, std::nullopt);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
}

TEST(TreeTest, MkdirAllThroughFileFails) {
  std::string base = MakeTempDir();
  WriteFile(base + "/f", "");
  auto made = MkdirAll(base + "/f/x", 0755, std::nullopt, std::nullopt);
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(TreeTest, RemoveAllNeverFollowsSymlinks) {
  std::string base = MakeTempDir();
  WriteFile(base + "/outside/keep", "k");
  WriteFile(base + "/victim/a/b", "x");
  MakeSymlink("../../outside", base + "/victim/a/link");
  ASSERT_TRUE(RemoveAll(base + "/victim").ok());
  EXPECT_FALSE(Exists(base + "/victim"));
  EXPECT_EQ(ReadFile(base + "/outside/keep"), "k");
  EXPECT_TRUE(RemoveAll(base + "/victim").ok());  // missing is fine
}

}  // namespace
}  // namespace kiln::fsutil
