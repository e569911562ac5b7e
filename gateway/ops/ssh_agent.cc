#include "gateway/ops/ssh_agent.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/tree.h"
#include "sdk/base/status_macros.h"

namespace kiln::ops {
namespace {

absl::StatusOr<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("socket path \"", path,
                                                   "\" is empty or longer than ",
                                                   sizeof(addr.sun_path) - 1, " bytes"));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

}  // namespace

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data.remove_prefix(static_cast<size_t>(w));
  }
  return true;
}

absl::StatusOr<int> ConnectUnix(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(sockaddr_un addr, UnixAddress(path));
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fsutil::ErrnoToStatus(errno, "create a socket for", path);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    ::close(fd);
    return fsutil::ErrnoToStatus(err, "connect to", path);
  }
  return fd;
}

absl::StatusOr<int> UnixSshAgent::Connect() {
  absl::StatusOr<int> fd = ConnectUnix(path_);
  if (!fd.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach the ssh agent: ", fd.status().message()));
  }
  return fd;
}

void Splice(int a, int b, int stop_fd) {
  // open[0]: a -> b still flows; open[1]: b -> a.
  bool open[2] = {true, true};
  const int from[2] = {a, b}, to[2] = {b, a};
  char buf[16384];
  while (open[0] || open[1]) {
    pollfd p[3] = {
        {open[0] ? a : -1, POLLIN, 0}, {open[1] ? b : -1, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    int n = ::poll(p, 3, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || p[2].revents != 0) return;
    for (int d = 0; d < 2; ++d) {
      if (!open[d] || p[d].revents == 0) continue;
      ssize_t r = ::read(from[d], buf, sizeof(buf));
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (r > 0 && SendAll(to[d], std::string_view(buf, static_cast<size_t>(r)))) continue;
      if (r > 0) return;  // the other side is gone
      open[d] = false;    // end of this direction: pass it on
      ::shutdown(to[d], SHUT_WR);
    }
  }
}

AgentSockets::~AgentSockets() {
  if (stop_[1] >= 0) {
    char c = 0;
    while (::write(stop_[1], &c, 1) < 0 && errno == EINTR) {
    }
  }
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> conns;
  {
    absl::MutexLock lock(&mu_);
    conns.swap(conns_);
  }
  for (std::thread& t : conns) t.join();
  for (const Listener& l : listeners_) ::close(l.fd);
  for (int fd : stop_) {
    if (fd >= 0) ::close(fd);
  }
  if (!dir_.empty()) fsutil::RemoveAll(dir_).IgnoreError();
}

absl::StatusOr<std::string> AgentSockets::Add(const pb::SSHOpt& opt,
                                              std::shared_ptr<solver::SshAgent> agent) {
  if (dir_.empty()) {
    char tmpl[] = "/tmp/kiln-ssh-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr)
      return fsutil::ErrnoToStatus(errno, "create", "/tmp/kiln-ssh-*");
    dir_ = tmpl;
  }
  std::string path = absl::StrCat(dir_, "/", listeners_.size());
  KILN_ASSIGN_OR_RETURN(sockaddr_un addr, UnixAddress(path));
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fsutil::ErrnoToStatus(errno, "create a socket for", path);
  listeners_.push_back({fd, std::move(agent)});
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 16) != 0) {
    return fsutil::ErrnoToStatus(errno, "listen on", path);
  }
  if (::chown(path.c_str(), opt.uid(), opt.gid()) != 0 ||
      ::chmod(path.c_str(), opt.mode() & 07777) != 0) {
    return fsutil::ErrnoToStatus(errno, "set the owner and mode of", path);
  }
  return path;
}

absl::Status AgentSockets::Start(std::function<void(const std::string&)> log) {
  if (listeners_.empty()) return absl::OkStatus();
  log_ = std::move(log);
  if (::pipe2(stop_, O_CLOEXEC) != 0) return fsutil::ErrnoToStatus(errno, "create", "a pipe");
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return absl::OkStatus();
}

void AgentSockets::AcceptLoop() {
  std::vector<pollfd> p(listeners_.size() + 1);
  for (size_t i = 0; i < listeners_.size(); ++i) p[i] = {listeners_[i].fd, POLLIN, 0};
  p.back() = {stop_[0], POLLIN, 0};
  for (;;) {
    int n = ::poll(p.data(), p.size(), -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || p.back().revents != 0) return;
    for (size_t i = 0; i < listeners_.size(); ++i) {
      if (p[i].revents == 0) continue;
      int c = ::accept4(listeners_[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      absl::MutexLock lock(&mu_);
      conns_.emplace_back([this, c, agent = listeners_[i].agent] { Forward(c, agent); });
    }
  }
}

void AgentSockets::Forward(int client, std::shared_ptr<solver::SshAgent> agent) {
  absl::StatusOr<int> upstream = agent->Connect();
  if (upstream.ok()) {
    Splice(client, *upstream, stop_[0]);
    ::close(*upstream);
  } else if (log_) {
    log_(absl::StrCat("kiln: ", upstream.status().message(), "\n"));
  }
  // A failed connection reaches the process as an agent that hung up.
  ::close(client);
}

}  // namespace kiln::ops
