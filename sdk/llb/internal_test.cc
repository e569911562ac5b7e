// Tests of the Go-compatibility helpers behind the builder.
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "sdk/llb/internal/git_url.h"
#include "sdk/llb/internal/go_path.h"

namespace kiln::llb_internal {
namespace {

TEST(GoPathTest, JoinSkipsEmptyElementsAndCleans) {
  EXPECT_EQ(JoinPath({"", ""}), "");
  EXPECT_EQ(JoinPath({"a", ""}), "a");
  EXPECT_EQ(JoinPath({"", "b"}), "b");
  EXPECT_EQ(JoinPath({"/", "a/../b", "c/"}), "/b/c");
  EXPECT_EQ(JoinPath({"/work", "/abs"}), "/work/abs");
}

TEST(GoPathTest, ActionPathsResolveAgainstParent) {
  EXPECT_EQ(NormalizeActionPath("/work", "out", false), "/work/out");
  EXPECT_EQ(NormalizeActionPath("/work", "/abs/./x/", false), "/abs/x");
  EXPECT_EQ(NormalizeActionPath("", "rel", false), "/rel");
  EXPECT_EQ(NormalizeActionPath("/work", "../..", false), "/");
}

TEST(GoPathTest, CopyDestinationKeepsTrailingSlashAndDot) {
  EXPECT_EQ(NormalizeActionPath("/w", "dir/", true), "/w/dir/");
  EXPECT_EQ(NormalizeActionPath("/w", "dir/.", true), "/w/dir/.");
  EXPECT_EQ(NormalizeActionPath("/", "/.", true), "/.");
  EXPECT_EQ(NormalizeActionPath("/w", "/", true), "/");
  EXPECT_EQ(NormalizeActionPath("/w", "file", true), "/w/file");
}

TEST(GitUrlTest, ParsesStandardUrls) {
  absl::StatusOr<GitRemote> r = ParseGitUrl("HTTPS://user@example.com:8443/a/b.git?x=1#main");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->scheme, "https");
  EXPECT_EQ(r->host, "example.com:8443");
  EXPECT_EQ(r->path, "/a/b.git");
  EXPECT_EQ(r->remote, "https://user@example.com:8443/a/b.git");
}

TEST(GitUrlTest, DecodesPercentEscapesInPath) {
  absl::StatusOr<GitRemote> r = ParseGitUrl("https://h/a%20b");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->path, "/a b");
  EXPECT_EQ(r->remote, "https://h/a%20b");
  EXPECT_FALSE(ParseGitUrl("https://h/a%2").ok());
}

TEST(GitUrlTest, ParsesScpStyle) {
  absl::StatusOr<GitRemote> r = ParseGitUrl("git@github.com:moby/buildkit.git#v1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->scheme, "ssh");
  EXPECT_EQ(r->host, "github.com");
  EXPECT_EQ(r->path, "moby/buildkit.git");
  EXPECT_EQ(r->remote, "git@github.com:moby/buildkit.git");
}

TEST(GitUrlTest, ClassifiesFailures) {
  EXPECT_TRUE(absl::IsNotFound(ParseGitUrl("github.com/moby/buildkit").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseGitUrl("ftp://host/repo").status()));
  auto file = ParseGitUrl("file:///srv/repo.git");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->scheme, "file");
  EXPECT_EQ(file->path, "/srv/repo.git");
  EXPECT_EQ(file->remote, "file:///srv/repo.git");
  EXPECT_TRUE(absl::IsInvalidArgument(ParseGitUrl("https://host:abc/repo").status()));
}

}  // namespace
}  // namespace kiln::llb_internal
