// kiln: the command-line client, with the build engine embedded.
#include <string>
#include <vector>

#include "cmd/kiln/cli.h"
#include "frontends/dockerfile/frontend/frontend.h"
#include "frontends/lua/frontend.h"
#include "frontends/yaml/frontend/frontend.h"
#include "gateway/frontend/frontend.h"

int main(int argc, char** argv) {
  // The built-in frontends.
  kiln::frontend::Registry frontends;
  frontends.Register(kiln::dockerfile::kFrontendName, kiln::dockerfile::NewFrontend);
  frontends.Register(kiln::yamlfrontend::kFrontendName, kiln::yamlfrontend::NewFrontend);
  frontends.Register(kiln::luafrontend::kFrontendName, kiln::luafrontend::NewFrontend);
  return kiln::cli::Main(std::vector<std::string>(argv + 1, argv + argc), frontends);
}
