// A real git repository on disk for tests, built with the `git` binary.
//
// Commits get fixed author/committer identities and strictly increasing
// dates (starting at kFirstCommitTime, one minute apart), so commit shas and
// commit times are reproducible. The host's git config is ignored. Not
// thread-safe.
#ifndef KILN_GATEWAY_OPS_SOURCE_TEST_GIT_REPO_H_
#define KILN_GATEWAY_OPS_SOURCE_TEST_GIT_REPO_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::ops {

class TestGitRepo {
 public:
  static constexpr int64_t kFirstCommitTime = 1600000000;

  // `git init` in `dir` (created if missing) with `branch` as the initial
  // branch.
  static absl::StatusOr<TestGitRepo> Init(const std::string& dir,
                                          const std::string& branch = "main");

  // Writes `content` to `rel` (parents created) with `mode`.
  absl::Status WriteFile(const std::string& rel, const std::string& content, mode_t mode = 0644);
  absl::Status Symlink(const std::string& target, const std::string& rel);
  // `git add -A` and commit; returns the new commit's sha.
  absl::StatusOr<std::string> Commit(const std::string& message);
  // Runs `git <args>` in the repository; returns stdout with the trailing
  // newline removed. A non-zero exit is an Internal error with stderr.
  absl::StatusOr<std::string> Git(const std::vector<std::string>& args);

  const std::string& dir() const { return dir_; }
  // The time the next commit will carry.
  int64_t next_commit_time() const { return next_time_; }

 private:
  explicit TestGitRepo(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  int64_t next_time_ = kFirstCommitTime;
};

}  // namespace kiln::ops

#endif  // KILN_GATEWAY_OPS_SOURCE_TEST_GIT_REPO_H_
