// Frontends: what turns a build definition (a Dockerfile, a YAML spec, a Lua
// script) into LLB.
//
// A frontend sees a build only through a Bridge: its options, and the calls
// of BuildKit's LLBBridge it makes (solve a definition, read a file of a
// result). Built-in frontends run in-process on the engine's Bridge; a
// frontend image will reach the same calls over gRPC. The registry maps
// names ("dockerfile.v0") to frontends; cmd/ fills it, the gateway includes
// no frontend itself.
//
// The registry is thread-safe after it is filled; a Frontend serves one build.
#ifndef KILN_GATEWAY_FRONTEND_FRONTEND_H_
#define KILN_GATEWAY_FRONTEND_FRONTEND_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/llb/ops.pb.h"

namespace kiln::frontend {

class Bridge {
 public:
  virtual ~Bridge() = default;
  // The build's options: --opt K=V as given, build args as "build-arg:K",
  // the target as "target", the definition file as "filename".
  virtual const std::map<std::string, std::string>& Options() const = 0;
  // Solves `def` now and returns a reference to its result for ReadFile.
  virtual absl::StatusOr<std::string> Solve(const pb::Definition& def) = 0;
  // The bytes of `path` in a solved result. NotFound naming the path.
  virtual absl::StatusOr<std::string> ReadFile(const std::string& ref, const std::string& path) = 0;
};

class Frontend {
 public:
  virtual ~Frontend() = default;
  // The definition of the build's result.
  virtual absl::StatusOr<pb::Definition> Build(Bridge& bridge) = 0;
};

class Registry {
 public:
  using Factory = std::function<std::unique_ptr<Frontend>()>;
  void Register(const std::string& name, Factory factory) { factories_[name] = std::move(factory); }
  // NotFound naming the frontend and the ones that exist.
  absl::StatusOr<std::unique_ptr<Frontend>> New(const std::string& name) const;
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, Factory> factories_;
};

}  // namespace kiln::frontend

#endif  // KILN_GATEWAY_FRONTEND_FRONTEND_H_
