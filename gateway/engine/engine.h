// Engine: the whole build engine behind one object, as `kiln build` embeds
// it and kilnd will serve it.
//
// It owns the cache under ROOT, the solver and the op runners. Build runs a
// frontend (or takes a definition as is), solves it, and exports the result
// to every requested output. Outputs are checked before anything is solved,
// so a bad output spec costs nothing and writes nothing.
//
// Thread-safe: concurrent builds share the solver (and its in-flight work).
#ifndef KILN_GATEWAY_ENGINE_ENGINE_H_
#define KILN_GATEWAY_ENGINE_ENGINE_H_

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/cache/cache.h"
#include "gateway/frontend/frontend.h"
#include "gateway/image/disk_store.h"
#include "gateway/ops/exec/executor.h"
#include "gateway/progress/progress.h"
#include "gateway/solver/op.h"
#include "gateway/solver/solver.h"
#include "proto/llb/ops.pb.h"

namespace kiln::engine {

// One --output: "type=local,dest=DIR" or "type=tar,dest=FILE" ("-" is
// stdout). A bare path means type=local.
struct OutputSpec {
  std::string type;
  std::map<std::string, std::string> attrs;
  // type=tar: nanosecond mtimes (exporter::TarOptions::exact_times); how
  // kilnd carries a local output to its client.
  bool exact_times = false;
};

// InvalidArgument naming the spec and what is wrong with it.
absl::StatusOr<OutputSpec> ParseOutputSpec(const std::string& spec);
// OK when `spec` names a known type with the options it needs.
absl::Status ValidateOutputSpec(const OutputSpec& spec);

// The state directory when none is given: $KILN_ROOT, else /var/lib/kiln
// for root, else ~/.local/share/kiln. kiln and kilnd share it.
std::string DefaultRoot();

struct EngineOptions {
  std::string root;
  std::string snapshotter = "auto";
  int max_parallelism = 0;  // 0: cores
};

struct BuildRequest {
  // A frontend name, or empty to solve `definition` as given.
  std::string frontend;
  std::map<std::string, std::string> frontend_options;
  pb::Definition definition;
  // Client directories by local-source name ("context", "dockerfile", ...).
  std::map<std::string, std::string> locals;
  std::vector<OutputSpec> outputs;
  // Secret values by id, for secret mounts and env. Never logged or stored.
  std::map<std::string, std::string> secrets;
  // ssh agents by id (`--ssh default`), for ssh mounts: the path of each
  // agent's socket on this machine.
  std::map<std::string, std::string> ssh;
  // When set, the build's local directories, secrets and ssh agents come
  // from it instead of `locals`, `secrets` and `ssh` (kilnd: mirrors of a
  // remote client's directories, its agents through the Solve stream). Not
  // owned.
  const solver::Session* session = nullptr;
  bool no_cache = false;
  // Clamp exported timestamps (SOURCE_DATE_EPOCH), if set.
  std::optional<int64_t> source_date_epoch;
};

struct BuildResult {
  cache::Chain chain;
  std::string key;
};

class Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Open(const EngineOptions& options,
                                                      const frontend::Registry* frontends);
  ~Engine();

  absl::StatusOr<BuildResult> Build(const BuildRequest& request, progress::Sink* progress,
                                    const std::atomic<bool>* cancel);

  cache::Cache* cache() { return cache_.get(); }
  image::DiskStore* images() { return images_.get(); }
  int max_parallelism() const { return solver_->max_parallelism(); }

 private:
  class EngineBridge;
  Engine() = default;
  absl::Status Export(const cache::Chain& chain, const BuildRequest& request,
                      const std::string& image_config);

  const frontend::Registry* frontends_ = nullptr;
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<image::DiskStore> images_;
  std::unique_ptr<exec::Executor> executor_;  // null when runc is not installed
  std::unique_ptr<solver::OpResolver> resolver_;
  std::unique_ptr<solver::Solver> solver_;
};

}  // namespace kiln::engine

#endif  // KILN_GATEWAY_ENGINE_ENGINE_H_
