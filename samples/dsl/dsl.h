// "kb", a small line-oriented build language: the in-house DSL sample of
// a team writing its own frontend against kiln's SDK (sdk/ only).
//
//   # syntax=kiln/dsl-frontend
//   from busybox
//   workdir /app
//   env GREETING=hello
//   copy src/ /app/src/
//   run echo "$GREETING" > /app/greeting
//   parallel {
//     run sh src/build.sh one     # branches run side by side on the same state;
//     run sh src/build.sh two     # what each writes under /out lands in the workdir
//   }
//   cmd cat /app/greeting
//   output /app
//
// One command per line; `#` starts a comment line. Commands: from (an image
// or scratch; first), workdir, env K=V, copy SRC DEST (from the context),
// run CMD (/bin/sh -c), parallel { run ... } (no nesting; each branch's
// /out is copied into the working directory), cmd ARGS
// (the image's command, split on spaces), output DIR (the result is DIR's
// contents; default: the whole filesystem).
//
// Errors name the line: "build.kb:3: unknown command "rnu" (did you mean
// "run"?)". Parse and Convert are pure; thread-safe.
#ifndef KILN_SAMPLES_DSL_DSL_H_
#define KILN_SAMPLES_DSL_DSL_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sdk/frontend/frontend.h"
#include "sdk/llb/llb.h"

namespace kb {

struct Command {
  int line = 0;
  std::string verb;               // from, workdir, env, copy, run, cmd, output, parallel
  std::string arg;                // the rest of the line, trimmed
  std::vector<Command> branches;  // parallel: its run commands
};

struct Program {
  std::vector<Command> commands;
};

// InvalidArgument "FILE:LINE: message" for the first mistake.
absl::StatusOr<Program> Parse(std::string_view text, const std::string& filename);

struct ConvertOptions {
  std::string filename;
  kiln::llb::State context;  // the build context
  std::function<absl::StatusOr<kiln::frontend::ResolvedImage>(const std::string&)> resolve_image;
  kiln::llb::Platform platform = kiln::llb::Platform::Host();
  // The network of runs (BuildKit's force-network-mode option).
  pb::NetMode network = pb::UNSET;
};

struct Converted {
  kiln::llb::State state;
  std::string image_config;  // JSON
};

absl::StatusOr<Converted> Convert(const Program& program, const ConvertOptions& options);

// The frontend: reads the "filename" option's file (default build.kb) and
// converts it.
absl::StatusOr<kiln::frontend::Result> Build(kiln::frontend::Bridge& bridge);

}  // namespace kb

#endif  // KILN_SAMPLES_DSL_DSL_H_
