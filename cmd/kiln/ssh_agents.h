// The ssh agents a build forwards (`kiln build --ssh SPEC`), as Docker's
// flag takes them:
//
//   --ssh default            the agent at $SSH_AUTH_SOCK, as id "default"
//   --ssh ID                 the same agent, as id ID
//   --ssh ID=SOCKET          the agent listening at SOCKET
//   --ssh ID=KEY[,KEY...]    a private ssh-agent holding these key files,
//                            started for the build and stopped after it
//
//   SshAgents agents;
//   for (const std::string& spec : specs) KILN_RETURN_IF_ERROR(agents.Add(spec));
//   request.ssh = agents.sockets();
//   ... build ...   // ~SshAgents stops the private agents
//
// Key files need Debian's openssh-client (ssh-agent, ssh-add); a key with a
// passphrase is refused with a hint (kiln never prompts).
#ifndef KILN_CMD_KILN_SSH_AGENTS_H_
#define KILN_CMD_KILN_SSH_AGENTS_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::cli {

class SshAgents {
 public:
  SshAgents() = default;
  SshAgents(const SshAgents&) = delete;
  SshAgents& operator=(const SshAgents&) = delete;
  ~SshAgents() { Stop(); }

  // InvalidArgument naming the spec when it cannot be used.
  absl::Status Add(const std::string& spec);
  // id -> agent socket path.
  const std::map<std::string, std::string>& sockets() const { return sockets_; }
  // Stops the private agents and removes their sockets.
  void Stop();

 private:
  absl::StatusOr<std::string> StartPrivate(const std::string& spec, const std::string& id,
                                           const std::vector<std::string>& keys);

  std::map<std::string, std::string> sockets_;
  std::vector<pid_t> pids_;
  std::vector<std::string> dirs_;
};

}  // namespace kiln::cli

#endif  // KILN_CMD_KILN_SSH_AGENTS_H_
