// Frontends: what turns a build definition (a Dockerfile, a YAML spec, a Lua
// script) into LLB.
//
// The Frontend and Bridge interfaces live in sdk/frontend, so frontends
// depend on the SDK only. Built-in frontends run in-process on the engine's
// Bridge; a frontend image reaches the same calls over gRPC (LLBBridge,
// served by the registry's gateway, docs/gateway.md). The registry maps
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

// The frontend that runs frontend images: gateway.v0 with --opt
// source=IMAGE (and a Dockerfile's `# syntax=IMAGE`).
inline constexpr char kGatewayFrontend[] = "gateway.v0";

// The start of the error a kiln without a gateway server gives for a
// frontend image; the CLI then hands the build to kiln-gateway.
inline constexpr char kNoGatewayMessage[] = "frontend images run in kiln-gateway";

// An LLBBridge server for one frontend image run, serving `bridge` on a
// connected socket.
class GatewayServer {
 public:
  virtual ~GatewayServer() = default;
  virtual bool HasReturned() const = 0;
  // The frontend's result, or the error it returned.
  virtual absl::StatusOr<Result> Returned() const = 0;
  // Stops serving; calls in flight are cancelled.
  virtual void Shutdown() = 0;
};
using ServeGatewayFn =
    std::function<absl::StatusOr<std::unique_ptr<GatewayServer>>(int fd, Bridge& bridge)>;

class Registry {
 public:
  using Factory = std::function<std::unique_ptr<Frontend>()>;
  void Register(const std::string& name, Factory factory) { factories_[name] = std::move(factory); }
  // How to serve LLBBridge to frontend images (gateway/frontend:llbbridge's
  // GrpcGateway); without one, frontend images are refused with
  // kNoGatewayMessage.
  void SetGateway(ServeGatewayFn serve) { gateway_ = std::move(serve); }
  const ServeGatewayFn& gateway() const { return gateway_; }
  // NotFound naming the frontend and the ones that exist.
  absl::StatusOr<std::unique_ptr<Frontend>> New(const std::string& name) const;
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, Factory> factories_;
  ServeGatewayFn gateway_;
};

}  // namespace kiln::frontend

#endif  // KILN_GATEWAY_FRONTEND_FRONTEND_H_
