// Solver: runs a Graph's vertices in parallel, caching each by content.
//
// A vertex's cache key is the sha256 of its CacheMap digest and, per input,
// either the input's cache key or the content checksums of the input's
// selected files. A key found in the index is a hit and nothing runs.
// Vertices become ready when their inputs are done and run on a pool of
// `max_parallelism` threads shared by every solve of this Solver. A key
// being computed by one solve is not computed again by another: the second
// waits, without holding a thread, and shares the result. The first failing
// vertex stops the solve: nothing new starts, running ops see cancelled(),
// and Solve returns that error naming the vertex and where it came from.
//
// Thread-safe: Solve may be called from many threads at once.
#ifndef KILN_GATEWAY_SOLVER_SOLVER_H_
#define KILN_GATEWAY_SOLVER_SOLVER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/cache/cache.h"
#include "gateway/cache/index.h"
#include "gateway/cache/snapshotter.h"
#include "gateway/progress/progress.h"
#include "gateway/solver/graph.h"
#include "gateway/solver/op.h"

namespace kiln::solver {

struct SolverOptions {
  int max_parallelism = 0;  // 0: the number of cores
  // Optional: serializes the computation of a key across processes sharing
  // the cache (cache::Cache::LockKey). Null: in-process sharing only.
  std::function<absl::StatusOr<std::unique_ptr<cache::KeyLock>>(const std::string&)> lock_key;
};

struct SolveOptions {
  const Session* session = nullptr;
  progress::Sink* progress = nullptr;         // may be null
  bool no_cache = false;                      // run every vertex; results are still recorded
  const std::atomic<bool>* cancel = nullptr;  // set by the caller to stop the solve
};

struct SolveResult {
  cache::Chain chain;  // the terminal's result; empty for scratch
  std::string key;     // cache key of the vertex that produced it
};

class Solver {
 public:
  Solver(cache::CacheIndex* index, cache::Snapshotter* snapshotter, OpResolver* resolver,
         SolverOptions options);
  ~Solver();
  Solver(const Solver&) = delete;
  Solver& operator=(const Solver&) = delete;

  // Errors: the first failing vertex's error, with its name and location in
  // front; Cancelled when `cancel` was set.
  absl::StatusOr<SolveResult> Solve(const Graph& graph, const SolveOptions& options);

  int max_parallelism() const { return parallelism_; }

 private:
  struct Run;
  struct Flight;
  class Pool;
  class VertexContext;

  void Schedule(std::shared_ptr<Run> run, int v);
  // Runs vertex v; returns a vertex it made ready for the caller to run
  // next on the same thread, or -1.
  int Process(const std::shared_ptr<Run>& run, int v);
  absl::StatusOr<std::string> CacheKey(Run& run, int v, const CacheMap& cm);
  // Runs the vertex (or finds that another process just did: *ran = false).
  absl::StatusOr<std::vector<cache::Chain>> Execute(Run& run, int v, OpRunner& runner,
                                                    const std::string& key, bool lookup,
                                                    VertexContext& ctx, bool* ran);
  absl::StatusOr<std::string> Checksum(const cache::Chain& chain, const Selector& sel);
  // Records v's result and schedules what became ready; with inline_next,
  // returns one of those to the caller instead (else -1).
  int Complete(const std::shared_ptr<Run>& run, int v, const std::string& key,
               std::vector<cache::Chain> outputs, bool cached, bool shared, absl::Time started,
               bool inline_next = false);
  // Ends the solve with `status` named after v; returns -1 (no next vertex).
  int Fail(const std::shared_ptr<Run>& run, int v, const absl::Status& status, absl::Time started);

  cache::CacheIndex* index_;
  cache::Snapshotter* snapshotter_;
  OpResolver* resolver_;
  int parallelism_;
  SolverOptions options_;
  std::unique_ptr<Pool> pool_;

  std::mutex flights_mu_;  // guards flights_ (std:: for the reason in Pool)
  std::map<std::string, std::shared_ptr<Flight>> flights_;
};

}  // namespace kiln::solver

#endif  // KILN_GATEWAY_SOLVER_SOLVER_H_
