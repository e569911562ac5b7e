// A build graph with container steps on the busybox base image, printed as
// a binary pb.Definition on stdout:
//
//   kiln image import --rootfs busybox.tar busybox   (samples/llb/mkrootfs.sh)
//   bazel run //samples/llb:containers | kiln build --llb - --output type=local,dest=out
//
//   busybox --> [compile a] --.
//   busybox --> [compile b] --+--> scratch + /app (copies) --> out/
//   busybox --> [version]   --'
//
// The three RUN steps are independent, so they run in parallel containers;
// the result holds only what they produced, copied onto scratch.
#include <iostream>
#include <string>

#include "sdk/llb/llb.h"

namespace llb = kiln::llb;

namespace {

llb::OpOptions Named(const std::string& name) {
  llb::OpOptions options;
  options.custom_name = name;
  return options;
}

// A shell command in a busybox container, in /work.
llb::State Step(const std::string& name, const std::string& script) {
  llb::RunOptions run;
  run.args = {"/bin/sh", "-c", script};
  run.cwd = "/work";
  run.op = Named(name);
  return llb::Image("busybox").AddEnv("LANG", "C").Run(run).Root();
}

}  // namespace

int main() {
  llb::State a = Step("compile a", "echo 'module a' > a.out; sleep 1");
  llb::State b = Step("compile b", "echo 'module b' > b.out; sleep 1");
  llb::State v = Step("version", "uname -s > version.txt; id -un >> version.txt");
  llb::CopyOptions into_app;
  into_app.create_dest_path = true;
  llb::State out =
      llb::Scratch().File(llb::Copy(a, "/work/a.out", "/app/a.out", into_app)
                              .Copy(b, "/work/b.out", "/app/b.out", into_app)
                              .Copy(v, "/work/version.txt", "/app/version.txt", into_app),
                          Named("collect /app"));
  auto def = llb::Marshal(out);
  if (!def.ok()) {
    std::cerr << "containers: " << def.status() << "\n";
    return 1;
  }
  auto bytes = llb::SerializeDeterministic(*def);
  if (!bytes.ok()) {
    std::cerr << "containers: " << bytes.status() << "\n";
    return 1;
  }
  std::cout << *bytes;
  return std::cout.good() ? 0 : 1;
}
