// Runs a program to completion with captured output, a deadline and
// cancellation, without a shell.
//
// The child gets its own process group, so that helpers it spawns (git starts
// upload-pack, remote-https, ...) are killed with it when the deadline passes
// or the caller cancels. It dies with SIGKILL if this process dies. Its stdin
// is /dev/null and it inherits no descriptors but 0, 1 and 2.
//
// RunProcess is thread-safe: it forks with only async-signal-safe work in the
// child, and keeps no global state.
#ifndef KILN_GATEWAY_OPS_SOURCE_RUN_H_
#define KILN_GATEWAY_OPS_SOURCE_RUN_H_

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/ops/source/cancel.h"

namespace kiln::ops {

struct RunOptions {
  // argv[0] is looked up in $PATH of this process when it has no '/'.
  std::vector<std::string> argv;
  // The child's whole environment ("KEY=value"); nothing is inherited.
  std::vector<std::string> env;
  // Working directory of the child; empty keeps ours.
  std::string cwd;
  // The child is killed after this long. Infinite means no deadline.
  absl::Duration timeout = absl::InfiniteDuration();
  // Polled about ten times a second; true kills the child.
  CancelFn cancelled;
  // Applied in the child before exec when set (git runs with 022 so that the
  // files it checks out get ordinary modes whatever our own umask is).
  std::optional<mode_t> umask;
  // Output beyond this many bytes per stream is dropped from the front, so
  // that the tail (where errors are) survives.
  size_t max_output_bytes = 16 << 20;
};

struct RunResult {
  // The exit status, or 128+signal when the child was killed by a signal.
  int exit_code = 0;
  std::string stdout_data;
  std::string stderr_data;
};

// `name` resolved against this process's $PATH, or `name` itself when it
// holds a '/'; nullopt when no executable file has that name. Callers that
// fork resolve before forking: the child may only make async-signal-safe
// calls, which rules out execvp's allocations.
std::optional<std::string> FindProgram(const std::string& name);

// Runs `opts.argv` and waits for it. A non-zero exit is not an error here:
// it is reported in RunResult.exit_code. Errors: InvalidArgument for an empty
// argv; NotFound when the program is not on $PATH; DeadlineExceeded or
// Cancelled (with the tail of stderr) when the child had to be killed;
// Internal when pipes, fork or exec fail.
absl::StatusOr<RunResult> RunProcess(const RunOptions& opts);

// The last `max_lines` non-empty lines of `text`, joined by "\n"; used to put
// a tool's own explanation into an error message without flooding it.
std::string TailLines(std::string_view text, int max_lines = 5);

}  // namespace kiln::ops

#endif  // KILN_GATEWAY_OPS_SOURCE_RUN_H_
