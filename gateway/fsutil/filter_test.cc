#include "gateway/fsutil/filter.h"

#include "gateway/fsutil/testing.h"
#include "gateway/fsutil/walk.h"
#include "gtest/gtest.h"

namespace kiln::fsutil {
namespace {

using testing::MakeDir;
using testing::MakeSymlink;
using testing::MakeTempDir;
using testing::WriteFile;

// The tree of fsutil's TestCopyIncludeExclude.
class FilterWalkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir();
    WriteFile(root_ + "/bar/foo", "foo-contents");
    WriteFile(root_ + "/bar/baz/foo3", "foo3-contents");
    WriteFile(root_ + "/foo2", "foo2-contents");
  }
  std::vector<std::string> Selected(const std::vector<std::string>& inc,
                                    const std::vector<std::string>& exc) {
    auto f = Filter::Create(inc, exc);
    EXPECT_TRUE(f.ok()) << f.status();
    std::vector<std::string> out;
    absl::Status s = Walk(root_, &*f, [&](const Entry& e) {
      out.push_back(e.rel);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    return out;
  }
  std::string root_;
};

using V = std::vector<std::string>;

TEST_F(FilterWalkTest, IncludeExcludeTableFromFsutil) {
  EXPECT_EQ(Selected({"bar"}, {}), (V{"bar", "bar/baz", "bar/baz/foo3", "bar/foo"}));
  EXPECT_EQ(Selected({"*"}, {}), (V{"bar", "bar/baz", "bar/baz/foo3", "bar/foo", "foo2"}));
  EXPECT_EQ(Selected({"bar/foo"}, {}), (V{"bar", "bar/foo"}));
  EXPECT_EQ(Selected({"bar", "!bar/foo"}, {}), (V{"bar", "bar/baz", "bar/baz/foo3"}));
  EXPECT_EQ(Selected({"bar/foo", "foo*"}, {}), (V{"bar", "bar/foo", "foo2"}));
  EXPECT_EQ(Selected({"b*"}, {}), (V{"bar", "bar/baz", "bar/baz/foo3", "bar/foo"}));
  EXPECT_EQ(Selected({"bar/f*"}, {}), (V{"bar", "bar/foo"}));
  EXPECT_EQ(Selected({"bar/g*"}, {}), V{});
  EXPECT_EQ(Selected({"b*/f*"}, {}), (V{"bar", "bar/foo"}));
  EXPECT_EQ(Selected({"b*/foo"}, {}), (V{"bar", "bar/foo"}));
  EXPECT_EQ(Selected({"b*/"}, {}), (V{"bar", "bar/baz", "bar/baz/foo3", "bar/foo"}));
  EXPECT_EQ(Selected({"bar/*/foo3"}, {}), (V{"bar", "bar/baz", "bar/baz/foo3"}));
  EXPECT_EQ(Selected({}, {"bar*", "!bar/baz"}), (V{"bar", "bar/baz", "bar/baz/foo3", "foo2"}));
  EXPECT_EQ(Selected({}, {"**", "!bar/baz"}), (V{"bar", "bar/baz", "bar/baz/foo3"}));
  EXPECT_EQ(Selected({}, {"**", "!bar/baz", "bar/baz/foo3"}), (V{"bar", "bar/baz"}));
  EXPECT_EQ(Selected({"bar"}, {"bar/baz"}), (V{"bar", "bar/foo"}));
  EXPECT_EQ(Selected({"**/foo3"}, {}), (V{"bar", "bar/baz", "bar/baz/foo3"}));
  EXPECT_EQ(Selected({"**/baz"}, {}), (V{"bar", "bar/baz", "bar/baz/foo3"}));
  EXPECT_EQ(Selected({"**/bar"}, {}), (V{"bar", "bar/baz", "bar/baz/foo3", "bar/foo"}));
  EXPECT_EQ(Selected({"bar"}, {"**/foo3"}), (V{"bar", "bar/baz", "bar/foo"}));
  EXPECT_EQ(Selected({}, {"bar/baz"}), (V{"bar", "bar/foo", "foo2"}));
}

TEST(FilterTest, EmptyFilterKeepsEverything) {
  Filter f;
  EXPECT_TRUE(f.empty());
  EXPECT_TRUE(f.Keep("a/b", false));
  EXPECT_TRUE(f.MayDescend("a"));
}

TEST(FilterTest, ExcludedDirWithoutExceptionsIsNotDescended) {
  auto f = Filter::Create({}, {"node_modules", "*.tmp"});
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->Keep("node_modules", true));
  EXPECT_FALSE(f->MayDescend("node_modules"));
  EXPECT_FALSE(f->Keep("node_modules/x/y.js", false));
  EXPECT_TRUE(f->Keep("src/a.c", false));
  EXPECT_FALSE(f->Keep("a.tmp", false));
  EXPECT_TRUE(f->MayDescend("src"));
}

TEST(FilterTest, ExceptionBelowExcludedDirKeepsItWalkable) {
  auto f = Filter::Create({}, {"docs", "!docs/api/keep.md"});
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->Keep("docs", true));
  EXPECT_TRUE(f->MayDescend("docs"));
  EXPECT_TRUE(f->MayDescend("docs/api"));
  EXPECT_FALSE(f->MayDescend("docs/other"));
  EXPECT_TRUE(f->Keep("docs/api/keep.md", false));
  EXPECT_FALSE(f->Keep("docs/api/drop.md", false));
}

TEST(FilterTest, GlobExceptionMakesEveryExcludedDirWalkable) {
  auto f = Filter::Create({}, {"**", "!**/*.go"});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->MayDescend("any/dir"));
  EXPECT_TRUE(f->Keep("any/dir/main.go", false));
  EXPECT_FALSE(f->Keep("any/dir/README", false));
}

TEST(FilterTest, PlainIncludesPruneUnrelatedDirs) {
  auto f = Filter::Create({"src/app", "Makefile"}, {});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->MayDescend("src"));
  EXPECT_FALSE(f->Keep("src", true));
  EXPECT_FALSE(f->MayDescend("vendor"));
  EXPECT_TRUE(f->Keep("src/app/main.c", false));
  EXPECT_FALSE(f->Keep("src/lib/x.c", false));
}

TEST(FilterTest, BadPatternNamesWhichList) {
  auto f = Filter::Create({"["}, {});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(f.status().message().find("include"), std::string::npos);
  auto g = Filter::Create({}, {"a\\"});
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("exclude"), std::string::npos);
}

TEST(IncludeFollowPathsTest, NarrowsToThePathsAndTheirLinks) {
  std::string root = MakeTempDir();
  MakeDir(root + "/src");
  WriteFile(root + "/src/a.txt", "a");
  MakeDir(root + "/big");
  WriteFile(root + "/big/blob", "unrelated");
  MakeSymlink("src", root + "/link");
  MakeSymlink("/src/a.txt", root + "/abs");
  MakeSymlink("../../../big", root + "/src/up");
  MakeSymlink("loop", root + "/loop");
  using V = std::vector<std::string>;
  auto follow = [&](V include, V paths) {
    absl::StatusOr<V> r = IncludeFollowPaths(root, include, paths);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : V{"error"};
  };
  EXPECT_EQ(follow({}, {}), V{});
  EXPECT_EQ(follow({}, {"/src"}), (V{"src"}));
  EXPECT_EQ(follow({}, {"/src/a.txt", "/missing"}), (V{"missing", "src/a.txt"}));
  // A link and its target; an absolute target and one that climbs out stay
  // inside the root.
  EXPECT_EQ(follow({}, {"/link/a.txt"}), (V{"link", "src/a.txt"}));
  EXPECT_EQ(follow({}, {"abs"}), (V{"abs", "src/a.txt"}));
  EXPECT_EQ(follow({}, {"/src/up/blob"}), (V{"big/blob", "src/up"}));
  // A wildcard keeps its pattern and adds what the links it matches lead to.
  EXPECT_EQ(follow({}, {"/l*"}), (V{"l*", "loop", "src"}));
  EXPECT_EQ(follow({}, {"/loop"}), (V{"loop"}));
  // Given includes stay, the resolved paths join them.
  EXPECT_EQ(follow({"x"}, {"/src"}), (V{"x", "src"}));
  // The root itself: nothing is narrowed.
  EXPECT_EQ(follow({}, {"/src", "/"}), V{});
  EXPECT_EQ(follow({"x"}, {"."}), (V{"x"}));
}

}  // namespace
}  // namespace kiln::fsutil
