#include "gateway/ops/file/actions.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gateway/fsutil/testing.h"
#include "gtest/gtest.h"

namespace kiln::ops {
namespace {

using fsutil::testing::Exists;
using fsutil::testing::ListTree;
using fsutil::testing::Lstat;
using fsutil::testing::MakeDir;
using fsutil::testing::MakeSymlink;
using fsutil::testing::MakeTempDir;
using fsutil::testing::ReadFile;
using fsutil::testing::WriteFile;

constexpr int64_t kTs = 1234567890LL * 1000000000 + 42;

class ActionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = MakeTempDir();
    root_ = base_ + "/root";
    MakeDir(root_);
    old_umask_ = umask(077);  // results must not depend on it
  }
  void TearDown() override { umask(old_umask_); }
  void ExpectNoHostPath(const absl::Status& s) {
    EXPECT_EQ(std::string(s.message()).find(root_), std::string::npos) << s;
  }
  std::string base_, root_;
  mode_t old_umask_;
};

pb::FileActionMkDir MkdirAction(const std::string& path, int mode, bool parents) {
  pb::FileActionMkDir a;
  a.set_path(path);
  a.set_mode(mode);
  a.set_makeparents(parents);
  a.set_timestamp(-1);
  return a;
}

TEST_F(ActionsTest, MkdirWithParentsExactModeOwnerAndTime) {
  pb::FileActionMkDir a = MkdirAction("/a/b/c", 0751, true);
  a.set_timestamp(kTs);
  ASSERT_TRUE(ApplyMkdir(root_, a, Ownership{10, 20}).ok());
  for (const char* p : {"/a", "/a/b", "/a/b/c"}) {
    struct stat st = Lstat(root_ + p);
    EXPECT_EQ(st.st_mode & 07777, 0751u) << p;
    EXPECT_EQ(st.st_uid, 10u) << p;
    EXPECT_EQ(st.st_gid, 20u) << p;
    EXPECT_EQ(st.st_mtim.tv_sec, 1234567890) << p;
    EXPECT_EQ(st.st_mtim.tv_nsec, 42) << p;
  }
  // Existing directories are fine with makeParents.
  EXPECT_TRUE(ApplyMkdir(root_, a, std::nullopt).ok());
}

TEST_F(ActionsTest, MkdirModeIsMaskedToPermissionBits) {
  ASSERT_TRUE(ApplyMkdir(root_, MkdirAction("/d", 04777, false), std::nullopt).ok());
  EXPECT_EQ(Lstat(root_ + "/d").st_mode & 07777, 0777u);
}

TEST_F(ActionsTest, MkdirWithoutParentsNeedsParent) {
  absl::Status s = ApplyMkdir(root_, MkdirAction("/x/y", 0755, false), std::nullopt);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("/x/y"), std::string::npos) << s;
  ExpectNoHostPath(s);
}

TEST_F(ActionsTest, MkdirOnExistingEntryIsAccepted) {
  WriteFile(root_ + "/f", "x", 0600);
  ASSERT_TRUE(ApplyMkdir(root_, MkdirAction("/f", 0755, false), Ownership{1, 1}).ok());
  EXPECT_TRUE(S_ISREG(Lstat(root_ + "/f").st_mode));
  EXPECT_EQ(Lstat(root_ + "/f").st_uid, 0u);  // untouched, as in BuildKit
}

TEST_F(ActionsTest, MkdirParentsThroughFileFails) {
  WriteFile(root_ + "/f", "x");
  absl::Status s = ApplyMkdir(root_, MkdirAction("/f/sub", 0755, true), std::nullopt);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  ExpectNoHostPath(s);
}

TEST_F(ActionsTest, MkdirThroughEscapingSymlinkStaysInRoot) {
  MakeSymlink("../../../../../../..", root_ + "/up");
  ASSERT_TRUE(ApplyMkdir(root_, MkdirAction("/up/escaped", 0755, true), std::nullopt).ok());
  EXPECT_TRUE(Exists(root_ + "/escaped"));
  EXPECT_FALSE(Exists(base_ + "/escaped"));
}

TEST_F(ActionsTest, MkdirTimestampZeroIsTheEpoch) {
  pb::FileActionMkDir a = MkdirAction("/e", 0755, false);
  a.set_timestamp(0);
  ASSERT_TRUE(ApplyMkdir(root_, a, std::nullopt).ok());
  EXPECT_EQ(Lstat(root_ + "/e").st_mtim.tv_sec, 0);
  ASSERT_TRUE(ApplyMkdir(root_, MkdirAction("/now", 0755, false), std::nullopt).ok());
  EXPECT_GT(Lstat(root_ + "/now").st_mtim.tv_sec, time(nullptr) - 60);
}

pb::FileActionMkFile MkfileAction(const std::string& path, const std::string& data, int mode) {
  pb::FileActionMkFile a;
  a.set_path(path);
  a.set_data(data);
  a.set_mode(mode);
  a.set_timestamp(-1);
  return a;
}

TEST_F(ActionsTest, MkfileWritesDataModeOwnerAndTime) {
  pb::FileActionMkFile a = MkfileAction("f.txt", "hello\n", 0640);
  a.set_timestamp(kTs);
  ASSERT_TRUE(ApplyMkfile(root_, a, Ownership{3, 4}).ok());
  EXPECT_EQ(ReadFile(root_ + "/f.txt"), "hello\n");
  struct stat st = Lstat(root_ + "/f.txt");
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_uid, 3u);
  EXPECT_EQ(st.st_gid, 4u);
  EXPECT_EQ(st.st_mtim.tv_nsec, 42);
}

TEST_F(ActionsTest, MkfileTruncatesExistingAndKeepsItsMode) {
  WriteFile(root_ + "/f", "a much longer old content", 0600);
  ASSERT_TRUE(ApplyMkfile(root_, MkfileAction("/f", "new", 0777), std::nullopt).ok());
  EXPECT_EQ(ReadFile(root_ + "/f"), "new");
  EXPECT_EQ(Lstat(root_ + "/f").st_mode & 07777, 0600u);
}

TEST_F(ActionsTest, MkfileErrors) {
  absl::Status s = ApplyMkfile(root_, MkfileAction("/missing/f", "", 0644), std::nullopt);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("/missing/f"), std::string::npos);
  ExpectNoHostPath(s);
  MakeDir(root_ + "/dir");
  s = ApplyMkfile(root_, MkfileAction("/dir", "", 0644), std::nullopt);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
}

TEST_F(ActionsTest, MkfileThroughAbsoluteSymlinkIsReRooted) {
  MakeDir(root_ + "/real");
  MakeSymlink("/real", root_ + "/link");
  ASSERT_TRUE(ApplyMkfile(root_, MkfileAction("/link/f", "x", 0644), std::nullopt).ok());
  EXPECT_EQ(ReadFile(root_ + "/real/f"), "x");
}

pb::FileActionRm RmAction(const std::string& path, bool allow_not_found, bool wildcard) {
  pb::FileActionRm a;
  a.set_path(path);
  a.set_allownotfound(allow_not_found);
  a.set_allowwildcard(wildcard);
  return a;
}

TEST_F(ActionsTest, RmRemovesFilesAndTrees) {
  WriteFile(root_ + "/f", "");
  WriteFile(root_ + "/d/e/f", "");
  ASSERT_TRUE(ApplyRm(root_, RmAction("/f", false, false)).ok());
  ASSERT_TRUE(ApplyRm(root_, RmAction("d", false, false)).ok());
  EXPECT_TRUE(ListTree(root_).empty());
}

TEST_F(ActionsTest, RmMissingIsNotFoundUnlessAllowed) {
  absl::Status s = ApplyRm(root_, RmAction("/nope", false, false));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("/nope"), std::string::npos);
  EXPECT_TRUE(ApplyRm(root_, RmAction("/nope", true, false)).ok());
}

TEST_F(ActionsTest, RmWildcard) {
  WriteFile(root_ + "/logs/a.log", "");
  WriteFile(root_ + "/logs/b.log", "");
  WriteFile(root_ + "/logs/keep.txt", "");
  ASSERT_TRUE(ApplyRm(root_, RmAction("/logs/*.log", false, true)).ok());
  EXPECT_EQ(ListTree(root_), (std::vector<std::string>{"logs/", "logs/keep.txt"}));
  EXPECT_TRUE(ApplyRm(root_, RmAction("/logs/*.none", false, true)).ok());
  EXPECT_EQ(ApplyRm(root_, RmAction("/nodir/*.log", true, true)).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ActionsTest, RmRemovesTheSymlinkNotItsTarget) {
  WriteFile(root_ + "/target/keep", "k");
  MakeSymlink("/target", root_ + "/link");
  ASSERT_TRUE(ApplyRm(root_, RmAction("/link", false, false)).ok());
  EXPECT_FALSE(Exists(root_ + "/link"));
  EXPECT_EQ(ReadFile(root_ + "/target/keep"), "k");
}

TEST_F(ActionsTest, RmParentTraversalDoesNotEscapeRoot) {
  WriteFile(base_ + "/outside", "precious");
  ASSERT_TRUE(ApplyRm(root_, RmAction("../../outside", true, false)).ok());
  EXPECT_EQ(ReadFile(base_ + "/outside"), "precious");
  MakeSymlink("../..", root_ + "/up");
  ASSERT_TRUE(ApplyRm(root_, RmAction("/up/outside", true, false)).ok());
  EXPECT_EQ(ReadFile(base_ + "/outside"), "precious");
}

TEST_F(ActionsTest, RmRootIsInvalid) {
  EXPECT_EQ(ApplyRm(root_, RmAction("/", true, false)).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ActionsTest, RmDanglingSymlinkNeedsAllowNotFound) {
  // BuildKit checks existence with stat (following links).
  MakeSymlink("/gone", root_ + "/dangling");
  EXPECT_EQ(ApplyRm(root_, RmAction("/dangling", false, false)).code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(ApplyRm(root_, RmAction("/dangling", true, false)).ok());
  EXPECT_FALSE(Exists(root_ + "/dangling"));
}

pb::FileActionSymlink SymlinkAction(const std::string& oldpath, const std::string& newpath) {
  pb::FileActionSymlink a;
  a.set_oldpath(oldpath);
  a.set_newpath(newpath);
  a.set_timestamp(-1);
  return a;
}

TEST_F(ActionsTest, SymlinkStoresTargetVerbatim) {
  pb::FileActionSymlink a = SymlinkAction("../../etc/shadow", "/bin/sh");
  a.set_timestamp(kTs);
  MakeDir(root_ + "/bin");
  ASSERT_TRUE(ApplySymlink(root_, a, Ownership{5, 6}).ok());
  char buf[64];
  ssize_t n = readlink((root_ + "/bin/sh").c_str(), buf, sizeof(buf));
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, n), "../../etc/shadow");
  struct stat st = Lstat(root_ + "/bin/sh");
  EXPECT_EQ(st.st_uid, 5u);
  EXPECT_EQ(st.st_mtim.tv_nsec, 42);
}

TEST_F(ActionsTest, SymlinkOverExistingIsAlreadyExists) {
  WriteFile(root_ + "/x", "");
  absl::Status s = ApplySymlink(root_, SymlinkAction("y", "/x"), std::nullopt);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(s.message().find("/x"), std::string::npos);
  ExpectNoHostPath(s);
  EXPECT_EQ(ApplySymlink(root_, SymlinkAction("y", "/no/dir/x"), std::nullopt).code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace kiln::ops
