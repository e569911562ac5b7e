#include "gateway/fsutil/wildcard.h"

#include "gateway/fsutil/testing.h"
#include "gtest/gtest.h"

namespace kiln::fsutil {
namespace {

using testing::MakeSymlink;
using testing::MakeTempDir;
using testing::WriteFile;

// Cases from Go's path/filepath TestMatch.
TEST(GlobMatchTest, GoFilepathMatchTable) {
  struct Case {
    const char* pattern;
    const char* s;
    bool match;
  } cases[] = {
      {"abc", "abc", true},
      {"*", "abc", true},
      {"*c", "abc", true},
      {"a*", "a", true},
      {"a*", "abc", true},
      {"a*", "ab/c", false},
      {"a*/b", "abc/b", true},
      {"a*/b", "a/c/b", false},
      {"a*b*c*d*e*/f", "axbxcxdxe/f", true},
      {"a*b*c*d*e*/f", "axbxcxdxexxx/f", true},
      {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false},
      {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", false},
      {"a*b?c*x", "abxbbxdbxebxczzx", true},
      {"a*b?c*x", "abxbbxdbxebxczzy", false},
      {"ab[c]", "abc", true},
      {"ab[b-d]", "abc", true},
      {"ab[e-g]", "abc", false},
      {"ab[^c]", "abc", false},
      {"ab[^b-d]", "abc", false},
      {"ab[^e-g]", "abc", true},
      {"a\\*b", "a*b", true},
      {"a\\*b", "ab", false},
      {"a?b",
       "a\xe2\x98\xba"
       "b",
       true},
      {"a[^a]b",
       "a\xe2\x98\xba"
       "b",
       true},
      {"a???b",
       "a\xe2\x98\xba"
       "b",
       false},
      {"a[!a]b", "a!b", true},
      {"[\\-]", "-", true},
      {"[x\\-]", "x", true},
      {"[x\\-]", "-", true},
      {"[x\\-]", "z", false},
      {"[\\-x]", "x", true},
      {"[]a]", "]", false},
      {"[-]", "-", false},
      {"[x-]", "x", false},
      {"[a-b-c]", "a", false},
      {"[", "a", false},
      {"[^", "a", false},
      {"[^bc", "a", false},
      {"a[", "a", false},
      {"a[", "ab", false},
      {"*x", "xxx", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(GlobMatch(c.pattern, c.s), c.match) << c.pattern << " vs " << c.s;
  }
}

TEST(ContainsWildcardsTest, EscapesHide) {
  EXPECT_TRUE(ContainsWildcards("a/*.txt"));
  EXPECT_TRUE(ContainsWildcards("a?"));
  EXPECT_TRUE(ContainsWildcards("[ab]"));
  EXPECT_FALSE(ContainsWildcards("plain/path"));
  EXPECT_FALSE(ContainsWildcards("a\\*b"));
}

class ResolveWildcardsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir();
    WriteFile(root_ + "/src/a.txt", "");
    WriteFile(root_ + "/src/b.txt", "");
    WriteFile(root_ + "/src/c.bin", "");
    WriteFile(root_ + "/src/sub/d.txt", "");
    WriteFile(root_ + "/x1/y/f", "");
    WriteFile(root_ + "/x2/y/f", "");
    WriteFile(root_ + "/x3/z/f", "");
  }
  std::vector<std::string> R(const std::string& p, bool follow = false) {
    auto r = ResolveWildcards(root_, p, follow);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::vector<std::string>{};
  }
  std::string root_;
};

using V = std::vector<std::string>;

TEST_F(ResolveWildcardsTest, MatchesOneLevel) {
  EXPECT_EQ(R("src/*.txt"), (V{"/src/a.txt", "/src/b.txt"}));
  EXPECT_EQ(R("/src/?.bin"), (V{"/src/c.bin"}));
  EXPECT_EQ(R("src/*"), (V{"/src/a.txt", "/src/b.txt", "/src/c.bin", "/src/sub"}));
}

TEST_F(ResolveWildcardsTest, MatchesAcrossLevels) {
  EXPECT_EQ(R("x*/y/f"), (V{"/x1/y/f", "/x2/y/f"}));
  EXPECT_EQ(R("x[13]/*/f"), (V{"/x1/y/f", "/x3/z/f"}));
}

TEST_F(ResolveWildcardsTest, NoWildcardGivesCleanPath) {
  EXPECT_EQ(R("src/../src/missing"), (V{"/src/missing"}));
}

TEST_F(ResolveWildcardsTest, NoMatchIsEmpty) { EXPECT_EQ(R("src/*.none"), V{}); }

TEST_F(ResolveWildcardsTest, MissingBaseIsNotFound) {
  auto r = ResolveWildcards(root_, "nodir/*.txt", false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nodir"), std::string::npos);
}

TEST_F(ResolveWildcardsTest, BaseSymlinkFollowedOnlyWhenAsked) {
  MakeSymlink("src", root_ + "/link");
  EXPECT_EQ(R("link/*.bin", true), (V{"/src/c.bin"}));
  // Like BuildKit, without following the base is the link itself, which is
  // not a directory: nothing matches.
  EXPECT_EQ(R("link/*.bin", false), V{});
  MakeSymlink("/src", root_ + "/abs");
  EXPECT_EQ(R("abs/*.bin", true), (V{"/src/c.bin"}));
  // Links above the last base component are always followed.
  EXPECT_EQ(R("abs/sub/*.txt", false), (V{"/src/sub/d.txt"}));
}

TEST_F(ResolveWildcardsTest, SymlinkedDirsBelowTheGlobAreNotEntered) {
  MakeSymlink("/src", root_ + "/x4");
  EXPECT_EQ(R("x*/y/f"), (V{"/x1/y/f", "/x2/y/f"}));
  EXPECT_EQ(R("x4*"), (V{"/x4"}));
}

}  // namespace
}  // namespace kiln::fsutil
