#include "gateway/fsutil/checksum.h"

#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "gateway/fsutil/testing.h"
#include "gtest/gtest.h"

namespace kiln::fsutil {
namespace {

using testing::MakeDir;
using testing::MakeSymlink;
using testing::MakeTempDir;
using testing::SetMtime;
using testing::WriteFile;

class ChecksumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir();
    WriteFile(root_ + "/app/main.c", "int main;");
    WriteFile(root_ + "/app/util.c", "util");
    WriteFile(root_ + "/app/notes.txt", "notes");
    WriteFile(root_ + "/top.txt", "top");
  }
  std::string Sum(const std::string& path, const ChecksumOptions& opt = {}) {
    auto s = Checksum(root_, path, opt);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : "";
  }
  std::string root_;
};

TEST_F(ChecksumTest, FormatIsSha256Digest) {
  std::string s = Sum("/app");
  EXPECT_EQ(s.size(), 71u);
  EXPECT_EQ(s.substr(0, 7), "sha256:");
}

TEST_F(ChecksumTest, IgnoresTimes) {
  std::string before = Sum("/app");
  SetMtime(root_ + "/app/main.c", 12345);
  SetMtime(root_ + "/app", 999);
  EXPECT_EQ(Sum("/app"), before);
}

TEST_F(ChecksumTest, CoversContentModeOwnerAndNames) {
  std::string base = Sum("/app");
  WriteFile(root_ + "/app/main.c", "int Main;");  // same size
  std::string content = Sum("/app");
  EXPECT_NE(content, base);
  ASSERT_EQ(chmod((root_ + "/app/main.c").c_str(), 0755), 0);
  std::string mode = Sum("/app");
  EXPECT_NE(mode, content);
  ASSERT_EQ(lchown((root_ + "/app/main.c").c_str(), 1, 0), 0);
  std::string uid = Sum("/app");
  EXPECT_NE(uid, mode);
  ASSERT_EQ(lchown((root_ + "/app/main.c").c_str(), 1, 2), 0);
  std::string gid = Sum("/app");
  EXPECT_NE(gid, uid);
  ASSERT_EQ(rename((root_ + "/app/util.c").c_str(), (root_ + "/app/util2.c").c_str()), 0);
  EXPECT_NE(Sum("/app"), gid);
}

TEST_F(ChecksumTest, CoversSetIdBitsAndSymlinkTargets) {
  std::string base = Sum("/app");
  ASSERT_EQ(chmod((root_ + "/app/util.c").c_str(), 02644), 0);
  EXPECT_NE(Sum("/app"), base);
  MakeSymlink("a", root_ + "/app/l");
  std::string with_link = Sum("/app");
  ASSERT_EQ(unlink((root_ + "/app/l").c_str()), 0);
  MakeSymlink("b", root_ + "/app/l");
  EXPECT_NE(Sum("/app"), with_link);
}

TEST_F(ChecksumTest, SameTreeElsewhereSameChecksum) {
  WriteFile(root_ + "/copy/main.c", "int main;");
  WriteFile(root_ + "/copy/util.c", "util");
  WriteFile(root_ + "/copy/notes.txt", "notes");
  EXPECT_EQ(Sum("/copy"), Sum("/app"));
}

TEST_F(ChecksumTest, FollowSymlinksForThePathItself) {
  MakeSymlink("app/main.c", root_ + "/link");
  ChecksumOptions follow;
  follow.follow_symlinks = true;
  EXPECT_EQ(Sum("/link", follow), Sum("/app/main.c"));
  EXPECT_NE(Sum("/link"), Sum("/app/main.c"));
}

TEST_F(ChecksumTest, WildcardCoversAllMatchesOnly) {
  ChecksumOptions w;
  w.wildcard = true;
  std::string base = Sum("/app/*.c", w);
  WriteFile(root_ + "/app/notes.txt", "other notes");
  EXPECT_EQ(Sum("/app/*.c", w), base);
  WriteFile(root_ + "/app/util.c", "UTIL");
  EXPECT_NE(Sum("/app/*.c", w), base);
  auto none = Checksum(root_, "/app/*.none", w);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ChecksumTest, IncludeExcludePatternsAreRelativeToThePath) {
  ChecksumOptions o;
  o.exclude_patterns = {"*.txt"};
  std::string base = Sum("/app", o);
  WriteFile(root_ + "/app/notes.txt", "changed");
  EXPECT_EQ(Sum("/app", o), base);
  WriteFile(root_ + "/app/main.c", "changed");
  EXPECT_NE(Sum("/app", o), base);
  ChecksumOptions inc;
  inc.include_patterns = {"util.c"};
  std::string only = Sum("/app", inc);
  WriteFile(root_ + "/app/main.c", "changed again");
  EXPECT_EQ(Sum("/app", inc), only);
}

TEST_F(ChecksumTest, XattrsOnlyWhenAsked) {
  ChecksumOptions x;
  x.include_xattrs = true;
  std::string plain = Sum("/app");
  std::string with = Sum("/app", x);
  ASSERT_EQ(setxattr((root_ + "/app/main.c").c_str(), "user.tag", "1", 1, 0), 0);
  EXPECT_EQ(Sum("/app"), plain);
  EXPECT_NE(Sum("/app", x), with);
}

TEST_F(ChecksumTest, MissingPathIsNotFoundNamingIt) {
  auto s = Checksum(root_, "/app/nope.c", {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find("/app/nope.c"), std::string::npos);
}

TEST_F(ChecksumTest, EscapingSymlinkStaysInsideRoot) {
  std::string outside = root_ + "/../outside-secret";
  WriteFile(outside, "secret");
  MakeSymlink("../outside-secret", root_ + "/esc");
  ChecksumOptions follow;
  follow.follow_symlinks = true;
  auto s = Checksum(root_, "/esc", follow);
  ASSERT_FALSE(s.ok());  // resolves to <root>/outside-secret, which is absent
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ChecksumTest, BadPatternIsInvalidArgument) {
  ChecksumOptions o;
  o.exclude_patterns = {"["};
  EXPECT_EQ(Checksum(root_, "/app", o).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln::fsutil
