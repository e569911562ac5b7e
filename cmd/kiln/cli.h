// The kiln command line: build, du, prune, image, debug. main() only calls
// Main.
#ifndef KILN_CMD_KILN_CLI_H_
#define KILN_CMD_KILN_CLI_H_

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/cache/cache.h"
#include "gateway/cache/index.h"
#include "gateway/engine/engine.h"
#include "gateway/frontend/frontend.h"
#include "gateway/image/disk_store.h"
#include "gateway/progress/progress.h"

namespace kiln::cli {

// Where kilnd is (--addr or KILN_ADDR) and the TLS files to reach it.
struct DaemonAddress {
  std::string addr;
  std::string ca_cert, cert, key, server_name;
};

// What `kiln --addr` asks of kilnd. Implemented over gRPC (daemon_client.h)
// in kiln-gateway; the lean kiln, without gRPC, hands such commands over to
// kiln-gateway.
class DaemonClient {
 public:
  virtual ~DaemonClient() = default;
  virtual absl::Status Build(const DaemonAddress& a, const engine::BuildRequest& req,
                             const std::string& state_dir, progress::Sink* progress,
                             const std::atomic<bool>* cancel) const = 0;
  virtual absl::StatusOr<std::vector<cache::RecordUsage>> DiskUsage(
      const DaemonAddress& a) const = 0;
  virtual absl::StatusOr<cache::PruneReport> Prune(const DaemonAddress& a, int64_t keep_bytes,
                                                   bool all) const = 0;
  virtual absl::StatusOr<image::ImageInfo> ImportImage(const DaemonAddress& a,
                                                       const std::string& path,
                                                       const std::string& name,
                                                       bool rootfs) const = 0;
  virtual absl::StatusOr<std::vector<image::ImageInfo>> ListImages(
      const DaemonAddress& a) const = 0;
  virtual absl::Status RemoveImage(const DaemonAddress& a, const std::string& ref) const = 0;
  // An OCI layout tar of `ref` from the daemon's store, written to `dest`.
  virtual absl::Status ExportImage(const DaemonAddress& a, const std::string& ref,
                                   const std::string& dest) const = 0;
  // One line per worker: id, platforms, parallelism, labels.
  virtual absl::StatusOr<std::vector<std::string>> Workers(const DaemonAddress& a) const = 0;
};

// Runs `kiln ARGS...` with the given built-in frontends and returns the exit
// status: 0 success, 1 build or command failure, 2 bad usage. `daemon` is
// null in the lean kiln.
int Main(const std::vector<std::string>& args, const frontend::Registry& frontends,
         const DaemonClient* daemon = nullptr);

}  // namespace kiln::cli

#endif  // KILN_CMD_KILN_CLI_H_
