// A YAML build spec to LLB.
//
//   KILN_ASSIGN_OR_RETURN(yamlspec::Spec spec, yamlspec::Read(text, read_options));
//   yamlconvert::ConvertOptions o;
//   o.filename = "kiln.yaml";
//   o.text = text;  // for source maps
//   o.resolve_image = [&](const std::string& ref) { return bridge.ResolveImageConfig(ref); };
//   KILN_ASSIGN_OR_RETURN(yamlconvert::Converted out, yamlconvert::Convert(spec, o));
//
// Each step becomes the op the equivalent Dockerfile instruction becomes,
// byte for byte, so a spec and a Dockerfile that say the same thing share
// cache: stage `env`, `workdir`, `user` are ENV, WORKDIR, USER in that
// order; `run` is RUN (a list is the exec form); `copy` and `add` are COPY
// and ADD. `mkdir`, `file`, `rm` and `symlink` are one file op each. The
// `image` block sets the exported config; `env`, `user` and `workdir` there
// also hold for stages built from this one.
//
// Only the stages the target needs are converted; the solver runs the
// independent ones in parallel. Deterministic: the same spec and options
// give the same LLB bytes.
#ifndef KILN_FRONTENDS_YAML_CONVERT_CONVERT_H_
#define KILN_FRONTENDS_YAML_CONVERT_CONVERT_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "frontends/yaml/spec/spec.h"
#include "sdk/frontend/frontend.h"
#include "sdk/llb/llb.h"

namespace kiln::yamlconvert {

struct ConvertOptions {
  std::string filename = "kiln.yaml";  // for messages and source maps
  std::string text;                    // the spec, for source maps
  std::string target;                  // a stage; empty: the last one
  // Build args given to the build: the proxy ones (http_proxy, ...) reach
  // every run step's process, outside the cache key, as in Dockerfiles.
  std::map<std::string, std::string> build_args;
  std::vector<std::string> context_excludes;  // .dockerignore patterns
  std::string context_name = "context";
  std::string session_id;                   // for local sources: Bridge::SessionID
  pb::NetMode default_network = pb::UNSET;  // for runs without network:
  // The context as a graph (a remote context, an input) instead of a local.
  std::optional<llb::State> context_state;
  llb::Platform platform = llb::Platform::Host();
  std::function<absl::StatusOr<frontend::ResolvedImage>(const std::string& ref)> resolve_image;
};

struct Converted {
  llb::State state;
  std::string image_config;  // JSON, history included
};

// InvalidArgument "FILE:LINE:COL: message" for an unknown target, an image
// that does not resolve, or a step that cannot be built as written.
absl::StatusOr<Converted> Convert(const yamlspec::Spec& spec, const ConvertOptions& options);

}  // namespace kiln::yamlconvert

#endif  // KILN_FRONTENDS_YAML_CONVERT_CONVERT_H_
