// Runs git commands with the locked-down environment described in git.h.
#ifndef KILN_GATEWAY_OPS_SOURCE_INTERNAL_GIT_CLI_H_
#define KILN_GATEWAY_OPS_SOURCE_INTERNAL_GIT_CLI_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/ops/source/cancel.h"
#include "gateway/ops/source/run.h"

namespace kiln::source_internal {

// One git invocation context: which repository, and the budget left.
struct GitCli {
  std::string git_dir;    // --git-dir when set
  std::string work_tree;  // --work-tree when set; also the working directory
  absl::Time deadline = absl::InfiniteFuture();
  ops::CancelFn cancelled;
};

// The environment every git child gets (see git.h).
std::vector<std::string> GitEnv();

// Runs `git <args>` and returns whatever happened, including a non-zero
// exit. Errors only when git could not run or was killed.
absl::StatusOr<ops::RunResult> RunGitRaw(const GitCli& cli, const std::vector<std::string>& args);

// Runs `git <args>` and returns its stdout. A non-zero exit becomes
// Unavailable "<what> failed (git exit N): <last stderr lines>".
absl::StatusOr<std::string> RunGit(const GitCli& cli, const std::vector<std::string>& args,
                                   const std::string& what);

}  // namespace kiln::source_internal

#endif  // KILN_GATEWAY_OPS_SOURCE_INTERNAL_GIT_CLI_H_
