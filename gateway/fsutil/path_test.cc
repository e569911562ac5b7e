#include "gateway/fsutil/path.h"

#include <unistd.h>

#include "gateway/fsutil/testing.h"
#include "gtest/gtest.h"

namespace kiln::fsutil {
namespace {

using testing::MakeDir;
using testing::MakeSymlink;
using testing::MakeTempDir;
using testing::WriteFile;

TEST(EscapesRootTest, LexicalParentReferences) {
  EXPECT_TRUE(EscapesRoot(".."));
  EXPECT_TRUE(EscapesRoot("../x"));
  EXPECT_TRUE(EscapesRoot("../../x"));
  EXPECT_TRUE(EscapesRoot("a/../../x"));
  EXPECT_TRUE(EscapesRoot("./../x"));
  EXPECT_FALSE(EscapesRoot("a/../x"));
  EXPECT_FALSE(EscapesRoot("..x"));
  EXPECT_FALSE(EscapesRoot("x/.."));
  EXPECT_FALSE(EscapesRoot("/../x"));  // absolute: relative to the root
  EXPECT_FALSE(EscapesRoot("."));
  EXPECT_FALSE(EscapesRoot(""));
}

TEST(JoinPathTest, NoDoubledSlashes) {
  EXPECT_EQ(JoinPath("/a", "b"), "/a/b");
  EXPECT_EQ(JoinPath("/a/", "b"), "/a/b");
  EXPECT_EQ(JoinPath("/a/", "/b"), "/a/b");
  EXPECT_EQ(JoinPath("/a", "/b"), "/a/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
  EXPECT_EQ(JoinPath("a", ""), "a");
}

class ResolveInRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir() + "/root";
    MakeDir(root_ + "/etc");
    WriteFile(root_ + "/etc/passwd", "root");
  }
  std::string Resolve(const std::string& p, bool follow = true) {
    auto r = ResolveInRoot(root_, p, follow);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : "";
  }
  std::string root_;
};

TEST_F(ResolveInRootTest, PlainPaths) {
  EXPECT_EQ(Resolve("/"), root_);
  EXPECT_EQ(Resolve(""), root_);
  EXPECT_EQ(Resolve("etc/passwd"), root_ + "/etc/passwd");
  EXPECT_EQ(Resolve("/etc//passwd/"), root_ + "/etc/passwd");
  EXPECT_EQ(Resolve("/missing/deeper"), root_ + "/missing/deeper");
}

TEST_F(ResolveInRootTest, DotDotIsClampedAtRoot) {
  EXPECT_EQ(Resolve("../../../etc/passwd"), root_ + "/etc/passwd");
  EXPECT_EQ(Resolve("/etc/../../.."), root_);
}

TEST_F(ResolveInRootTest, AbsoluteSymlinkIsReRooted) {
  MakeSymlink("/etc", root_ + "/link");
  EXPECT_EQ(Resolve("/link/passwd"), root_ + "/etc/passwd");
  MakeSymlink("/etc/passwd", root_ + "/pw");
  EXPECT_EQ(Resolve("/pw"), root_ + "/etc/passwd");
  EXPECT_EQ(Resolve("/pw", false), root_ + "/pw");
}

TEST_F(ResolveInRootTest, EscapingRelativeSymlinkNeverLeavesRoot) {
  MakeSymlink("../../../../../../etc", root_ + "/a/b/up");
  std::string r = Resolve("/a/b/up/passwd");
  EXPECT_EQ(r, root_ + "/etc/passwd");
  MakeSymlink("../../../../../../../../", root_ + "/top");
  EXPECT_EQ(Resolve("/top"), root_);
  EXPECT_EQ(Resolve("/top/x"), root_ + "/x");
}

TEST_F(ResolveInRootTest, RelativeSymlinkChains) {
  MakeDir(root_ + "/real/dir");
  MakeSymlink("real", root_ + "/l1");
  MakeSymlink("../l1/dir", root_ + "/sub/l2");
  EXPECT_EQ(Resolve("/sub/l2/file"), root_ + "/real/dir/file");
}

TEST_F(ResolveInRootTest, DanglingSymlinkResolvesToTargetInsideRoot) {
  MakeSymlink("/nowhere/file", root_ + "/dangling");
  EXPECT_EQ(Resolve("/dangling"), root_ + "/nowhere/file");
}

TEST_F(ResolveInRootTest, DotDotAppliedLexicallyBeforeLinks) {
  MakeDir(root_ + "/x/y");
  MakeSymlink("/x/y", root_ + "/jump");
  // BuildKit cleans the path first: "/jump/.." is "/" not "/x".
  EXPECT_EQ(Resolve("/jump/.."), root_);
}

TEST_F(ResolveInRootTest, SymlinkLoopIsInvalidArgument) {
  MakeSymlink("b", root_ + "/a");
  MakeSymlink("a", root_ + "/b");
  auto r = ResolveInRoot(root_, "/a/x", true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("too many links"), std::string::npos);
}

TEST_F(ResolveInRootTest, RelFormIsAbsoluteAndClean) {
  MakeSymlink("etc", root_ + "/e");
  auto r = ResolveInRootRel(root_, "e/passwd", true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "/etc/passwd");
}

TEST(AbsPathTest, RelativeToTheWorkingDirectory) {
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
  EXPECT_EQ(AbsPath("/a/b"), "/a/b");
  EXPECT_EQ(AbsPath("."), std::string(cwd));
  EXPECT_EQ(AbsPath("x/y"), std::string(cwd) + "/x/y");
}

}  // namespace
}  // namespace kiln::fsutil
