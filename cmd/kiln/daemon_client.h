// cli::DaemonClient over kilnd's control API (gRPC).
#ifndef KILN_CMD_KILN_DAEMON_CLIENT_H_
#define KILN_CMD_KILN_DAEMON_CLIENT_H_

#include <memory>

#include "cmd/kiln/cli.h"

namespace kiln::cli {

std::unique_ptr<DaemonClient> NewGrpcDaemonClient();

}  // namespace kiln::cli

#endif  // KILN_CMD_KILN_DAEMON_CLIENT_H_
