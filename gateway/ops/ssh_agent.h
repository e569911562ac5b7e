// ssh agent forwarding for RUN --mount=type=ssh.
//
//   auto agent = std::make_shared<ops::UnixSshAgent>(getenv("SSH_AUTH_SOCK"));
//   ops::AgentSockets sockets;
//   KILN_ASSIGN_OR_RETURN(std::string sock, sockets.Add(mount.sshopt(), agent));
//   spec.mounts.push_back({exec::Mount::Kind::kBind, mount.dest(), sock, false, 0});
//   KILN_RETURN_IF_ERROR(sockets.Start());
//   ... run the process; every connection to its socket reaches the agent ...
//   // ~AgentSockets: stops forwarding, closes every connection, removes the sockets
//
// The step gets a socket of its own (with the mount's uid, gid and mode),
// never the client's: the agent's socket path, its directory and any other
// file of the client stay out of the container, and forwarding ends with
// the step.
#ifndef KILN_GATEWAY_OPS_SSH_AGENT_H_
#define KILN_GATEWAY_OPS_SSH_AGENT_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gateway/solver/op.h"
#include "proto/llb/ops.pb.h"

namespace kiln::ops {

// An ssh agent listening on a unix socket of this machine.
class UnixSshAgent : public solver::SshAgent {
 public:
  explicit UnixSshAgent(std::string path) : path_(std::move(path)) {}
  absl::StatusOr<int> Connect() override;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A connected unix stream socket to `path`, close-on-exec.
absl::StatusOr<int> ConnectUnix(const std::string& path);

// Writes all of `data` to the socket `fd` (no SIGPIPE); false when the
// peer is gone.
bool SendAll(int fd, std::string_view data);

// Copies bytes both ways between the stream sockets `a` and `b` until both
// directions have ended (an end of one side is passed on as a half-close)
// or `stop_fd` becomes readable. Does not close them.
void Splice(int a, int b, int stop_fd);

// The listening sockets of one step's ssh mounts. Not thread-safe; the
// forwarding runs on threads of its own.
class AgentSockets {
 public:
  AgentSockets() = default;
  AgentSockets(const AgentSockets&) = delete;
  AgentSockets& operator=(const AgentSockets&) = delete;
  ~AgentSockets();

  // A new socket owned by opt.uid:opt.gid with opt.mode, forwarding to
  // `agent`; returns its host path, to bind-mount into the container.
  absl::StatusOr<std::string> Add(const pb::SSHOpt& opt, std::shared_ptr<solver::SshAgent> agent);
  // Starts accepting connections on every added socket. `log` (may be
  // empty; called from other threads) hears of connections the agent
  // refused.
  absl::Status Start(std::function<void(const std::string&)> log = nullptr);

 private:
  struct Listener {
    int fd = -1;
    std::shared_ptr<solver::SshAgent> agent;
  };
  void AcceptLoop();
  void Forward(int client, std::shared_ptr<solver::SshAgent> agent);

  std::string dir_;
  std::vector<Listener> listeners_;
  int stop_[2] = {-1, -1};  // a pipe: writing to it ends every thread
  std::function<void(const std::string&)> log_;
  std::thread acceptor_;
  absl::Mutex mu_;
  std::vector<std::thread> conns_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kiln::ops

#endif  // KILN_GATEWAY_OPS_SSH_AGENT_H_
