#include "gateway/fsutil/diff.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "gateway/fsutil/copy.h"
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

bool IsWhiteout(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

std::string Opaque(const std::string& path) {
  char buf[8];
  ssize_t n = lgetxattr(path.c_str(), "trusted.overlay.opaque", buf, sizeof(buf));
  return n < 0 ? "" : std::string(buf, n);
}

class DiffTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = MakeTempDir();
    lower_ = base_ + "/lower";
    upper_ = base_ + "/upper";
    out_ = base_ + "/out";
    WriteFile(lower_ + "/same", "same");
    WriteFile(lower_ + "/changed", "aaaa");
    WriteFile(lower_ + "/removed", "bye");
    WriteFile(lower_ + "/dir/keep", "keep");
    WriteFile(lower_ + "/dir/gone", "gone");
    MakeSymlink("t1", lower_ + "/link");
    WriteFile(lower_ + "/wiped/a", "a");
    WriteFile(lower_ + "/wiped/b", "b");
    ASSERT_TRUE(CopyTree(lower_, upper_, CopyOptions()).ok());
  }
  void Diff() {
    absl::Status s = DiffTrees(lower_, upper_, out_);
    ASSERT_TRUE(s.ok()) << s;
  }
  std::string base_, lower_, upper_, out_;
};

TEST_F(DiffTest, IdenticalTreesGiveEmptyLayer) {
  SetMtime(upper_ + "/same", 42);  // times are not changes
  Diff();
  EXPECT_TRUE(ListTree(out_).empty());
}

TEST_F(DiffTest, AddedChangedAndRemovedEntries) {
  WriteFile(upper_ + "/changed", "bbbb");  // same size, other bytes
  WriteFile(upper_ + "/added/new", "new");
  ASSERT_EQ(unlink((upper_ + "/removed").c_str()), 0);
  ASSERT_EQ(unlink((upper_ + "/dir/gone").c_str()), 0);
  ASSERT_EQ(unlink((upper_ + "/link").c_str()), 0);
  MakeSymlink("t2", upper_ + "/link");
  Diff();
  EXPECT_EQ(ListTree(out_), (std::vector<std::string>{"added/", "added/new", "changed", "dir/",
                                                      "dir/gone", "link->t2", "removed"}));
  EXPECT_EQ(ReadFile(out_ + "/changed"), "bbbb");
  EXPECT_TRUE(IsWhiteout(out_ + "/removed"));
  EXPECT_TRUE(IsWhiteout(out_ + "/dir/gone"));
  EXPECT_FALSE(Exists(out_ + "/dir/keep"));
}

TEST_F(DiffTest, ParentDirsCarryUpperMetadata) {
  ASSERT_EQ(chmod((upper_ + "/dir").c_str(), 0700), 0);
  SetMtime(upper_ + "/dir", 1111111111);
  Diff();
  EXPECT_EQ(ListTree(out_), (std::vector<std::string>{"dir/"}));
  EXPECT_EQ(Lstat(out_ + "/dir").st_mode & 07777, 0700u);
  WriteFile(upper_ + "/dir/keep", "KEEP");
  SetMtime(upper_ + "/dir", 1111111111);
  std::string out2 = base_ + "/out2";
  ASSERT_TRUE(DiffTrees(lower_, upper_, out2).ok());
  EXPECT_EQ(Lstat(out2 + "/dir").st_mtim.tv_sec, 1111111111);
}

TEST_F(DiffTest, ModeAndOwnerChangesAreChanges) {
  ASSERT_EQ(chmod((upper_ + "/same").c_str(), 0600), 0);
  ASSERT_EQ(lchown((upper_ + "/dir/keep").c_str(), 3, 3), 0);
  Diff();
  EXPECT_EQ(ListTree(out_), (std::vector<std::string>{"dir/", "dir/keep", "same"}));
  EXPECT_EQ(Lstat(out_ + "/dir/keep").st_uid, 3u);
}

TEST_F(DiffTest, AllOldEntriesReplacedMakesOpaqueDir) {
  ASSERT_TRUE(RemoveAll(upper_ + "/wiped").ok());
  WriteFile(upper_ + "/wiped/fresh", "fresh");
  Diff();
  EXPECT_EQ(Opaque(out_ + "/wiped"), "y");
  EXPECT_EQ(ListTree(out_), (std::vector<std::string>{"wiped/", "wiped/fresh"}));
}

TEST_F(DiffTest, TypeChangesCopyTheNewEntry) {
  ASSERT_TRUE(RemoveAll(upper_ + "/dir").ok());
  WriteFile(upper_ + "/dir", "now a file");
  ASSERT_EQ(unlink((upper_ + "/same").c_str()), 0);
  WriteFile(upper_ + "/same/inner", "now a dir");
  Diff();
  EXPECT_EQ(ReadFile(out_ + "/dir"), "now a file");
  EXPECT_EQ(ReadFile(out_ + "/same/inner"), "now a dir");
}

TEST_F(DiffTest, RemovedDirectoryIsOneWhiteout) {
  ASSERT_TRUE(RemoveAll(upper_ + "/dir").ok());
  Diff();
  EXPECT_EQ(ListTree(out_), (std::vector<std::string>{"dir"}));
  EXPECT_TRUE(IsWhiteout(out_ + "/dir"));
}

TEST_F(DiffTest, MissingInputIsNotFound) {
  EXPECT_EQ(DiffTrees(base_ + "/nope", upper_, out_).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace kiln::fsutil
