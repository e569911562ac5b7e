// Frontends: what turns a build definition (a Dockerfile, a YAML spec, a Lua
// script) into LLB.
//
// The Frontend and Bridge interfaces live in sdk/frontend, so frontends
// depend on the SDK only. Built-in frontends run in-process on the engine's
// Bridge; a frontend image will reach the same calls over gRPC. The registry maps
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
#include "sdk/frontend/frontend.h"

namespace kiln::frontend {

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
