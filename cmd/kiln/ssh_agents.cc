#include "cmd/kiln/ssh_agents.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gateway/fsutil/path.h"
#include "gateway/fsutil/tree.h"
#include "gateway/ops/source/run.h"
#include "sdk/base/status_macros.h"

namespace kiln::cli {
namespace {

absl::Status Bad(const std::string& spec, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("--ssh ", spec, ": ", why));
}

}  // namespace

absl::Status SshAgents::Add(const std::string& spec) {
  std::vector<std::string> p = absl::StrSplit(spec, absl::MaxSplits('=', 1));
  const std::string id = p[0];
  if (id.empty() || id.find(',') != std::string::npos) {
    return Bad(spec, "want default, ID, ID=SOCKET or ID=KEY[,KEY...]");
  }
  if (sockets_.count(id)) return Bad(spec, absl::StrCat("\"", id, "\" is given twice"));
  if (p.size() == 1) {
    const char* env = std::getenv("SSH_AUTH_SOCK");
    if (env == nullptr || *env == '\0') {
      return Bad(spec, "SSH_AUTH_SOCK is not set (start ssh-agent, or pass ID=SOCKET or ID=KEY)");
    }
    p.push_back(env);
  }
  std::vector<std::string> paths = absl::StrSplit(p[1], ',');
  std::vector<std::string> keys;
  for (std::string& path : paths) {
    if (path.empty()) return Bad(spec, "an empty path");
    path = fsutil::AbsPath(path);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      return Bad(spec, absl::StrCat(path, ": ", std::strerror(errno)));
    }
    if (S_ISSOCK(st.st_mode)) {
      if (paths.size() > 1) return Bad(spec, "an agent socket goes alone, not with key files");
      sockets_[id] = path;
      return absl::OkStatus();
    }
    if (!S_ISREG(st.st_mode)) return Bad(spec, path + " is neither a socket nor a key file");
    keys.push_back(path);
  }
  KILN_ASSIGN_OR_RETURN(sockets_[id], StartPrivate(spec, id, keys));
  return absl::OkStatus();
}

absl::StatusOr<std::string> SshAgents::StartPrivate(const std::string& spec, const std::string& id,
                                                    const std::vector<std::string>& keys) {
  char tmpl[] = "/tmp/kiln-agent-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return Bad(spec, "cannot create a directory in /tmp");
  dirs_.push_back(tmpl);
  std::string sock = absl::StrCat(tmpl, "/agent.sock");
  // Found now: after fork, the child only execs.
  const std::optional<std::string> program = ops::FindProgram("ssh-agent");
  if (!program.has_value()) {
    return Bad(spec, "key files need ssh-agent and ssh-add (Debian's openssh-client)");
  }
  const char* argv[] = {"ssh-agent", "-D", "-a", sock.c_str(), nullptr};
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return Bad(spec, "cannot fork");
  if (pid == 0) {
    // Dies with kiln; no terminal, no inherited output.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) _exit(127);
    ::setsid();
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(program->c_str(), const_cast<char* const*>(argv));
    _exit(127);
  }
  pids_.push_back(pid);
  // Up to 5 s for the agent's socket.
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  for (struct stat st; ::stat(sock.c_str(), &st) != 0;) {
    int status;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      pids_.pop_back();
      return Bad(spec, "ssh-agent did not start");
    }
    if (absl::Now() > deadline) return Bad(spec, "ssh-agent did not open its socket in 5 s");
    absl::SleepFor(absl::Milliseconds(5));
  }
  ops::RunOptions add;
  // setsid: no terminal to ask a passphrase on, so ssh-add fails instead.
  add.argv = {"setsid", "-w", "ssh-add", "-q"};
  add.argv.insert(add.argv.end(), keys.begin(), keys.end());
  add.env = {"SSH_AUTH_SOCK=" + sock, "PATH=/usr/local/bin:/usr/bin:/bin"};
  add.timeout = absl::Seconds(20);
  absl::StatusOr<ops::RunResult> r = ops::RunProcess(add);
  if (!r.ok()) return Bad(spec, absl::StrCat("ssh-add: ", r.status().message()));
  if (r->exit_code != 0) {
    std::string err(absl::StripAsciiWhitespace(r->stderr_data));
    return Bad(spec, absl::StrCat("ssh-add could not load the key", keys.size() > 1 ? "s" : "",
                                  err.empty() ? "" : ": " + err,
                                  " (a key with a passphrase: add it to your own agent with "
                                  "ssh-add and pass --ssh ",
                                  id, ")"));
  }
  return sock;
}

void SshAgents::Stop() {
  for (pid_t pid : pids_) {
    ::kill(pid, SIGTERM);
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  pids_.clear();
  for (const std::string& dir : dirs_) fsutil::RemoveAll(dir).IgnoreError();
  dirs_.clear();
  sockets_.clear();
}

}  // namespace kiln::cli
