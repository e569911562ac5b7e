// Starting and reaping helper processes (runc) from a multi-threaded
// program: posix_spawn, stdin from /dev/null unless given, default signal dispositions.
// Thread-safe.
#ifndef KILN_GATEWAY_OPS_EXEC_INTERNAL_PROCESS_H_
#define KILN_GATEWAY_OPS_EXEC_INTERNAL_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::exec_internal {

// Starts argv[0] (a path) with stdout and stderr on `out_fd` and `err_fd`
// (/dev/null for -1), and stdin on `in_fd` (/dev/null for -1). Errors:
// Internal naming the program when it cannot be started.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv, int out_fd, int err_fd,
                            int in_fd = -1);

// Waits for `pid` and returns its exit status, 128 + signal when killed.
int Wait(pid_t pid);

// Runs argv to completion, output discarded, and returns its exit status.
// Errors: those of Spawn.
absl::StatusOr<int> RunQuiet(const std::vector<std::string>& argv);

// Where `name` is: itself when it contains a slash, else the first
// executable match on $PATH; "" when not found.
std::string FindExecutable(const std::string& name);

}  // namespace kiln::exec_internal

#endif  // KILN_GATEWAY_OPS_EXEC_INTERNAL_PROCESS_H_
