// The kiln command line: build, du, prune. main() only calls Main.
#ifndef KILN_CMD_KILN_CLI_H_
#define KILN_CMD_KILN_CLI_H_

#include <string>
#include <vector>

#include "gateway/frontend/frontend.h"

namespace kiln::cli {

// Runs `kiln ARGS...` with the given built-in frontends and returns the exit
// status: 0 success, 1 build or command failure, 2 bad usage.
int Main(const std::vector<std::string>& args, const frontend::Registry& frontends);

}  // namespace kiln::cli

#endif  // KILN_CMD_KILN_CLI_H_
