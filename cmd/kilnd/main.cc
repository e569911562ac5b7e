// kilnd: kiln's engine as a daemon. Clients (`kiln --addr`, or KILN_ADDR)
// send builds over the control API (proto/control); the daemon keeps the
// cache, the image store and the context mirrors under --root.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cmd/kilnd/config.h"
#include "frontends/dockerfile/frontend/frontend.h"
#include "frontends/lua/frontend.h"
#include "frontends/yaml/frontend/frontend.h"
#include "gateway/control/server.h"
#include "gateway/control/wire.h"
#include "gateway/engine/engine.h"
#include "gateway/frontend/frontend.h"
#include "gateway/frontend/llbbridge.h"
#include "gateway/fsutil/path.h"
#include "gateway/fsutil/tree.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"

namespace {

constexpr char kUsage[] = R"(Usage: kilnd [FLAGS]

kiln's build engine as a daemon, for `kiln --addr ADDR` (or KILN_ADDR).

Flags:
  --addr ADDR             listen on unix:///PATH or tcp://HOST:PORT
                          (repeatable; default unix:///run/kiln/kilnd.sock,
                          a socket only its owner may use)
  --root DIR              state directory (default $KILN_ROOT, else
                          /var/lib/kiln for root, ~/.local/share/kiln)
  --config FILE           YAML settings (default /etc/kiln/kilnd.yaml when
                          it exists): root, addr, max-parallelism,
                          snapshotter, tls {cert, key, ca}, insecure;
                          flags override it
  --max-parallelism N     steps run at once, over all builds (default: cores)
  --snapshotter KIND      auto (default), overlay or native
  --tlscert FILE          TCP: the daemon's certificate (PEM)
  --tlskey FILE           TCP: its key
  --tlscacert FILE        TCP: the CA client certificates must be signed by
                          (mutual TLS: clients without one are refused)
  --insecure              allow TCP without TLS (anyone who can connect
                          gets the daemon's powers)
  -h, --help              show this help

SIGTERM or SIGINT cancels the running builds (their processes are killed,
their mounts released), waits for them, and exits.
)";

int Fail(const std::string& msg, int code = 1) {
  std::cerr << "kilnd: " << msg << "\n";
  return code;
}

// Readies a unix socket path: its directory exists (created owner-only), and
// a socket left by a daemon that is gone is removed; one that answers is
// another daemon's.
absl::Status PrepareSocket(const std::string& path) {
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("unix socket path ", path, " is over ",
                                                   sizeof(sockaddr_un::sun_path) - 1,
                                                   " bytes, the system's limit"));
  }
  std::string dir = path.substr(0, path.rfind('/'));
  if (!dir.empty()) {
    auto made = kiln::fsutil::MkdirAll(dir, 0700, std::nullopt, std::nullopt);
    if (!made.ok()) return made.status();
  }
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return absl::OkStatus();
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " exists and is not a socket"));
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {};
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path, path.c_str(), path.size());  // length checked above
  bool alive = connect(fd, reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) == 0;
  close(fd);
  if (alive) {
    return absl::FailedPreconditionError(absl::StrCat("another daemon is listening on ", path));
  }
  unlink(path.c_str());
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  kiln::kilnd::Config config;
  config.root = kiln::engine::DefaultRoot();
  absl::Status st =
      kiln::kilnd::ApplyFlags(std::vector<std::string>(argv + 1, argv + argc), &config);
  if (!st.ok()) return Fail(std::string(st.message()), 2);
  if (config.help) return std::cout << kUsage, 0;
  auto listen = kiln::kilnd::ParseListen(config);
  if (!listen.ok()) return Fail(std::string(listen.status().message()), 2);
  config.root = kiln::fsutil::AbsPath(config.root);

  // Signals are taken by sigwait below; every thread started from here on
  // inherits the block.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  kiln::frontend::Registry frontends;
  frontends.Register(kiln::dockerfile::kFrontendName, kiln::dockerfile::NewFrontend);
  frontends.Register(kiln::yamlfrontend::kFrontendName, kiln::yamlfrontend::NewFrontend);
  frontends.Register(kiln::luafrontend::kFrontendName, kiln::luafrontend::NewFrontend);
  frontends.SetGateway(kiln::gatewayrpc::GrpcGateway());
  auto engine = kiln::engine::Engine::Open(
      {config.root, config.snapshotter, config.max_parallelism}, &frontends);
  if (!engine.ok()) return Fail(std::string(engine.status().message()));
  kiln::controlrpc::ControlServer service(engine->get(), config.root);

  grpc::ServerBuilder builder;
  builder.SetMaxReceiveMessageSize(64 << 20);
  std::shared_ptr<grpc::ServerCredentials> tcp_creds = grpc::InsecureServerCredentials();
  if (!config.tls_cert.empty()) {
    grpc::SslServerCredentialsOptions ssl(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    auto cert = kiln::controlrpc::ReadTlsFile("--tlscert", config.tls_cert);
    auto key = kiln::controlrpc::ReadTlsFile("--tlskey", config.tls_key);
    auto ca = kiln::controlrpc::ReadTlsFile("--tlscacert", config.tls_ca);
    for (const auto* r : {&cert, &key, &ca}) {
      if (!r->ok()) return Fail(std::string(r->status().message()), 2);
    }
    ssl.pem_root_certs = *ca;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    tcp_creds = grpc::SslServerCredentials(ssl);
  }
  std::vector<int> ports(listen->size(), 0);
  for (size_t i = 0; i < listen->size(); ++i) {
    const kiln::kilnd::Listen& l = (*listen)[i];
    if (l.unix_socket) {
      absl::Status prepared = PrepareSocket(l.path);
      if (!prepared.ok()) return Fail(std::string(prepared.message()));
      builder.AddListeningPort("unix://" + l.path, grpc::InsecureServerCredentials());
    } else {
      builder.AddListeningPort(l.target, tcp_creds, &ports[i]);
    }
  }
  builder.RegisterService(&service);
  mode_t old_umask = umask(0077);  // sockets owner-only from their creation
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  umask(old_umask);
  if (server == nullptr) return Fail("cannot listen on the addresses given (in use?)");
  for (size_t i = 0; i < listen->size(); ++i) {
    const kiln::kilnd::Listen& l = (*listen)[i];
    if (l.unix_socket) {
      chmod(l.path.c_str(), 0600);
      std::cerr << "kilnd: listening on " << l.addr << "\n";
    } else {
      if (ports[i] == 0) return Fail(absl::StrCat("cannot listen on ", l.addr));
      std::cerr << "kilnd: listening on tcp://" << l.target.substr(0, l.target.rfind(':')) << ":"
                << ports[i] << (config.tls_cert.empty() ? " (insecure: no TLS)" : " (mutual TLS)")
                << "\n";
    }
  }
  std::cerr << "kilnd: root " << config.root << ", " << (*engine)->max_parallelism()
            << " steps at once\n";

  int sig = 0;
  sigwait(&signals, &sig);
  int running = service.running();
  std::cerr << "kilnd: " << strsignal(sig) << ": cancelling " << running << " build"
            << (running == 1 ? "" : "s") << "\n";
  bool all_ended = service.Shutdown(absl::Seconds(60));
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  for (const kiln::kilnd::Listen& l : *listen) {
    if (l.unix_socket) unlink(l.path.c_str());
  }
  if (!all_ended) return Fail("builds still running after 60 s; exiting anyway");
  std::cerr << "kilnd: stopped\n";
  return 0;
}
