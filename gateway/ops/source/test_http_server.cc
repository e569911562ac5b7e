#include "gateway/ops/source/test_http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kiln::ops {
namespace {

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(n);
  }
  return true;
}

bool HasHeader(const TestHttpServer::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (absl::EqualsIgnoreCase(k, absl::string_view(name.data(), name.size()))) return true;
  }
  return false;
}

}  // namespace

std::string TestHttpServer::Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, absl::string_view(name.data(), name.size()))) return v;
  }
  return "";
}

absl::StatusOr<std::unique_ptr<TestHttpServer>> TestHttpServer::Start() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int wake[2];
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::pipe2(wake, O_CLOEXEC) != 0) {
    absl::Status s = absl::InternalError(absl::StrCat("listen: ", strerror(errno)));
    ::close(fd);
    return s;
  }
  std::unique_ptr<TestHttpServer> server(
      new TestHttpServer(fd, ntohs(addr.sin_port), wake[0], wake[1]));
  server->acceptor_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  return server;
}

TestHttpServer::TestHttpServer(int listen_fd, int port, int wake_read, int wake_write)
    : listen_fd_(listen_fd), port_(port), wake_read_(wake_read), wake_write_(wake_write) {}

TestHttpServer::~TestHttpServer() {
  Stop();
  ::close(listen_fd_);
  ::close(wake_read_);
  ::close(wake_write_);
}

void TestHttpServer::Stop() {
  std::vector<std::thread> workers;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  (void)!::write(wake_write_, "x", 1);
  acceptor_.join();
  {
    absl::MutexLock lock(&mu_);
    workers.swap(workers_);
  }
  for (std::thread& t : workers) t.join();
}

void TestHttpServer::Set(const std::string& path, Response r) {
  absl::MutexLock lock(&mu_);
  routes_[path] = std::move(r);
}

void TestHttpServer::Set(const std::string& path, std::string body) {
  Response r;
  r.body = std::move(body);
  Set(path, std::move(r));
}

std::string TestHttpServer::Url(std::string_view path) const {
  return absl::StrCat("http://127.0.0.1:", port_, absl::string_view(path.data(), path.size()));
}

std::vector<TestHttpServer::Request> TestHttpServer::requests() const {
  absl::MutexLock lock(&mu_);
  return requests_;
}

void TestHttpServer::AcceptLoop() {
  for (;;) {
    struct pollfd pfds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    if (::poll(pfds, 2, -1) < 0 && errno != EINTR) return;
    if (pfds[1].revents != 0) return;
    if (pfds[0].revents == 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    absl::MutexLock lock(&mu_);
    workers_.emplace_back([this, fd] {
      Serve(fd);
      ::close(fd);
    });
  }
}

bool TestHttpServer::ReadRequest(int fd, Request* req) {
  std::string data;
  char buf[4096];
  while (data.find("\r\n\r\n") == std::string::npos) {
    struct pollfd pfds[2] = {{fd, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    if (::poll(pfds, 2, 10000) <= 0 || pfds[1].revents != 0) return false;
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    data.append(buf, n);
  }
  std::vector<std::string> lines = absl::StrSplit(data.substr(0, data.find("\r\n\r\n")), "\r\n");
  std::vector<std::string> first = absl::StrSplit(lines[0], ' ');
  if (first.size() < 2) return false;
  req->method = first[0];
  req->target = first[1];
  for (size_t i = 1; i < lines.size(); ++i) {
    std::pair<std::string, std::string> kv = absl::StrSplit(lines[i], absl::MaxSplits(':', 1));
    req->headers.emplace_back(kv.first, std::string(absl::StripAsciiWhitespace(kv.second)));
  }
  return true;
}

void TestHttpServer::Serve(int fd) {
  Request req;
  if (!ReadRequest(fd, &req)) return;
  Response r;
  r.status = 404;
  r.body = "not found\n";
  {
    absl::MutexLock lock(&mu_);
    requests_.push_back(req);
    std::string path = req.target.substr(0, req.target.find('?'));
    if (auto it = routes_.find(path); it != routes_.end()) r = it->second;
  }
  Respond(fd, r);
}

void TestHttpServer::Respond(int fd, const Response& r) {
  std::string head = absl::StrCat("HTTP/1.1 ", r.status, " ", Reason(r.status), "\r\n");
  for (const auto& [k, v] : r.headers) absl::StrAppend(&head, k, ": ", v, "\r\n");
  if (!HasHeader(r, "Content-Length")) {
    absl::StrAppend(&head, "Content-Length: ", r.body.size(), "\r\n");
  }
  if (!HasHeader(r, "Connection")) absl::StrAppend(&head, "Connection: close\r\n");
  absl::StrAppend(&head, "\r\n");
  std::string_view body = r.body;
  if (r.stall_after >= 0) body = body.substr(0, r.stall_after);
  if (!SendAll(fd, head) || !SendAll(fd, body) || r.stall_after < 0) return;
  // Stall: wait for the client to hang up or the server to stop.
  struct pollfd pfds[2] = {{fd, POLLIN, 0}, {wake_read_, POLLIN, 0}};
  while (::poll(pfds, 2, -1) < 0 && errno == EINTR) {
  }
}

}  // namespace kiln::ops
