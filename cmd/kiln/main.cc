// kiln: the command-line client, with the build engine embedded.
//
// Built twice: `kiln`, and `kiln-gateway` (KILN_WITH_GATEWAY), which also
// serves LLBBridge to frontend images and talks to kilnd (--addr), and so
// links gRPC. kiln hands a build that needs a frontend image, and any
// command for kilnd, over to kiln-gateway, installed beside it.
#include <memory>
#include <string>
#include <vector>

#include "cmd/kiln/cli.h"
#include "frontends/dockerfile/frontend/frontend.h"
#include "frontends/lua/frontend.h"
#include "frontends/yaml/frontend/frontend.h"
#include "gateway/frontend/frontend.h"
#ifdef KILN_WITH_GATEWAY
#include "cmd/kiln/daemon_client.h"
#include "gateway/frontend/llbbridge.h"
#endif

int main(int argc, char** argv) {
  // The built-in frontends.
  kiln::frontend::Registry frontends;
  frontends.Register(kiln::dockerfile::kFrontendName, kiln::dockerfile::NewFrontend);
  frontends.Register(kiln::yamlfrontend::kFrontendName, kiln::yamlfrontend::NewFrontend);
  frontends.Register(kiln::luafrontend::kFrontendName, kiln::luafrontend::NewFrontend);
  std::unique_ptr<kiln::cli::DaemonClient> daemon;
#ifdef KILN_WITH_GATEWAY
  frontends.SetGateway(kiln::gatewayrpc::GrpcGateway());
  daemon = kiln::cli::NewGrpcDaemonClient();
#endif
  return kiln::cli::Main(std::vector<std::string>(argv + 1, argv + argc), frontends, daemon.get());
}
