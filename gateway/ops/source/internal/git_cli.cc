#include "gateway/ops/source/internal/git_cli.h"

#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kiln::source_internal {

std::vector<std::string> GitEnv() {
  const char* path = getenv("PATH");
  std::vector<std::string> env = {
      absl::StrCat("PATH=", path != nullptr ? path : "/usr/bin:/bin"),
      "GIT_TERMINAL_PROMPT=0",
      // Never ask an ssh agent or a terminal for host keys.
      "GIT_SSH_COMMAND=ssh -F /dev/null -o StrictHostKeyChecking=no "
      "-o BatchMode=yes",
      "GIT_CONFIG_NOSYSTEM=1",
      "HOME=/dev/null",
      "GIT_CONFIG_GLOBAL=/dev/null",
      "LC_ALL=C",
  };
  for (const char* name : {"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy",
                           "https_proxy", "no_proxy", "all_proxy"}) {
    if (const char* v = getenv(name)) env.push_back(absl::StrCat(name, "=", v));
  }
  return env;
}

absl::StatusOr<ops::RunResult> RunGitRaw(const GitCli& cli, const std::vector<std::string>& args) {
  ops::RunOptions opts;
  opts.argv = {"git",
               // Top-level file:// and local-path remotes are allowed;
               // submodules cannot reach into the host's filesystem.
               "-c", "protocol.file.allow=user",
               // No background gc/maintenance outliving the command.
               "-c", "gc.auto=0", "-c", "maintenance.auto=false", "-c",
               "advice.detachedHead=false"};
  if (!cli.work_tree.empty()) {
    opts.argv.push_back("--work-tree=" + cli.work_tree);
    opts.cwd = cli.work_tree;
  }
  if (!cli.git_dir.empty()) opts.argv.push_back("--git-dir=" + cli.git_dir);
  opts.argv.insert(opts.argv.end(), args.begin(), args.end());
  opts.env = GitEnv();
  opts.umask = 022;
  opts.cancelled = cli.cancelled;
  opts.timeout = cli.deadline - absl::Now();
  if (opts.timeout <= absl::ZeroDuration()) {
    return absl::DeadlineExceededError("git: the fetch ran out of time");
  }
  return ops::RunProcess(opts);
}

absl::StatusOr<std::string> RunGit(const GitCli& cli, const std::vector<std::string>& args,
                                   const std::string& what) {
  absl::StatusOr<ops::RunResult> r = RunGitRaw(cli, args);
  if (!r.ok()) {
    return absl::Status(r.status().code(), absl::StrCat(what, ": ", r.status().message()));
  }
  if (r->exit_code != 0) {
    return absl::UnavailableError(absl::StrCat(what, " failed (git exit ", r->exit_code,
                                               "): ", ops::TailLines(r->stderr_data)));
  }
  return std::move(r->stdout_data);
}

}  // namespace kiln::source_internal
