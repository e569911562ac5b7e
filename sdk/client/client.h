// The frontend SDK for frontend images: a frontend::Bridge that talks
// LLBBridge (BuildKit's gateway API) over gRPC, and RunFrontend, the main
// of a frontend image.
//
//   #include "sdk/client/client.h"
//
//   int main() {
//     return kiln::client::RunFrontend([](kiln::client::Client& c)
//                                          -> absl::StatusOr<kiln::frontend::Result> {
//       llb::State out = llb::Image("busybox").Run({.shlex = "echo hi > /hi"}).Root();
//       kiln::frontend::Result r;
//       KILN_ASSIGN_OR_RETURN(r.definition, llb::Marshal(out));
//       return r;
//     });
//   }
//
// A frontend written against frontend::Frontend runs unchanged on a Client,
// in-process on kiln's engine or as an image under kiln or BuildKit:
//
//   return kiln::client::RunFrontend([](kiln::client::Client& c) {
//     return MyFrontend().Build(c);
//   });
//
// RunFrontend serves the way BuildKit runs frontend images: options come
// from BUILDKIT_FRONTEND_OPT_<n>=KEY=VALUE environment variables, and the
// gRPC connection is the process's stdin and stdout (stdout must carry
// nothing else: log to stderr). It pings, runs the callback, and always
// Returns: the result, or the callback's error for the client to show.
//
// A Client's calls may come from several threads.
#ifndef KILN_SDK_CLIENT_CLIENT_H_
#define KILN_SDK_CLIENT_CLIENT_H_

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/channel.h"
#include "proto/gateway/gateway.grpc.pb.h"
#include "sdk/frontend/frontend.h"

namespace kiln::client {

class Client : public frontend::Bridge {
 public:
  // `options`: the frontend's options (see OptionsFromEnv).
  Client(std::shared_ptr<grpc::Channel> channel, std::map<std::string, std::string> options);

  // Asks the server what it supports. Until Ping, every capability is
  // assumed present.
  absl::Status Ping();
  // True when the server announced frontend API capability `id`
  // ("readdir", "gateway.solve.evaluate", ...).
  bool HasCap(const std::string& id) const;
  // FailedPrecondition naming `id` and `what` when the server lacks it: for
  // a feature an older BuildKit does not have.
  absl::Status RequireCap(const std::string& id, const std::string& what) const;
  // FailedPrecondition naming the first LLB capability `def` needs (the
  // caps its ops' metadata lists) that the server did not announce, and
  // the op that needs it: an older BuildKit would refuse the graph with a
  // bare "unknown API capability". Solve and Return check it.
  absl::Status CheckLlbCaps(const pb::Definition& def) const;

  const std::map<std::string, std::string>& Options() const override { return options_; }
  // BUILDKIT_SESSION_ID, read when the Client is made.
  std::string SessionID() const override { return session_id_; }
  absl::StatusOr<std::string> Solve(const pb::Definition& def) override;
  absl::StatusOr<std::string> ReadFile(const std::string& ref, const std::string& path) override;
  absl::StatusOr<std::vector<frontend::FileStat>> ReadDir(
      const std::string& ref, const std::string& path, const std::string& include_pattern) override;
  absl::StatusOr<frontend::FileStat> StatFile(const std::string& ref,
                                              const std::string& path) override;
  const std::map<std::string, pb::Definition>& Inputs() const override;
  absl::StatusOr<frontend::ResolvedImage> ResolveImageConfig(const std::string& ref) override;
  void Warn(const std::string& message) override;
  absl::StatusOr<frontend::Result> CallFrontend(
      const std::string& name, const std::map<std::string, std::string>& options,
      const std::map<std::string, pb::Definition>& inputs) override;

  // Ends the build: hands `result` (or its error) to the server.
  absl::Status Return(const absl::StatusOr<frontend::Result>& result);

 private:
  std::unique_ptr<moby::buildkit::v1::frontend::LLBBridge::Stub> stub_;
  std::map<std::string, std::string> options_;
  std::string session_id_;
  mutable absl::Mutex mu_;
  bool pinged_ = false;
  std::set<std::string> caps_;
  std::set<std::string> llb_caps_;
  mutable bool inputs_loaded_ = false;
  mutable std::map<std::string, pb::Definition> inputs_;
};

// BUILDKIT_FRONTEND_OPT_<n>=KEY=VALUE entries of `envp` as options.
std::map<std::string, std::string> OptionsFromEnv(char** envp);

// A gRPC channel over the connected socket `fd` (taken over; made
// non-blocking, as gRPC needs).
std::shared_ptr<grpc::Channel> ChannelFromFd(int fd);

// A bidirectional socket whose other end is pumped to `in_fd` and from
// `out_fd` (stdin and stdout), for gRPC, which needs one socket. The pump
// threads run until either side closes.
absl::StatusOr<int> StdioSocket(int in_fd, int out_fd);

// The main of a frontend image; returns the process's exit code (0 when
// the result, or the error, was returned to the server).
int RunFrontend(const std::function<absl::StatusOr<frontend::Result>(Client&)>& build);

}  // namespace kiln::client

#endif  // KILN_SDK_CLIENT_CLIENT_H_
