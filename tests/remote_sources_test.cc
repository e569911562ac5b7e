// End to end: http(s) and git sources through the kiln binary, against a
// loopback HTTP server and local git repositories.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/ops/source/test_git_repo.h"
#include "gateway/ops/source/test_http_server.h"
#include "gtest/gtest.h"
#include "sdk/base/digest.h"
#include "sdk/llb/llb.h"
#include "tests/harness.h"

namespace kiln::testing {
namespace {

namespace llb = kiln::llb;

class HttpSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = ops::TestHttpServer::Start();
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    server_->Set("/file.txt", "hello over http\n");
  }
  pb::Definition Def(const llb::HttpOptions& o) {
    auto def = llb::Marshal(llb::Http(server_->Url("/file.txt"), o));
    EXPECT_TRUE(def.ok()) << def.status();
    return *def;
  }
  std::unique_ptr<ops::TestHttpServer> server_;
  Harness h_;
};

TEST_F(HttpSourceTest, PinnedChecksumIsVerifiedAndCached) {
  llb::HttpOptions o;
  o.checksum = DigestOf("hello over http\n");
  o.filename = "greeting.txt";
  std::string out = TempDir("out");
  KilnRun r = h_.Build(Def(o), {"--output", "type=local,dest=" + out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(out + "/greeting.txt"), "hello over http\n");
  size_t requests = server_->requests().size();
  // Pinned by checksum: the second build does not even ask the server.
  KilnRun again = h_.Build(Def(o), {});
  EXPECT_EQ(again.Ran(), 0) << again.err;
  EXPECT_EQ(server_->requests().size(), requests);
}

TEST_F(HttpSourceTest, ChecksumMismatchFailsAndRecordsNothing) {
  llb::HttpOptions o;
  o.checksum = DigestOf("something else");
  KilnRun r = h_.Build(Def(o), {});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(r.err, "checksum mismatch")) << r.err;
  KilnRun du = h_.Run({"du"});
  EXPECT_TRUE(absl::StrContains(du.out, "in 0 records")) << du.out;
}

TEST_F(HttpSourceTest, UnpinnedDownloadIsKeyedByContent) {
  KilnRun first = h_.Build(Def({}), {});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  KilnRun same = h_.Build(Def({}), {});
  EXPECT_EQ(same.Ran(), 0) << same.err;  // fetched again, same bytes: cache hit
  server_->Set("/file.txt", "new content\n");
  std::string out = TempDir("out");
  KilnRun changed = h_.Build(Def({}), {"--output", "type=local,dest=" + out});
  EXPECT_EQ(changed.Ran(), 1) << changed.err;
  EXPECT_EQ(ReadFile(out + "/file.txt"), "new content\n");
}

TEST_F(HttpSourceTest, MissingUrlNamesIt) {
  auto def = llb::Marshal(llb::Http(server_->Url("/nope")));
  ASSERT_TRUE(def.ok());
  KilnRun r = h_.Build(*def, {});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(r.err, "/nope")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "404")) << r.err;
}

TEST(GitSourceTest, BranchAndTagCheckoutAndCacheByCommit) {
  std::string dir = TempDir("repo");
  auto repo = ops::TestGitRepo::Init(dir, "main");
  ASSERT_TRUE(repo.ok()) << repo.status();
  ASSERT_TRUE(repo->WriteFile("README", "v1\n").ok());
  ASSERT_TRUE(repo->Commit("one").ok());
  ASSERT_TRUE(repo->Git({"tag", "v1"}).ok());
  Harness h;
  auto def_main = llb::Marshal(llb::Git("file://" + dir, "main"));
  auto def_tag = llb::Marshal(llb::Git("file://" + dir, "v1"));
  ASSERT_TRUE(def_main.ok() && def_tag.ok()) << def_main.status();
  std::string out = TempDir("out");
  KilnRun r = h.Build(*def_main, {"--output", "type=local,dest=" + out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(out + "/README"), "v1\n");
  EXPECT_EQ(h.Build(*def_main, {}).Ran(), 0);
  // The tag resolves to the same commit: the same cache record.
  EXPECT_EQ(h.Build(*def_tag, {}).Ran(), 0);

  ASSERT_TRUE(repo->WriteFile("README", "v2\n").ok());
  ASSERT_TRUE(repo->Commit("two").ok());
  std::string out2 = TempDir("out");
  KilnRun moved = h.Build(*def_main, {"--output", "type=local,dest=" + out2});
  EXPECT_EQ(moved.Ran(), 1) << moved.err;
  EXPECT_EQ(ReadFile(out2 + "/README"), "v2\n");

  auto bad = llb::Marshal(llb::Git("file://" + dir, "no-such-branch"));
  ASSERT_TRUE(bad.ok());
  KilnRun missing = h.Build(*bad, {});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(missing.err, "no-such-branch")) << missing.err;
}

// git.checksum (ADD --checksum=COMMIT on a git URL) pins the commit.
TEST(GitSourceTest, ChecksumPinsTheCommit) {
  std::string dir = TempDir("repo");
  auto repo = ops::TestGitRepo::Init(dir, "main");
  ASSERT_TRUE(repo.ok()) << repo.status();
  ASSERT_TRUE(repo->WriteFile("README", "v1\n").ok());
  absl::StatusOr<std::string> one = repo->Commit("one");
  ASSERT_TRUE(one.ok()) << one.status();
  Harness h;
  auto pinned = [&](const std::string& checksum) {
    llb::GitOptions g;
    g.checksum = checksum;
    auto def = llb::Marshal(llb::Git("file://" + dir, "main", g));
    EXPECT_TRUE(def.ok()) << def.status();
    return h.Build(*def, {});
  };
  EXPECT_EQ(pinned(*one).exit_code, 0);
  EXPECT_EQ(pinned(one->substr(0, 12)).exit_code, 0) << "a prefix of the commit";
  ASSERT_TRUE(repo->WriteFile("README", "v2\n").ok());
  absl::StatusOr<std::string> two = repo->Commit("two");
  ASSERT_TRUE(two.ok());
  KilnRun moved = pinned(*one);
  EXPECT_NE(moved.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(moved.err, "git checksum mismatch: expected commit " + *one))
      << moved.err;
  EXPECT_TRUE(absl::StrContains(moved.err, "is at " + *two)) << moved.err;
  KilnRun bad = pinned("not-a-commit");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(bad.err, "is not a commit")) << bad.err;
}

}  // namespace
}  // namespace kiln::testing
