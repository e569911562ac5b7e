// kilnd's control service: builds, disk usage, prune, workers and image
// import for remote clients (`kiln --addr`), over one engine.
//
//   auto engine = engine::Engine::Open(options, &frontends);
//   controlrpc::ControlServer service(engine->get(), root);
//   grpc::ServerBuilder b;  b.RegisterService(&service);  ... b.BuildAndStart();
//   ... on SIGTERM:
//   service.Shutdown(absl::Seconds(30));  // cancels builds, waits for them
//
// A Solve is one bidirectional stream (see proto/control/control.proto).
// The client's local directories are pulled while the build runs, each as a
// local source filters it: the client lists its files (with digests from its
// scan index), the daemon's mirror of that directory says which contents it
// lacks, and only those travel. Mirrors live in ROOT/contexts, one per
// (client's identity of the directory, name, patterns), and survive
// restarts. Builds of the same directory at once share a mirror when they
// see the same files; one that sees other files while the mirror is in use
// gets a private mirror for its build, so nobody waits on another build.
//
// Outputs come back to the client on the same stream: local outputs as a
// tar with nanosecond mtimes (the client unpacks and exports it exactly as
// the embedded engine would), tar, oci and docker outputs as their bytes;
// image outputs stay in the daemon's store.
//
// A client that goes away cancels its build (the engine kills its
// processes and releases its mounts). Concurrent builds share the solver,
// so a step several builds need runs once.
#ifndef KILN_GATEWAY_CONTROL_SERVER_H_
#define KILN_GATEWAY_CONTROL_SERVER_H_

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gateway/contextsync/sync.h"
#include "gateway/engine/engine.h"
#include "proto/control/control.grpc.pb.h"

namespace kiln::controlrpc {

namespace cpb = ::kiln::control::v1;

class ControlServer final : public cpb::Control::Service {
 public:
  // `root` is the engine's state directory (mirrors in ROOT/contexts,
  // per-build temporaries in ROOT/tmp).
  ControlServer(engine::Engine* engine, std::string root);
  ~ControlServer() override;

  // Refuses new builds, cancels the running ones and waits until they have
  // ended, at most `timeout`. True when none is left.
  bool Shutdown(absl::Duration timeout);
  int running() const;

  // Totals since start, for tests and benchmarks.
  struct Stats {
    int64_t builds = 0;
    int64_t context_files_sent = 0;
    int64_t context_bytes_sent = 0;
    int64_t context_files_unchanged = 0;
  };
  Stats stats() const;

  grpc::Status Solve(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<cpb::SolveServerMessage, cpb::SolveClientMessage>* stream) override;
  grpc::Status Status(grpc::ServerContext* ctx, const cpb::StatusRequest* req,
                      grpc::ServerWriter<cpb::ProgressEvent>* writer) override;
  grpc::Status DiskUsage(grpc::ServerContext*, const cpb::DiskUsageRequest*,
                         cpb::DiskUsageResponse*) override;
  grpc::Status Prune(grpc::ServerContext*, const cpb::PruneRequest*, cpb::PruneResponse*) override;
  grpc::Status ListWorkers(grpc::ServerContext*, const cpb::ListWorkersRequest*,
                           cpb::ListWorkersResponse*) override;
  grpc::Status ImportImage(grpc::ServerContext*, grpc::ServerReader<cpb::ImportImageChunk>*,
                           cpb::ImportImageResponse*) override;
  grpc::Status ListImages(grpc::ServerContext*, const cpb::ListImagesRequest*,
                          cpb::ListImagesResponse*) override;
  grpc::Status RemoveImage(grpc::ServerContext*, const cpb::RemoveImageRequest*,
                           cpb::RemoveImageResponse*) override;
  grpc::Status ExportImage(grpc::ServerContext*, const cpb::ExportImageRequest*,
                           grpc::ServerWriter<cpb::ExportImageChunk>*) override;

 private:
  struct Build;
  class Conn;
  class RemoteSession;
  class StreamSshAgent;
  struct MirrorSlot {
    int readers = 0;
    bool writer = false;
    std::optional<contextsync::Mirror> mirror;
  };

  absl::Status RunBuild(Build& build, const cpb::SolveRequest& req, Conn& conn,
                        cpb::SolveDone* done);

  engine::Engine* engine_;
  const std::string root_;

  mutable absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, std::shared_ptr<Build>> builds_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, MirrorSlot> mirrors_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
  int64_t next_private_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kiln::controlrpc

#endif  // KILN_GATEWAY_CONTROL_SERVER_H_
