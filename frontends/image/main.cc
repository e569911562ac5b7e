// A built-in frontend as a frontend image's entrypoint: the same Frontend
// that runs in-process in kiln, on sdk/client's Client over stdin/stdout,
// so kiln (through gateway.v0) and stock BuildKit (through `# syntax=`) can
// run it. Which frontend: KILN_IMAGE_FRONTEND, set by the BUILD target.
#include "frontends/dockerfile/frontend/frontend.h"
#include "frontends/lua/frontend.h"
#include "frontends/yaml/frontend/frontend.h"
#include "sdk/client/client.h"

#define KILN_STR2(x) #x
#define KILN_STR(x) KILN_STR2(x)

int main() {
  const std::string name = KILN_STR(KILN_IMAGE_FRONTEND);
  std::unique_ptr<kiln::frontend::Frontend> fe = name == "lua" ? kiln::luafrontend::NewFrontend()
                                                 : name == "yaml"
                                                     ? kiln::yamlfrontend::NewFrontend()
                                                     : kiln::dockerfile::NewFrontend();
  return kiln::client::RunFrontend([&](kiln::client::Client& c) { return fe->Build(c); });
}
