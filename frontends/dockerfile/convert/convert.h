// Dockerfile to LLB: BuildKit's dockerfile2llb, written for kiln.
//
//   dockerfile::ConvertOptions opts;
//   opts.build_args = {{"VERSION", "1.2"}};
//   opts.resolve_image = [&](const std::string& ref) { return bridge.ResolveImageConfig(ref); };
//   KILN_ASSIGN_OR_RETURN(dockerfile::Converted out, dockerfile::Convert(text, opts));
//   // out.state: the target stage's filesystem; out.image_config: its config
//
// Only the stages the target needs are converted (and their base images
// resolved); the solver then runs independent stages in parallel. The
// result's image config carries Env, Cmd, Entrypoint, WorkingDir, User,
// Labels, ExposedPorts, Volumes, StopSignal, OnBuild, Shell and Healthcheck
// as BuildKit writes them, and one history entry per instruction.
//
// Conversion is deterministic: the same text and options always give the
// same LLB bytes. Convert is thread-safe; `resolve_image` is called from the
// calling thread only.
#ifndef KILN_FRONTENDS_DOCKERFILE_CONVERT_CONVERT_H_
#define KILN_FRONTENDS_DOCKERFILE_CONVERT_CONVERT_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sdk/frontend/frontend.h"
#include "sdk/llb/llb.h"

namespace kiln::dockerfile {

struct ConvertOptions {
  std::string filename = "Dockerfile";  // for messages and source maps
  std::string target;                   // stage name; empty: the last stage
  std::map<std::string, std::string> build_args;
  // Named contexts by name: "docker-image://REF" or "local:LOCALNAME".
  // They replace a stage, an image or a COPY --from source of that name.
  std::map<std::string, std::string> named_contexts;
  // Exclude patterns (.dockerignore syntax) for the build context.
  std::vector<std::string> context_excludes;
  std::string context_name = "context";  // the local source of the context
  std::string session_id;                // for local sources: Bridge::SessionID
  // The network of RUNs without --network (BuildKit's force-network-mode).
  pb::NetMode default_network = pb::UNSET;
  // The context as a graph (a frontend input) instead of a local source;
  // context_excludes and context_name are then unused.
  std::optional<llb::State> context_state;
  // Target and build platform (kiln builds natively).
  llb::Platform platform = llb::Platform::Host();
  // The --platform the build asked for ("linux/amd64"); empty: native.
  // Anything but the native platform is refused for now.
  std::string target_platform;
  // Image configs for FROM and COPY --from images. NotFound as the Bridge's.
  std::function<absl::StatusOr<frontend::ResolvedImage>(const std::string& ref)> resolve_image;
};

struct Converted {
  llb::State state;
  std::string image_config;           // JSON
  std::vector<std::string> warnings;  // "Dockerfile:3: ..." lines
};

// InvalidArgument "FILE:LINE: message" followed by the offending line, for
// anything BuildKit rejects (unknown instruction, bad flag, missing stage,
// bad mount, ...). Image lookups fail as `resolve_image` does, with the line.
absl::StatusOr<Converted> Convert(std::string_view dockerfile, const ConvertOptions& options);

}  // namespace kiln::dockerfile

#endif  // KILN_FRONTENDS_DOCKERFILE_CONVERT_CONVERT_H_
