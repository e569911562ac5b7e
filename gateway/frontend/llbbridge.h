// kiln's LLBBridge server: BuildKit's gateway API served from a
// frontend::Bridge, for frontends that run out of process (frontend images)
// and reach the build over gRPC.
//
//   gatewayrpc::LlbBridgeServer service(engine_bridge);
//   KILN_ASSIGN_OR_RETURN(auto server, gatewayrpc::ServeOnFd(&service, fd));
//   ... run the frontend with `fd`'s peer as its stdin and stdout ...
//   absl::StatusOr<frontend::Result> result = service.Returned();
//
// Calls: Ping (capabilities and one worker), Solve (a definition, or a
// frontend with options and inputs; lazy unless Evaluate), Evaluate,
// ReadFile (with a range), ReadDir, StatFile, ResolveImageConfig, Inputs,
// Warn and Return. The container calls (NewContainer, ExecProcess, ...) and
// ResolveSourceMeta answer Unimplemented saying so; Ping's capability list
// leaves them out. Results stay definitions until a call needs their files,
// so a frontend that only returns a graph solves nothing here.
//
// Calls are served one at a time (the Bridge is single-threaded); the
// solver still runs each solve's graph in parallel.
#ifndef KILN_GATEWAY_FRONTEND_LLBBRIDGE_H_
#define KILN_GATEWAY_FRONTEND_LLBBRIDGE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gateway/frontend/frontend.h"
#include "grpcpp/server.h"
#include "proto/gateway/gateway.grpc.pb.h"
#include "sdk/frontend/frontend.h"

namespace kiln::gatewayrpc {

namespace gw = moby::buildkit::v1::frontend;

class LlbBridgeServer final : public gw::LLBBridge::Service {
 public:
  explicit LlbBridgeServer(frontend::Bridge& bridge) : bridge_(bridge) {}

  // What the frontend returned: its result, the error it returned, or
  // FailedPrecondition when it has not called Return.
  absl::StatusOr<frontend::Result> Returned() const;
  bool HasReturned() const;

  grpc::Status Ping(grpc::ServerContext*, const gw::PingRequest*, gw::PongResponse*) override;
  grpc::Status Return(grpc::ServerContext*, const gw::ReturnRequest*, gw::ReturnResponse*) override;
  grpc::Status Inputs(grpc::ServerContext*, const gw::InputsRequest*, gw::InputsResponse*) override;
  grpc::Status Solve(grpc::ServerContext*, const gw::SolveRequest*, gw::SolveResponse*) override;
  grpc::Status Evaluate(grpc::ServerContext*, const gw::EvaluateRequest*,
                        gw::EvaluateResponse*) override;
  grpc::Status ResolveImageConfig(grpc::ServerContext*, const gw::ResolveImageConfigRequest*,
                                  gw::ResolveImageConfigResponse*) override;
  grpc::Status ReadFile(grpc::ServerContext*, const gw::ReadFileRequest*,
                        gw::ReadFileResponse*) override;
  grpc::Status ReadDir(grpc::ServerContext*, const gw::ReadDirRequest*,
                       gw::ReadDirResponse*) override;
  grpc::Status StatFile(grpc::ServerContext*, const gw::StatFileRequest*,
                        gw::StatFileResponse*) override;
  grpc::Status Warn(grpc::ServerContext*, const gw::WarnRequest*, gw::WarnResponse*) override;

  grpc::Status ResolveSourceMeta(grpc::ServerContext*, const gw::ResolveSourceMetaRequest*,
                                 gw::ResolveSourceMetaResponse*) override;
  grpc::Status NewContainer(grpc::ServerContext*, const gw::NewContainerRequest*,
                            gw::NewContainerResponse*) override;
  grpc::Status ReleaseContainer(grpc::ServerContext*, const gw::ReleaseContainerRequest*,
                                gw::ReleaseContainerResponse*) override;
  grpc::Status ExecProcess(grpc::ServerContext*,
                           grpc::ServerReaderWriter<gw::ExecMessage, gw::ExecMessage>*) override;
  grpc::Status ReadFileContainer(grpc::ServerContext*, const gw::ReadFileRequest*,
                                 gw::ReadFileResponse*) override;
  grpc::Status ReadDirContainer(grpc::ServerContext*, const gw::ReadDirRequest*,
                                gw::ReadDirResponse*) override;
  grpc::Status StatFileContainer(grpc::ServerContext*, const gw::StatFileRequest*,
                                 gw::StatFileResponse*) override;

 private:
  struct Ref {
    pb::Definition definition;
    std::optional<std::string> solved;  // the Bridge's reference, once solved
  };
  // A new reference for `def`.
  std::string AddRef(pb::Definition def);
  // The Bridge's reference for `id`, solving it first if needed.
  absl::StatusOr<std::string> Solved(const std::string& id);

  frontend::Bridge& bridge_;
  mutable absl::Mutex mu_;
  std::map<std::string, Ref> refs_;
  int next_ref_ = 0;
  bool returned_ = false;
  absl::StatusOr<frontend::Result> result_ =
      absl::FailedPreconditionError("the frontend ended without returning a result");
};

// A gRPC server for `service` on the connected socket `fd` (taken over).
absl::StatusOr<std::unique_ptr<grpc::Server>> ServeOnFd(grpc::Service* service, int fd);

// The registry's gateway: an LlbBridgeServer on a gRPC server per run.
frontend::ServeGatewayFn GrpcGateway();

}  // namespace kiln::gatewayrpc

#endif  // KILN_GATEWAY_FRONTEND_LLBBRIDGE_H_
