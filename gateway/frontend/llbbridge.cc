#include "gateway/frontend/llbbridge.h"

#include <fcntl.h>

#include "absl/strings/str_cat.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/server_posix.h"
#include "sdk/client/wire.h"

namespace kiln::gatewayrpc {
namespace {

using client::FromRpcStatus;
using client::ToGrpc;

grpc::Status NotHere(const char* call) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      absl::StrCat("kiln's gateway does not implement ", call,
                                   " yet (see the capabilities Ping returns)"));
}

// Frontend API capabilities kiln serves.
constexpr const char* kFrontendCaps[] = {"solve.base",
                                         "solve.inlinereturn",
                                         "resolveimage",
                                         "readfile",
                                         "return",
                                         "readdir",
                                         "statfile",
                                         "proto.refarray",
                                         "frontend.inputs",
                                         "gateway.solve.metadata",
                                         "gateway.solve.evaluate",
                                         "gateway.evaluate",
                                         "gateway.warnings",
                                         "frontend.caps"};

// LLB capabilities kiln's solver runs: every cap sdk/llb marshals but the
// insecure security mode (refused).
constexpr const char* kLlbCaps[] = {
    "constraints",
    "diffop",
    "exec.meta.base",
    "exec.meta.network",
    "exec.mount.bind",
    "exec.mount.cache",
    "exec.mount.cache.content",
    "exec.mount.cache.sharing",
    "exec.mount.secret",
    "exec.mount.selector",
    "exec.mount.ssh",
    "exec.mount.tmpfs",
    "exec.mount.tmpfs.size",
    "exec.secretenv",
    "exec.validexitcode",
    "file.base",
    "file.copy.alwaysreplaceexistingdestpaths",
    "file.copy.includeexcludepatterns",
    "file.copy.modestring",
    "file.copy.requiredpaths",
    "file.symlink.create",
    "mergeop",
    "meta.description",
    "meta.exportcache",
    "meta.ignorecache",
    "platform",
    "soruce.http.uidgid",  // sic: BuildKit's name
    "source.git",
    "source.git.checksum",
    "source.git.fullurl",
    "source.git.httpauth",
    "source.git.keepgitdir",
    "source.git.knownsshhosts",
    "source.git.skipsubmodules",
    "source.http",
    "source.http.auth",
    "source.http.checksum",
    "source.http.perm",
    "source.image",
    "source.image.checksum",
    "source.image.layerlimit",
    "source.image.resolvemode",
    "source.local",
    "source.local.excludepatterns",
    "source.local.followpaths",
    "source.local.includepatterns",
    "source.local.sessionid",
    "source.local.sharedkeyhint",
    "source.local.unique",
};

}  // namespace

absl::StatusOr<frontend::Result> LlbBridgeServer::Returned() const {
  absl::MutexLock l(&mu_);
  return result_;
}

bool LlbBridgeServer::HasReturned() const {
  absl::MutexLock l(&mu_);
  return returned_;
}

std::string LlbBridgeServer::AddRef(pb::Definition def) {
  std::string id = absl::StrCat("kiln-ref-", next_ref_++);
  refs_[id] = Ref{std::move(def), std::nullopt};
  return id;
}

absl::StatusOr<std::string> LlbBridgeServer::Solved(const std::string& id) {
  auto it = refs_.find(id);
  if (it == refs_.end()) {
    return absl::NotFoundError(absl::StrCat("no result \"", id, "\" in this build"));
  }
  if (!it->second.solved.has_value()) {
    if (it->second.definition.def_size() == 0) {
      return absl::NotFoundError(absl::StrCat("result \"", id, "\" is empty (scratch)"));
    }
    absl::StatusOr<std::string> ref = bridge_.Solve(it->second.definition);
    if (!ref.ok()) return ref.status();
    it->second.solved = *ref;
  }
  return *it->second.solved;
}

grpc::Status LlbBridgeServer::Ping(grpc::ServerContext*, const gw::PingRequest*,
                                   gw::PongResponse* resp) {
  for (const char* id : kFrontendCaps) {
    auto* cap = resp->add_frontendapicaps();
    cap->set_id(id);
    cap->set_enabled(true);
  }
  for (const char* id : kLlbCaps) {
    auto* cap = resp->add_llbcaps();
    cap->set_id(id);
    cap->set_enabled(true);
  }
  auto* worker = resp->add_workers();
  worker->set_id("kiln");
  (*worker->mutable_labels())["org.mobyproject.buildkit.worker.executor"] = "runc";
  (*worker->mutable_labels())["org.mobyproject.buildkit.worker.snapshotter"] = "overlayfs";
  return grpc::Status::OK;
}

grpc::Status LlbBridgeServer::Return(grpc::ServerContext*, const gw::ReturnRequest* req,
                                     gw::ReturnResponse*) {
  absl::MutexLock l(&mu_);
  if (returned_) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the frontend returned twice");
  }
  returned_ = true;
  if (req->has_error() && req->error().code() != 0) {
    result_ = FromRpcStatus(req->error());
    return grpc::Status::OK;
  }
  frontend::Result r;
  const gw::Result& res = req->result();
  for (const auto& [k, v] : res.metadata()) r.metadata[k] = v;
  switch (res.result_case()) {
    case gw::Result::kRef: {
      const gw::Ref& ref = res.ref();
      if (!ref.id().empty()) {
        auto it = refs_.find(ref.id());
        if (it == refs_.end()) {
          result_ = absl::InvalidArgumentError(
              absl::StrCat("the frontend returned result \"", ref.id(), "\", which it never made"));
          return grpc::Status::OK;
        }
        r.definition = it->second.definition;
      } else {
        r.definition = ref.def();
      }
      break;
    }
    case gw::Result::kRefDeprecated: {
      auto it = refs_.find(res.refdeprecated());
      if (!res.refdeprecated().empty() && it == refs_.end()) {
        result_ = absl::InvalidArgumentError(absl::StrCat(
            "the frontend returned result \"", res.refdeprecated(), "\", which it never made"));
        return grpc::Status::OK;
      }
      if (it != refs_.end()) r.definition = it->second.definition;
      break;
    }
    case gw::Result::RESULT_NOT_SET:
      break;  // an empty result: scratch
    default:
      result_ = absl::UnimplementedError(
          "the frontend returned several results (a ref map); kiln builds one platform");
      return grpc::Status::OK;
  }
  result_ = std::move(r);
  return grpc::Status::OK;
}

grpc::Status LlbBridgeServer::Inputs(grpc::ServerContext*, const gw::InputsRequest*,
                                     gw::InputsResponse* resp) {
  absl::MutexLock l(&mu_);
  for (const auto& [k, v] : bridge_.Inputs()) (*resp->mutable_definitions())[k] = v;
  return grpc::Status::OK;
}

grpc::Status LlbBridgeServer::Solve(grpc::ServerContext*, const gw::SolveRequest* req,
                                    gw::SolveResponse* resp) {
  absl::MutexLock l(&mu_);
  pb::Definition def;
  std::map<std::string, std::string> metadata;
  if (!req->frontend().empty()) {
    if (req->has_definition() && req->definition().def_size() > 0) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "Solve: give a definition or a frontend, not both");
    }
    std::map<std::string, std::string> opts(req->frontendopt().begin(), req->frontendopt().end());
    std::map<std::string, pb::Definition> inputs(req->frontendinputs().begin(),
                                                 req->frontendinputs().end());
    absl::StatusOr<frontend::Result> r = bridge_.CallFrontend(req->frontend(), opts, inputs);
    if (!r.ok()) return ToGrpc(r.status());
    def = std::move(r->definition);
    metadata = std::move(r->metadata);
  } else {
    def = req->definition();
  }
  std::string id = AddRef(def);
  if (req->evaluate()) {
    absl::StatusOr<std::string> solved = Solved(id);
    if (!solved.ok() && def.def_size() > 0) return ToGrpc(solved.status());
  }
  resp->set_ref(id);
  if (req->allowresultreturn()) {
    gw::Result* r = resp->mutable_result();
    r->mutable_ref()->set_id(id);
    *r->mutable_ref()->mutable_def() = std::move(def);
    for (const auto& [k, v] : metadata) (*r->mutable_metadata())[k] = v;
  }
  return grpc::Status::OK;
}

grpc::Status LlbBridgeServer::Evaluate(grpc::ServerContext*, const gw::EvaluateRequest* req,
                                       gw::EvaluateResponse*) {
  absl::MutexLock l(&mu_);
  auto it = refs_.find(req->ref());
  if (it != refs_.end() && it->second.definition.def_size() == 0) return grpc::Status::OK;
  return ToGrpc(Solved(req->ref()).status());
}

grpc::Status LlbBridgeServer::ResolveImageConfig(grpc::ServerContext*,
                                                 const gw::ResolveImageConfigRequest* req,
                                                 gw::ResolveImageConfigResponse* resp) {
  absl::MutexLock l(&mu_);
  absl::StatusOr<frontend::ResolvedImage> img = bridge_.ResolveImageConfig(req->ref());
  if (!img.ok()) return ToGrpc(img.status());
  resp->set_ref(img->ref);
  resp->set_digest(img->digest);
  resp->set_config(img->config);
  return grpc::Status::OK;
}

grpc::Status LlbBridgeServer::ReadFile(grpc::ServerContext*, const gw::ReadFileRequest* req,
                                       gw::ReadFileResponse* resp) {
  absl::MutexLock l(&mu_);
  absl::StatusOr<std::string> ref = Solved(req->ref());
  if (!ref.ok()) return ToGrpc(ref.status());
  absl::StatusOr<std::string> data = bridge_.ReadFile(*ref, req->filepath());
  if (!data.ok()) return ToGrpc(data.status());
  if (req->has_range()) {
    int64_t off = req->range().offset(), len = req->range().length();
    if (off < 0 || len < 0) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "ReadFile: a negative range");
    }
    if (static_cast<size_t>(off) >= data->size()) {
      data->clear();
    } else {
      *data = data->substr(off, len == 0 ? std::string::npos : static_cast<size_t>(len));
    }
  }
  resp->set_data(std::move(*data));
  return grpc::Status::OK;
}

grpc::Status LlbBridgeServer::ReadDir(grpc::ServerContext*, const gw::ReadDirRequest* req,
                                      gw::ReadDirResponse* resp) {
  absl::MutexLock l(&mu_);
  absl::StatusOr<std::string> ref = Solved(req->ref());
  if (!ref.ok()) return ToGrpc(ref.status());
  absl::StatusOr<std::vector<frontend::FileStat>> entries =
      bridge_.ReadDir(*ref, req->dirpath(), req->includepattern());
  if (!entries.ok()) return ToGrpc(entries.status());
  for (const frontend::FileStat& e : *entries) *resp->add_entries() = client::StatToWire(e);
  return grpc::Status::OK;
}

grpc::Status LlbBridgeServer::StatFile(grpc::ServerContext*, const gw::StatFileRequest* req,
                                       gw::StatFileResponse* resp) {
  absl::MutexLock l(&mu_);
  absl::StatusOr<std::string> ref = Solved(req->ref());
  if (!ref.ok()) return ToGrpc(ref.status());
  absl::StatusOr<frontend::FileStat> st = bridge_.StatFile(*ref, req->path());
  if (!st.ok()) return ToGrpc(st.status());
  *resp->mutable_stat() = client::StatToWire(*st);
  return grpc::Status::OK;
}

grpc::Status LlbBridgeServer::Warn(grpc::ServerContext*, const gw::WarnRequest* req,
                                   gw::WarnResponse*) {
  absl::MutexLock l(&mu_);
  std::string msg = req->short_();
  for (const std::string& d : req->detail()) absl::StrAppend(&msg, "\n  ", d);
  if (!req->url().empty()) absl::StrAppend(&msg, " (", req->url(), ")");
  bridge_.Warn(msg);
  return grpc::Status::OK;
}

grpc::Status LlbBridgeServer::ResolveSourceMeta(grpc::ServerContext*,
                                                const gw::ResolveSourceMetaRequest*,
                                                gw::ResolveSourceMetaResponse*) {
  return NotHere("ResolveSourceMeta");
}
grpc::Status LlbBridgeServer::NewContainer(grpc::ServerContext*, const gw::NewContainerRequest*,
                                           gw::NewContainerResponse*) {
  return NotHere("NewContainer (interactive containers)");
}
grpc::Status LlbBridgeServer::ReleaseContainer(grpc::ServerContext*,
                                               const gw::ReleaseContainerRequest*,
                                               gw::ReleaseContainerResponse*) {
  return NotHere("ReleaseContainer (interactive containers)");
}
grpc::Status LlbBridgeServer::ExecProcess(
    grpc::ServerContext*, grpc::ServerReaderWriter<gw::ExecMessage, gw::ExecMessage>*) {
  return NotHere("ExecProcess (interactive containers)");
}
grpc::Status LlbBridgeServer::ReadFileContainer(grpc::ServerContext*, const gw::ReadFileRequest*,
                                                gw::ReadFileResponse*) {
  return NotHere("ReadFileContainer (interactive containers)");
}
grpc::Status LlbBridgeServer::ReadDirContainer(grpc::ServerContext*, const gw::ReadDirRequest*,
                                               gw::ReadDirResponse*) {
  return NotHere("ReadDirContainer (interactive containers)");
}
grpc::Status LlbBridgeServer::StatFileContainer(grpc::ServerContext*, const gw::StatFileRequest*,
                                                gw::StatFileResponse*) {
  return NotHere("StatFileContainer (interactive containers)");
}

absl::StatusOr<std::unique_ptr<grpc::Server>> ServeOnFd(grpc::Service* service, int fd) {
  grpc::ServerBuilder builder;
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) return absl::InternalError("cannot start the gateway's gRPC server");
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);  // gRPC's poller needs it
  grpc::AddInsecureChannelFromFd(server.get(), fd);
  return server;
}

namespace {

class GrpcGatewayServer final : public frontend::GatewayServer {
 public:
  explicit GrpcGatewayServer(frontend::Bridge& bridge) : service_(bridge) {}
  absl::Status Start(int fd) {
    absl::StatusOr<std::unique_ptr<grpc::Server>> server = ServeOnFd(&service_, fd);
    if (!server.ok()) return server.status();
    server_ = std::move(*server);
    return absl::OkStatus();
  }
  ~GrpcGatewayServer() override { Shutdown(); }
  bool HasReturned() const override { return service_.HasReturned(); }
  absl::StatusOr<frontend::Result> Returned() const override { return service_.Returned(); }
  void Shutdown() override {
    if (server_ == nullptr) return;
    server_->Shutdown(std::chrono::system_clock::now());  // cancel what is in flight
    server_->Wait();
    server_.reset();
  }

 private:
  LlbBridgeServer service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace

frontend::ServeGatewayFn GrpcGateway() {
  return [](int fd,
            frontend::Bridge& bridge) -> absl::StatusOr<std::unique_ptr<frontend::GatewayServer>> {
    auto server = std::make_unique<GrpcGatewayServer>(bridge);
    absl::Status st = server->Start(fd);
    if (!st.ok()) return st;
    return server;
  };
}

}  // namespace kiln::gatewayrpc
