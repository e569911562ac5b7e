// The kb frontend image's entrypoint: kb::Build on the SDK's Client, served
// over stdin and stdout to kiln or BuildKit.
#include "samples/dsl/dsl.h"
#include "sdk/client/client.h"

int main() {
  return kiln::client::RunFrontend([](kiln::client::Client& c) { return kb::Build(c); });
}
