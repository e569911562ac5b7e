#include "sdk/client/client.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel_posix.h"
#include "sdk/base/status_macros.h"
#include "sdk/client/wire.h"

extern char** environ;

namespace kiln::client {
namespace {

namespace gw = moby::buildkit::v1::frontend;

// Copies `from` to `to` until EOF or an error, then shuts `to` down for
// writing (when it is a socket) so the other side sees EOF.
void Pump(int from, int to) {
  char buf[64 * 1024];
  while (true) {
    ssize_t n = read(from, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(to, buf + off, n - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return;
      off += w;
    }
  }
  shutdown(to, SHUT_WR);
}

// The result reference of a Solve, in the Ref message or, from BuildKits
// before proto.refarray, as a plain string.
std::string RefId(const gw::SolveResponse& resp) {
  if (resp.has_result()) {
    if (resp.result().has_ref()) return resp.result().ref().id();
    if (resp.result().result_case() == gw::Result::kRefDeprecated) {
      return resp.result().refdeprecated();
    }
  }
  return resp.ref();
}

}  // namespace

Client::Client(std::shared_ptr<grpc::Channel> channel, std::map<std::string, std::string> options)
    : stub_(gw::LLBBridge::NewStub(channel)), options_(std::move(options)) {
  const char* sid = getenv("BUILDKIT_SESSION_ID");
  if (sid != nullptr) session_id_ = sid;
}

absl::Status Client::Ping() {
  grpc::ClientContext ctx;
  gw::PingRequest req;
  gw::PongResponse resp;
  KILN_RETURN_IF_ERROR(FromGrpc(stub_->Ping(&ctx, req, &resp)));
  absl::MutexLock l(&mu_);
  pinged_ = true;
  caps_.clear();
  for (const auto& cap : resp.frontendapicaps()) {
    if (cap.enabled()) caps_.insert(cap.id());
  }
  llb_caps_.clear();
  for (const auto& cap : resp.llbcaps()) {
    if (cap.enabled()) llb_caps_.insert(cap.id());
  }
  return absl::OkStatus();
}

bool Client::HasCap(const std::string& id) const {
  absl::MutexLock l(&mu_);
  return !pinged_ || caps_.count(id) != 0;
}

absl::Status Client::RequireCap(const std::string& id, const std::string& what) const {
  if (HasCap(id)) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(what, " needs the gateway capability \"", id,
                   "\", which this build daemon does not have (an older BuildKit?)"));
}

absl::Status Client::CheckLlbCaps(const pb::Definition& def) const {
  absl::MutexLock l(&mu_);
  if (!pinged_) return absl::OkStatus();
  std::map<std::string, std::string> missing;  // cap -> a step that needs it
  for (const auto& [digest, md] : def.metadata()) {
    for (const auto& [cap, on] : md.caps()) {
      if (!on || llb_caps_.count(cap) != 0) continue;
      auto name = md.description().find("llb.customname");
      std::string step = name == md.description().end() ? digest : name->second;
      auto [it, added] = missing.emplace(cap, step);
      if (!added && step < it->second) it->second = step;  // the same one every run
    }
  }
  if (missing.empty()) return absl::OkStatus();
  std::string list;
  for (const auto& [cap, step] : missing) {
    absl::StrAppend(&list, list.empty() ? "" : ", ", "\"", cap, "\" (step \"", step, "\")");
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the build needs LLB capabilities this build daemon does not have (an older BuildKit): ",
      list, "; leave those features out or build with kiln"));
}

absl::StatusOr<std::string> Client::Solve(const pb::Definition& def) {
  KILN_RETURN_IF_ERROR(CheckLlbCaps(def));
  grpc::ClientContext ctx;
  gw::SolveRequest req;
  *req.mutable_definition() = def;
  req.set_allowresultreturn(true);
  req.set_evaluate(HasCap("gateway.solve.evaluate"));
  gw::SolveResponse resp;
  KILN_RETURN_IF_ERROR(FromGrpc(stub_->Solve(&ctx, req, &resp)));
  return RefId(resp);
}

absl::StatusOr<std::string> Client::ReadFile(const std::string& ref, const std::string& path) {
  grpc::ClientContext ctx;
  gw::ReadFileRequest req;
  req.set_ref(ref);
  req.set_filepath(path);
  gw::ReadFileResponse resp;
  KILN_RETURN_IF_ERROR(FromGrpc(stub_->ReadFile(&ctx, req, &resp)));
  return std::move(*resp.mutable_data());
}

absl::StatusOr<std::vector<frontend::FileStat>> Client::ReadDir(
    const std::string& ref, const std::string& path, const std::string& include_pattern) {
  KILN_RETURN_IF_ERROR(RequireCap("readdir", "reading a directory"));
  grpc::ClientContext ctx;
  gw::ReadDirRequest req;
  req.set_ref(ref);
  req.set_dirpath(path);
  req.set_includepattern(include_pattern);
  gw::ReadDirResponse resp;
  KILN_RETURN_IF_ERROR(FromGrpc(stub_->ReadDir(&ctx, req, &resp)));
  std::vector<frontend::FileStat> out;
  for (const auto& e : resp.entries()) out.push_back(StatFromWire(e));
  return out;
}

absl::StatusOr<frontend::FileStat> Client::StatFile(const std::string& ref,
                                                    const std::string& path) {
  KILN_RETURN_IF_ERROR(RequireCap("statfile", "stat of a file"));
  grpc::ClientContext ctx;
  gw::StatFileRequest req;
  req.set_ref(ref);
  req.set_path(path);
  gw::StatFileResponse resp;
  KILN_RETURN_IF_ERROR(FromGrpc(stub_->StatFile(&ctx, req, &resp)));
  return StatFromWire(resp.stat());
}

const std::map<std::string, pb::Definition>& Client::Inputs() const {
  absl::MutexLock l(&mu_);
  if (!inputs_loaded_) {
    inputs_loaded_ = true;
    if (pinged_ && caps_.count("frontend.inputs") == 0) return inputs_;
    grpc::ClientContext ctx;
    gw::InputsRequest req;
    gw::InputsResponse resp;
    if (stub_->Inputs(&ctx, req, &resp).ok()) {
      for (const auto& [k, v] : resp.definitions()) inputs_[k] = v;
    }
  }
  return inputs_;
}

absl::StatusOr<frontend::ResolvedImage> Client::ResolveImageConfig(const std::string& ref) {
  grpc::ClientContext ctx;
  gw::ResolveImageConfigRequest req;
  req.set_ref(ref);
  gw::ResolveImageConfigResponse resp;
  KILN_RETURN_IF_ERROR(FromGrpc(stub_->ResolveImageConfig(&ctx, req, &resp)));
  return frontend::ResolvedImage{resp.ref().empty() ? ref : resp.ref(), resp.digest(),
                                 resp.config()};
}

void Client::Warn(const std::string& message) {
  if (!HasCap("gateway.warnings")) {
    fprintf(stderr, "warning: %s\n", message.c_str());
    return;
  }
  grpc::ClientContext ctx;
  gw::WarnRequest req;
  req.set_level(1);
  req.set_short_(message);
  gw::WarnResponse resp;
  (void)stub_->Warn(&ctx, req, &resp);
}

absl::StatusOr<frontend::Result> Client::CallFrontend(
    const std::string& name, const std::map<std::string, std::string>& options,
    const std::map<std::string, pb::Definition>& inputs) {
  if (!inputs.empty()) {
    KILN_RETURN_IF_ERROR(RequireCap("frontend.inputs", "passing inputs to frontend " + name));
  }
  grpc::ClientContext ctx;
  gw::SolveRequest req;
  req.set_frontend(name);
  for (const auto& [k, v] : options) (*req.mutable_frontendopt())[k] = v;
  for (const auto& [k, v] : inputs) (*req.mutable_frontendinputs())[k] = v;
  req.set_allowresultreturn(true);
  gw::SolveResponse resp;
  KILN_RETURN_IF_ERROR(FromGrpc(stub_->Solve(&ctx, req, &resp)));
  frontend::Result out;
  if (resp.has_result()) {
    for (const auto& [k, v] : resp.result().metadata()) out.metadata[k] = v;
    if (resp.result().has_ref()) out.definition = resp.result().ref().def();
  }
  if (out.definition.def_size() == 0 && !RefId(resp).empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("frontend ", name,
                     " returned a result by reference only; this build daemon does not send result "
                     "definitions back (an older BuildKit), so it cannot be built upon here"));
  }
  return out;
}

absl::Status Client::Return(const absl::StatusOr<frontend::Result>& result) {
  if (result.ok()) {
    // A graph the daemon cannot run is returned as the error that says why.
    absl::Status caps = CheckLlbCaps(result->definition);
    if (!caps.ok()) return Return(absl::StatusOr<frontend::Result>(caps));
  }
  gw::ReturnRequest req;
  if (result.ok()) {
    gw::Result* r = req.mutable_result();
    if (result->definition.def_size() > 0) {
      // BuildKit returns results by reference only: make one (unevaluated).
      grpc::ClientContext ctx;
      gw::SolveRequest sreq;
      *sreq.mutable_definition() = result->definition;
      sreq.set_allowresultreturn(true);
      gw::SolveResponse sresp;
      KILN_RETURN_IF_ERROR(FromGrpc(stub_->Solve(&ctx, sreq, &sresp)));
      std::string id = RefId(sresp);
      if (HasCap("proto.refarray")) {
        r->mutable_ref()->set_id(id);
        *r->mutable_ref()->mutable_def() = result->definition;
      } else {
        r->set_refdeprecated(id);  // a BuildKit from before the Ref message
      }
    } else if (HasCap("proto.refarray")) {
      r->mutable_ref();  // scratch
    } else {
      r->set_refdeprecated("");
    }
    for (const auto& [k, v] : result->metadata) (*r->mutable_metadata())[k] = v;
  } else {
    *req.mutable_error() = ToRpcStatus(result.status());
  }
  grpc::ClientContext ctx;
  gw::ReturnResponse resp;
  return FromGrpc(stub_->Return(&ctx, req, &resp));
}

std::map<std::string, std::string> OptionsFromEnv(char** envp) {
  std::map<std::string, std::string> out;
  constexpr char kPrefix[] = "BUILDKIT_FRONTEND_OPT_";
  for (char** e = envp; e != nullptr && *e != nullptr; ++e) {
    std::string entry = *e;
    if (!absl::StartsWith(entry, kPrefix)) continue;
    size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string kv = entry.substr(eq + 1);
    size_t eq2 = kv.find('=');
    if (eq2 == std::string::npos) {
      out[kv] = "";
    } else {
      out[kv.substr(0, eq2)] = kv.substr(eq2 + 1);
    }
  }
  return out;
}

std::shared_ptr<grpc::Channel> ChannelFromFd(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return grpc::CreateInsecureChannelFromFd("kiln-gateway", fd);
}

absl::StatusOr<int> StdioSocket(int in_fd, int out_fd) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return absl::InternalError(absl::StrCat("socketpair: ", strerror(errno)));
  }
  std::thread([in_fd, s = sv[1]] { Pump(in_fd, s); }).detach();
  std::thread([out_fd, s = sv[1]] { Pump(s, out_fd); }).detach();
  return sv[0];
}

int RunFrontend(const std::function<absl::StatusOr<frontend::Result>(Client&)>& build) {
  absl::StatusOr<int> fd = StdioSocket(0, 1);
  if (!fd.ok()) {
    fprintf(stderr, "frontend: %s\n", std::string(fd.status().message()).c_str());
    return 1;
  }
  Client client(ChannelFromFd(*fd), OptionsFromEnv(environ));
  absl::Status ping = client.Ping();
  if (!ping.ok()) {
    fprintf(stderr, "frontend: cannot reach the build daemon over stdin/stdout: %s\n",
            std::string(ping.message()).c_str());
    return 1;
  }
  absl::StatusOr<frontend::Result> result = build(client);
  absl::Status returned = client.Return(result);
  if (!returned.ok()) {
    fprintf(stderr, "frontend: returning the result failed: %s\n",
            std::string(returned.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace kiln::client
