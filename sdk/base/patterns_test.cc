#include "sdk/base/patterns.h"

#include "gtest/gtest.h"

namespace kiln {
namespace {

bool M(const std::vector<std::string>& patterns, const std::string& path) {
  auto pm = PatternMatcher::Create(patterns);
  EXPECT_TRUE(pm.ok()) << pm.status();
  return pm.ok() && pm->Matches(path);
}

// Cases from moby/patternmatcher's TestMatches and the Docker docs.
TEST(PatternMatcherTest, SinglePatternTable) {
  struct Case {
    const char* pattern;
    const char* path;
    bool match;
  } cases[] = {
      {"**", "file", true},
      {"**", "file/", true},
      {"**/", "file", true},
      {"**/", "file/", true},
      {"**", "/", true},
      {"**/", "/", true},
      {"**", "dir/file", true},
      {"**/", "dir/file", true},
      {"**", "dir/file/", true},
      {"**/", "dir/file/", true},
      {"**/**", "dir/file", true},
      {"**/**", "dir/file/", true},
      {"dir/**", "dir/file", true},
      {"dir/**", "dir/file/", true},
      {"dir/**", "dir/dir2/file", true},
      {"dir/**", "dir/dir2/file/", true},
      {"**/dir", "dir", true},
      {"**/dir", "dir/file", true},
      {"**/dir2/*", "dir/dir2/file", true},
      {"**/dir2/*", "dir/dir2/file/", true},
      {"**/dir2/**", "dir/dir2/dir3/file", true},
      {"**/dir2/**", "dir/dir2/dir3/file/", true},
      {"**file", "file", true},
      {"**file", "dir/file", true},
      {"**/file", "dir/file", true},
      {"**file", "dir/dir/file", true},
      {"**/file", "dir/dir/file", true},
      {"**/file*", "dir/dir/file", true},
      {"**/file*", "dir/dir/file.txt", true},
      {"**/file*txt", "dir/dir/file.txt", true},
      {"**/file*.txt", "dir/dir/file.txt", true},
      {"**/file*.txt*", "dir/dir/file.txt", true},
      {"**/**/*.txt", "dir/dir/file.txt", true},
      {"**/**/*.txt2", "dir/dir/file.txt", false},
      {"**/*.txt", "file.txt", true},
      {"**/**/*.txt", "file.txt", true},
      {"a**/*.txt", "a/file.txt", true},
      {"a**/*.txt", "a/dir/file.txt", true},
      {"a**/*.txt", "a/dir/dir/file.txt", true},
      {"a/*.txt", "a/dir/file.txt", false},
      {"a/*.txt", "a/file.txt", true},
      {"a/*.txt**", "a/file.txt", true},
      {"a[b-d]e", "ae", false},
      {"a[b-d]e", "ace", true},
      {"a[b-d]e", "aae", false},
      {"a[^b-d]e", "aze", true},
      {".*", ".foo", true},
      {".*", "foo", false},
      {"abc.def", "abcdef", false},
      {"abc.def", "abc.def", true},
      {"abc.def", "abcZdef", false},
      {"abc?def", "abcZdef", true},
      {"abc?def", "abcdef", false},
      {"a\\\\", "a\\", true},
      {"**/foo/bar", "foo/bar", true},
      {"**/foo/bar", "dir/foo/bar", true},
      {"**/foo/bar", "dir/dir2/foo/bar", true},
      {"abc/**", "abc", false},
      {"abc/**", "abc/def", true},
      {"abc/**", "abc/def/ghi", true},
      {"**/.foo", ".foo", true},
      {"**/.foo", "bar.foo", false},
      {"a(b)c/def", "a(b)c/def", true},
      {"a(b)c/def", "a(b)c/xyz", false},
      {"a.|)$(}+{bc", "a.|)$(}+{bc", true},
      {"dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
       "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true},
      {"dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(M({c.pattern}, c.path), c.match) << c.pattern << " vs " << c.path;
  }
}

TEST(PatternMatcherTest, MultiPatternTable) {
  EXPECT_FALSE(M({"**", "!util/docker/web"}, "util/docker/web/foo"));
  EXPECT_TRUE(M({"**", "!util/docker/web", "util/docker/web/foo"}, "util/docker/web/foo"));
  EXPECT_FALSE(M({"**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"},
                 "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"));
  EXPECT_FALSE(M({"**", "!dist/*.whl"}, "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"));
}

TEST(PatternMatcherTest, DirectoryPatternMatchesEverythingBelow) {
  EXPECT_TRUE(M({"node_modules"}, "node_modules/a/b/c.js"));
  EXPECT_TRUE(M({"a/b"}, "a/b/c"));
  EXPECT_FALSE(M({"a/b"}, "a/bc"));
  EXPECT_TRUE(M({"*/tmp"}, "x/tmp/y"));
}

TEST(PatternMatcherTest, PatternsAreCleaned) {
  EXPECT_TRUE(M({"/foo"}, "foo"));
  EXPECT_TRUE(M({"./foo/"}, "foo/bar"));
  EXPECT_TRUE(M({"  foo  "}, "foo"));
  EXPECT_TRUE(M({"a/../b"}, "b"));
  EXPECT_TRUE(M({"!./x", "*"}, "y"));
  EXPECT_FALSE(M({"*", "!./x"}, "x"));
}

TEST(PatternMatcherTest, LaterPatternsOverrideEarlier) {
  std::vector<std::string> p = {"*.md", "!README.md", "README-secret.md"};
  EXPECT_TRUE(M(p, "CHANGELOG.md"));
  EXPECT_FALSE(M(p, "README.md"));
  EXPECT_TRUE(M(p, "README-secret.md"));
  EXPECT_TRUE(M({"!a", "a"}, "a"));
  EXPECT_FALSE(M({"a", "!a"}, "a"));
}

TEST(PatternMatcherTest, ExceptionReincludesBelowExcludedDir) {
  std::vector<std::string> p = {"docs", "!docs/keep.md"};
  EXPECT_TRUE(M(p, "docs/other.md"));
  EXPECT_FALSE(M(p, "docs/keep.md"));
  EXPECT_TRUE(M(p, "docs"));
}

TEST(PatternMatcherTest, ExclusionsFlag) {
  auto a = PatternMatcher::Create({"a", "b"});
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->Exclusions());
  auto b = PatternMatcher::Create({"a", "!b"});
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->Exclusions());
  EXPECT_EQ(b->patterns()[1].text, "b");
  EXPECT_TRUE(b->patterns()[1].exclusion);
}

TEST(PatternMatcherTest, BadPatternsAreInvalidArgumentNamingThem) {
  for (const char* bad : {"[", "a[", "[]a]", "[-a]", "[a-]", "a\\", "[^]", "!"}) {
    auto pm = PatternMatcher::Create({"ok", bad});
    ASSERT_FALSE(pm.ok()) << bad;
    EXPECT_EQ(pm.status().code(), absl::StatusCode::kInvalidArgument);
    if (std::string(bad) != "!") {
      EXPECT_NE(pm.status().message().find(bad), std::string::npos) << pm.status();
    }
  }
}

TEST(PatternMatcherTest, ClassesAndEscapes) {
  EXPECT_TRUE(M({"[[]x"}, "[x"));
  EXPECT_TRUE(M({"a\\*b"}, "a*b"));
  EXPECT_FALSE(M({"a\\*b"}, "axb"));
  EXPECT_TRUE(M({"[\\]]"}, "]"));
  EXPECT_TRUE(M({"f[a-c]o"}, "fbo"));
  EXPECT_TRUE(M({"caf\xC3\xA9"}, "caf\xC3\xA9"));
  EXPECT_TRUE(M({"caf?"}, "caf\xC3\xA9"));  // ? is one character, not one byte
  EXPECT_TRUE(M({"a*"}, "a\nb"));
}

TEST(PatternMatcherTest, EmptyMatcherMatchesNothing) {
  auto pm = PatternMatcher::Create({"", "   "});
  ASSERT_TRUE(pm.ok());
  EXPECT_TRUE(pm->empty());
  EXPECT_FALSE(pm->Matches("a"));
}

TEST(PatternMatcherTest, UsingParentAgreesWithLexicalParents) {
  std::vector<std::string> p = {"a", "!a/b", "a/b/c", "**/*.log", "!keep/**"};
  auto pm = PatternMatcher::Create(p);
  ASSERT_TRUE(pm.ok());
  const char* paths[] = {"a",     "a/b",     "a/b/c", "a/b/c/d",    "a/b/x", "a/z",
                         "x.log", "d/e.log", "keep",  "keep/y.log", "other"};
  for (const char* path : paths) {
    // Build the MatchInfo chain down to `path`.
    PatternMatcher::MatchInfo info;
    std::string prefix;
    std::string s(path);
    bool result = false;
    size_t start = 0;
    for (;;) {
      size_t slash = s.find('/', start);
      std::string part = s.substr(0, slash);
      PatternMatcher::MatchInfo next;
      result = pm->MatchesUsingParent(part, info, &next);
      info = next;
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    EXPECT_EQ(result, pm->Matches(path)) << path;
  }
}

}  // namespace
}  // namespace kiln
