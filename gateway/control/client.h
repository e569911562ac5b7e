// The control API's client side: what `kiln --addr` runs.
//
//   KILN_ASSIGN_OR_RETURN(auto stub, controlrpc::Dial({"unix:///run/kiln/kilnd.sock"}));
//   engine::BuildRequest req = ...;  // as for the embedded engine
//   auto result = controlrpc::RemoteBuild(stub.get(), req, state_dir, &printer, &cancel);
//
// RemoteBuild takes the same BuildRequest the embedded engine does, so a
// build means the same thing both ways: its local directories are answered
// from this machine when the daemon asks (scanned with a digest index kept
// in `state_dir`, so an unchanged directory is not re-read), its outputs
// come back and are written here (local outputs through the same exporter
// the embedded engine uses; files atomically, never half-written).
#ifndef KILN_GATEWAY_CONTROL_CLIENT_H_
#define KILN_GATEWAY_CONTROL_CLIENT_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/engine/engine.h"
#include "gateway/progress/progress.h"
#include "proto/control/control.grpc.pb.h"

namespace kiln::controlrpc {

namespace cpb = ::kiln::control::v1;

struct DialOptions {
  // unix:///PATH or tcp://HOST:PORT.
  std::string addr;
  // TCP: the CA that signed the daemon's certificate, and this client's
  // certificate and key (PEM files); without them, plain TCP (a daemon
  // started with --insecure).
  std::string ca_cert, cert, key;
  // The name the daemon's certificate must carry, when not the host's.
  std::string server_name;
  // How long to wait for the daemon to answer.
  absl::Duration connect_timeout = absl::Seconds(5);
};

// A stub connected to the daemon. Unavailable naming the address when it
// does not answer in time; InvalidArgument for an address or TLS files
// that cannot be used.
absl::StatusOr<std::unique_ptr<cpb::Control::Stub>> Dial(const DialOptions& options);

struct RemoteBuildResult {
  std::string ref;  // the daemon's id of the build
  std::string key;  // the result's cache key
  int64_t context_files_sent = 0;
  int64_t context_bytes_sent = 0;
  int64_t context_files_unchanged = 0;
};

absl::StatusOr<RemoteBuildResult> RemoteBuild(cpb::Control::Stub* stub,
                                              const engine::BuildRequest& request,
                                              const std::string& state_dir,
                                              progress::Sink* progress,
                                              const std::atomic<bool>* cancel);

// Streams the file at `path` (an image archive, or a filesystem tar when
// `rootfs`) into the daemon's image store as `name`.
absl::StatusOr<cpb::ImportImageResponse> ImportImage(cpb::Control::Stub* stub,
                                                     const std::string& path,
                                                     const std::string& name, bool rootfs);

// An OCI layout tar of `ref` from the daemon's store into `dest`, written
// under a temporary name beside it and renamed when complete.
absl::Status ExportImage(cpb::Control::Stub* stub, const std::string& ref, const std::string& dest);

// A gRPC status as an absl::Status, the message prefixed with "kilnd: ".
absl::Status FromGrpc(const grpc::Status& st);

}  // namespace kiln::controlrpc

#endif  // KILN_GATEWAY_CONTROL_CLIENT_H_
