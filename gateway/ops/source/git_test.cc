#include "gateway/ops/source/git.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gateway/ops/source/run.h"
#include "gateway/ops/source/test_git_repo.h"
#include "gtest/gtest.h"

namespace kiln::ops {
namespace {

namespace fs = std::filesystem;

std::string MakeTempDir() {
  const char* base = getenv("TEST_TMPDIR");
  std::string tmpl = absl::StrCat(base != nullptr ? base : "/tmp", "/git-XXXXXX");
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every path under `dir`, relative, sorted.
std::vector<std::string> Tree(const std::string& dir) {
  std::vector<std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    out.push_back(it->path().lexically_relative(dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The remote: main (c1 -> c3), feature (c1 -> c2), annotated tag v1.0 and
// lightweight tag light at c1, and a symlinked directory.
class GitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir();
    auto repo = TestGitRepo::Init(root_ + "/remote", "main");
    ASSERT_TRUE(repo.ok()) << repo.status();
    repo_ = std::make_unique<TestGitRepo>(std::move(*repo));
    ASSERT_TRUE(repo_->WriteFile("README", "one\n").ok());
    ASSERT_TRUE(repo_->WriteFile("dir/sub/file.txt", "deep\n").ok());
    ASSERT_TRUE(repo_->WriteFile("run.sh", "#!/bin/sh\n", 0755).ok());
    ASSERT_TRUE(repo_->Symlink("README", "link").ok());
    ASSERT_TRUE(repo_->Symlink("dir", "linkdir").ok());
    c1_ = Must(repo_->Commit("one"));
    Must(repo_->Git({"tag", "-a", "v1.0", "-m", "release", c1_}));
    Must(repo_->Git({"tag", "light", c1_}));
    Must(repo_->Git({"checkout", "-q", "-b", "feature"}));
    ASSERT_TRUE(repo_->WriteFile("feature.txt", "feature\n").ok());
    c2_ = Must(repo_->Commit("two"));
    Must(repo_->Git({"checkout", "-q", "main"}));
    c3_time_ = repo_->next_commit_time();
    ASSERT_TRUE(repo_->WriteFile("README", "three\n").ok());
    c3_ = Must(repo_->Commit("three"));
    remote_ = repo_->dir();
    dest_ = root_ + "/out/dest";
  }

  std::string Must(absl::StatusOr<std::string> s) {
    EXPECT_TRUE(s.ok()) << s.status();
    return s.value_or("");
  }

  absl::StatusOr<GitResult> Fetch(const std::string& ref, GitRequest req = {}) {
    req.remote = remote_;
    req.ref = ref;
    return FetchGit(req, dest_);
  }

  std::string root_, remote_, dest_;
  std::unique_ptr<TestGitRepo> repo_;
  std::string c1_, c2_, c3_;
  int64_t c3_time_ = 0;
};

TEST_F(GitTest, ResolvesBranchesTagsAndDefault) {
  absl::StatusOr<GitRef> r = ResolveGitRef(remote_, "main");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ref, "refs/heads/main");
  EXPECT_EQ(r->commit, c3_);
  EXPECT_EQ(ResolveGitRef(remote_, "")->commit, c3_);
  EXPECT_EQ(ResolveGitRef(remote_, "feature")->commit, c2_);
  EXPECT_EQ(ResolveGitRef(remote_, "refs/heads/feature")->commit, c2_);

  r = ResolveGitRef(remote_, "v1.0");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ref, "refs/tags/v1.0");
  EXPECT_EQ(r->commit, c1_);
  EXPECT_NE(r->object, c1_);  // the annotated tag object
  EXPECT_EQ(r->object, Must(repo_->Git({"rev-parse", "v1.0"})));

  r = ResolveGitRef(remote_, "light");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->object, c1_);
  EXPECT_EQ(r->commit, c1_);
  EXPECT_EQ(ResolveGitRef(remote_, c2_)->commit, c2_);
}

TEST_F(GitTest, ResolutionIsStableAndFollowsTheRemote) {
  std::string first = ResolveGitRef(remote_, "main")->commit;
  EXPECT_EQ(ResolveGitRef(remote_, "main")->commit, first);
  ASSERT_TRUE(repo_->WriteFile("new.txt", "x").ok());
  std::string c4 = Must(repo_->Commit("four"));
  EXPECT_EQ(ResolveGitRef(remote_, "main")->commit, c4);
}

TEST_F(GitTest, UnknownRefIsNotFound) {
  absl::Status s = ResolveGitRef(remote_, "no-such-branch").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("no-such-branch"), std::string::npos) << s;
  EXPECT_NE(s.message().find(remote_), std::string::npos) << s;
  EXPECT_EQ(Fetch("no-such-branch").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(GitTest, BadRemotesAreRejectedWithGitsReason) {
  absl::Status s = ResolveGitRef(root_ + "/nowhere", "main").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("does not appear to be a git repository"), std::string::npos) << s;
  EXPECT_EQ(ResolveGitRef("--upload-pack=touch /tmp/x", "main").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveGitRef("", "main").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveGitRef(remote_, "--output=x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(GitTest, FetchesBranchWithoutGitDir) {
  absl::StatusOr<GitResult> r = Fetch("main");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->resolved.commit, c3_);
  EXPECT_EQ(Tree(dest_), (std::vector<std::string>{"README", "dir", "dir/sub", "dir/sub/file.txt",
                                                   "link", "linkdir", "run.sh"}));
  EXPECT_EQ(ReadAll(dest_ + "/README"), "three\n");
  struct stat st;
  ASSERT_EQ(::lstat((dest_ + "/run.sh").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  ASSERT_EQ(::lstat((dest_ + "/README").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_EQ(fs::read_symlink(dest_ + "/link"), "README");
  // The scratch repository beside dest is gone.
  std::vector<std::string> beside;
  for (const auto& e : fs::directory_iterator(root_ + "/out"))
    beside.push_back(e.path().filename());
  EXPECT_EQ(beside, std::vector<std::string>{"dest"});
}

TEST_F(GitTest, FetchesAnnotatedTagAndCommitSha) {
  absl::StatusOr<GitResult> r = Fetch("v1.0");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(ReadAll(dest_ + "/README"), "one\n");
  EXPECT_FALSE(fs::exists(dest_ + "/feature.txt"));

  dest_ = root_ + "/by-sha";
  r = Fetch(c2_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->resolved.commit, c2_);
  EXPECT_EQ(ReadAll(dest_ + "/feature.txt"), "feature\n");

  // c1 is no branch tip: fetched by sha alone.
  dest_ = root_ + "/by-inner-sha";
  r = Fetch(c1_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(ReadAll(dest_ + "/README"), "one\n");
}

TEST_F(GitTest, FileUrlRemoteWorks) {
  GitRequest req;
  req.remote = "file://" + remote_;
  req.ref = "feature";
  absl::StatusOr<GitResult> r = FetchGit(req, dest_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(fs::exists(dest_ + "/feature.txt"));
}

TEST_F(GitTest, UnknownCommitIsNotFound) {
  absl::Status s = Fetch(std::string(40, 'a')).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
}

TEST_F(GitTest, KeepGitDirLeavesCleanDetachedRepo) {
  GitRequest req;
  req.keep_git_dir = true;
  ASSERT_TRUE(Fetch("main", req).ok());
  auto git = [&](std::vector<std::string> args) -> absl::StatusOr<RunResult> {
    RunOptions o;
    o.argv = {"git", "-C", dest_};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.env = {"PATH=/usr/bin:/bin", "HOME=/dev/null", "GIT_CONFIG_NOSYSTEM=1"};
    return RunProcess(o);
  };
  EXPECT_EQ(git({"rev-parse", "HEAD"})->stdout_data, c3_ + "\n");
  EXPECT_EQ(git({"status", "--porcelain"})->stdout_data, "");
  EXPECT_EQ(git({"remote", "get-url", "origin"})->stdout_data, remote_ + "\n");
  EXPECT_NE(git({"symbolic-ref", "-q", "HEAD"})->exit_code, 0);  // detached
  EXPECT_EQ(git({"rev-parse", "refs/heads/main"})->stdout_data, c3_ + "\n");
  EXPECT_FALSE(fs::exists(dest_ + "/.git/FETCH_HEAD"));
}

TEST_F(GitTest, WithoutKeepGitDirThereIsNoGitDir) {
  ASSERT_TRUE(Fetch("main").ok());
  EXPECT_FALSE(fs::exists(dest_ + "/.git"));
}

TEST_F(GitTest, SubdirBecomesTheTree) {
  GitRequest req;
  req.subdir = "/dir/";
  req.keep_git_dir = true;  // ignored with a subdir, as in BuildKit
  ASSERT_TRUE(Fetch("main", req).ok());
  EXPECT_EQ(Tree(dest_), (std::vector<std::string>{"sub", "sub/file.txt"}));
}

TEST_F(GitTest, BadSubdirs) {
  GitRequest req;
  req.subdir = "missing";
  EXPECT_EQ(Fetch("main", req).status().code(), absl::StatusCode::kNotFound);
  req.subdir = "../../etc";  // clamped to the checkout, as BuildKit does: "etc"
  EXPECT_EQ(Fetch("main", req).status().code(), absl::StatusCode::kNotFound);
  req.subdir = "linkdir";  // a symlink in the repository
  EXPECT_EQ(Fetch("main", req).status().code(), absl::StatusCode::kInvalidArgument);
  req.subdir = "README";
  EXPECT_EQ(Fetch("main", req).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(GitTest, CommitMTimeAppliesToEveryPath) {
  GitRequest req;
  req.mtime = GitMTime::kCommit;
  ASSERT_TRUE(Fetch("main", req).ok());
  std::vector<std::string> paths = Tree(dest_);
  paths.push_back(".");
  for (const std::string& p : paths) {
    struct stat st;
    ASSERT_EQ(::lstat((dest_ + "/" + p).c_str(), &st), 0) << p;
    EXPECT_EQ(st.st_mtime, c3_time_) << p;
  }
}

TEST_F(GitTest, CancelledFetchStops) {
  GitRequest req;
  req.remote = remote_;
  EXPECT_EQ(FetchGit(req, dest_, [] { return true; }).status().code(),
            absl::StatusCode::kCancelled);
}

TEST(RedactRemoteTest, HidesPasswordsOnly) {
  EXPECT_EQ(RedactRemote("https://user:secret@host/r.git"), "https://user:xxxxx@host/r.git");
  EXPECT_EQ(RedactRemote("https://token@host/r.git"), "https://token@host/r.git");
  EXPECT_EQ(RedactRemote("git@github.com:o/r.git"), "git@github.com:o/r.git");
  EXPECT_EQ(RedactRemote("/local/path"), "/local/path");
}

TEST(IsCommitShaTest, NeedsFullLowercaseHex) {
  EXPECT_TRUE(IsCommitSha(std::string(40, 'a')));
  EXPECT_TRUE(IsCommitSha(std::string(64, '0')));
  EXPECT_FALSE(IsCommitSha(std::string(40, 'A')));
  EXPECT_FALSE(IsCommitSha("abc123"));
}

}  // namespace
}  // namespace kiln::ops
