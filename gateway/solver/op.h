// The interface between the solver and the ops it runs.
//
// For each vertex the solver asks an OpResolver for an OpRunner, asks it for
// its CacheMap (what the vertex's cache key depends on), and runs it only on
// a cache miss. The solver knows LLB's graph shape but nothing of what ops
// do; gateway/ops implements them.
#ifndef KILN_GATEWAY_SOLVER_OP_H_
#define KILN_GATEWAY_SOLVER_OP_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/cache/snapshotter.h"
#include "gateway/progress/progress.h"
#include "gateway/solver/graph.h"

namespace kiln::solver {

// Selects files of an input whose content, not identity, keys the vertex:
// a copy depends on the bytes it copies, not on how its source was made.
struct Selector {
  std::string path;
  bool follow_links = false;
  bool wildcard = false;
  std::vector<std::string> include_patterns;
  std::vector<std::string> exclude_patterns;
};

struct CacheMap {
  // Identity of the op itself, without fields that cannot change its result.
  std::string digest;
  // Per input: empty means the input's cache key counts; otherwise the
  // content checksums of these selections of the input count instead.
  std::vector<std::vector<Selector>> selectors;
  // False: always run (llb.IgnoreCache); the result is still recorded.
  bool cacheable = true;
};

// What a solve gives its ops: cancellation, logs, the snapshotter.
class OpContext {
 public:
  virtual ~OpContext() = default;
  virtual bool cancelled() const = 0;
  // A step's own output, shown in progress under the vertex.
  virtual void Log(int stream, std::string_view data) = 0;
  virtual cache::Snapshotter* snapshotter() = 0;
};

class OpRunner {
 public:
  virtual ~OpRunner() = default;
  // May do I/O (scan a local context, resolve a git ref). Errors end the
  // solve, named after the vertex.
  virtual absl::StatusOr<CacheMap> GetCacheMap(OpContext& ctx) = 0;
  // Produces the vertex's outputs (Vertex::num_outputs of them) from its
  // inputs' results, in input order.
  virtual absl::StatusOr<std::vector<cache::Committed>> Run(
      OpContext& ctx, const std::vector<cache::Chain>& inputs) = 0;
};

// How a local source filters its directory (BuildKit's local.* attrs).
struct LocalFilter {
  std::vector<std::string> include, exclude, follow;
};

// A client's ssh agent, forwarded to a build. Thread-safe; may outlive the
// session that gave it (it then refuses new connections).
class SshAgent {
 public:
  virtual ~SshAgent() = default;
  // A new connection to the agent: a stream socket the caller owns and
  // closes. Unavailable when the client is gone.
  virtual absl::StatusOr<int> Connect() = 0;
};

// Per-solve state that ops need: the client's local directories, secrets
// and ssh agents.
class Session {
 public:
  virtual ~Session() = default;
  // A directory holding the client directory shared as `name` (BuildKit's
  // local source name), at least the part `filter` selects: the directory
  // itself in the embedded engine, a mirror kept current in kilnd, which
  // logs the transfer to `ctx` (the local source's step). NotFound naming
  // it when the client did not share it. Thread-safe.
  virtual absl::StatusOr<std::string> LocalDir(const std::string& name, const LocalFilter& filter,
                                               OpContext* ctx) const = 0;
  // The bytes of secret `id`. NotFound naming it when the client has none.
  // Callers never log, record or store the value on disk.
  virtual absl::StatusOr<std::string> Secret(const std::string& id) const = 0;
  // The ssh agent the client forwarded as `id` (`kiln build --ssh ID`).
  // NotFound naming it when the client forwarded none by that id.
  virtual absl::StatusOr<std::shared_ptr<SshAgent>> Ssh(const std::string& id) const;
};

class OpResolver {
 public:
  virtual ~OpResolver() = default;
  // Unimplemented naming the op type when there is no runner for it.
  virtual absl::StatusOr<std::unique_ptr<OpRunner>> Resolve(const Vertex& vertex,
                                                            const Session& session) = 0;
};

}  // namespace kiln::solver

#endif  // KILN_GATEWAY_SOLVER_OP_H_
