// A tiny HTTP/1.1 server on 127.0.0.1 for tests of anything that downloads.
//
// It binds an ephemeral port, serves a table of path -> canned response
// (status, headers, body; optionally stalling part-way), one request per
// connection (it answers with "Connection: close"), and records the requests
// it saw. Each connection is served on its own thread so a stalled response
// does not block others. Destruction (or Stop) wakes every thread, closes
// every socket and joins. All methods are thread-safe.
#ifndef KILN_GATEWAY_OPS_SOURCE_TEST_HTTP_SERVER_H_
#define KILN_GATEWAY_OPS_SOURCE_TEST_HTTP_SERVER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace kiln::ops {

class TestHttpServer {
 public:
  struct Response {
    int status = 200;
    std::string body;
    // Sent after the status line; Content-Length and Connection are added
    // unless given here.
    std::vector<std::pair<std::string, std::string>> headers;
    // When >= 0, only this many body bytes are sent, then the connection
    // stays open and silent until the client leaves or the server stops.
    int64_t stall_after = -1;
  };

  struct Request {
    std::string method;
    std::string target;  // as sent, e.g. "/a/b?x=1"
    std::vector<std::pair<std::string, std::string>> headers;
    // The first header named `name` (case-insensitive), or "".
    std::string Header(std::string_view name) const;
  };

  // Binds 127.0.0.1:0 and starts serving. Paths without a response get 404.
  static absl::StatusOr<std::unique_ptr<TestHttpServer>> Start();
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  // Serves `r` for requests whose target, without a query, is `path`.
  void Set(const std::string& path, Response r);
  // Convenience: 200 with `body`.
  void Set(const std::string& path, std::string body);

  int port() const { return port_; }
  // "http://127.0.0.1:<port>" + path.
  std::string Url(std::string_view path) const;
  std::vector<Request> requests() const;

  // Idempotent; the destructor calls it.
  void Stop();

 private:
  TestHttpServer(int listen_fd, int port, int wake_read, int wake_write);
  void AcceptLoop();
  void Serve(int fd);
  bool ReadRequest(int fd, Request* req);
  void Respond(int fd, const Response& r);

  const int listen_fd_;
  const int port_;
  // A byte written here (never read) makes every poll() in the server
  // return, which is how Stop reaches blocked threads.
  const int wake_read_, wake_write_;
  std::thread acceptor_;
  mutable absl::Mutex mu_;
  std::map<std::string, Response> routes_ ABSL_GUARDED_BY(mu_);
  std::vector<Request> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> workers_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace kiln::ops

#endif  // KILN_GATEWAY_OPS_SOURCE_TEST_HTTP_SERVER_H_
