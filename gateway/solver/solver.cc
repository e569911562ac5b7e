#include "gateway/solver/solver.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/fsutil/checksum.h"
#include "sdk/base/digest.h"
#include "sdk/base/status_macros.h"

namespace kiln::solver {
namespace {

// `status` with the vertex's name, short digest and source location in front.
absl::Status Named(const Vertex& vertex, const absl::Status& status) {
  std::string where = vertex.location.empty() ? "" : absl::StrCat(" (", vertex.location, ")");
  return absl::Status(status.code(), absl::StrCat("step \"", vertex.name, "\" [",
                                                  DigestHex(vertex.digest).substr(0, 12), "]",
                                                  where, ": ", status.message()));
}

// A progress event about `vertex`.
progress::Event VertexEvent(progress::Event::Kind kind, const Vertex& vertex, absl::Time started) {
  progress::Event e;
  e.kind = kind;
  e.vertex = vertex.digest;
  e.name = vertex.name;
  e.started = started;
  return e;
}

}  // namespace

// A fixed set of threads running queued tasks in order. std::mutex rather
// than absl::Mutex: on machines that do not publish their TSC frequency,
// absl's first contended wait calibrates the clock by sleeping ~3 ms, which
// is most of a no-op build.
class Solver::Pool {
 public:
  explicit Pool(int n) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  void Add(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    while (true) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

// One vertex computation that other solves may join.
struct Solver::Flight {
  std::vector<std::function<void(const absl::StatusOr<std::vector<cache::Chain>>&)>> waiters;
};

// The state of one Solve call.
struct Solver::Run {
  const Graph* graph;
  SolveOptions options;
  std::mutex mu;  // guards what follows, up to `failed` (see Pool on why std::)
  std::condition_variable changed;
  std::vector<int> pending;             // inputs not done yet
  std::vector<std::vector<int>> users;  // vertices that read each vertex
  std::vector<std::unique_ptr<OpRunner>> runners;
  std::vector<std::string> keys;
  std::vector<std::vector<cache::Chain>> outputs;
  int remaining = 0;  // vertices not done
  int active = 0;     // queued, running or waiting on a flight
  absl::Status error;
  std::vector<std::string> hits;  // keys served from the cache
  std::atomic<bool> failed{false};

  bool Cancelled() const {
    return failed.load() || (options.cancel != nullptr && options.cancel->load());
  }
  void Emit(const progress::Event& e) {
    if (options.progress != nullptr) options.progress->Emit(e);
  }
};

class Solver::VertexContext : public OpContext {
 public:
  VertexContext(Run* run, const Vertex& v, cache::Snapshotter* s) : run_(run), v_(v), s_(s) {}
  bool cancelled() const override { return run_->Cancelled(); }
  void Log(int stream, std::string_view data) override {
    progress::Event e = VertexEvent(progress::Event::Kind::kLog, v_, absl::Now());
    e.stream = stream;
    e.data = std::string(data);
    run_->Emit(e);
  }
  cache::Snapshotter* snapshotter() override { return s_; }

 private:
  Run* run_;
  const Vertex& v_;
  cache::Snapshotter* s_;
};

Solver::Solver(cache::CacheIndex* index, cache::Snapshotter* snapshotter, OpResolver* resolver,
               SolverOptions options)
    : index_(index), snapshotter_(snapshotter), resolver_(resolver), options_(options) {
  parallelism_ = options.max_parallelism > 0
                     ? options.max_parallelism
                     : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  pool_ = std::make_unique<Pool>(parallelism_);
}

Solver::~Solver() = default;

absl::StatusOr<SolveResult> Solver::Solve(const Graph& graph, const SolveOptions& options) {
  if (!graph.result.has_value()) return SolveResult{};
  if (options.session == nullptr) return absl::InvalidArgumentError("solve without a session");
  auto run = std::make_shared<Run>();
  run->graph = &graph;
  run->options = options;
  size_t n = graph.vertices.size();
  // Every op is checked before any runs, so a bad op anywhere in the graph
  // costs nothing and leaves nothing in the cache.
  for (const Vertex& v : graph.vertices) {
    absl::StatusOr<std::unique_ptr<OpRunner>> runner = resolver_->Resolve(v, *options.session);
    if (!runner.ok()) return Named(v, runner.status());
    run->runners.push_back(std::move(*runner));
  }
  run->users.resize(n);
  std::vector<int> ready;
  {
    std::lock_guard<std::mutex> lock(run->mu);
    run->pending.resize(n);
    run->keys.resize(n);
    run->outputs.resize(n);
    run->remaining = static_cast<int>(n);
    for (size_t v = 0; v < n; ++v) {
      run->pending[v] = static_cast<int>(graph.vertices[v].inputs.size());
      for (const InputRef& in : graph.vertices[v].inputs) run->users[in.vertex].push_back(v);
      if (run->pending[v] == 0) ready.push_back(static_cast<int>(v));
    }
    run->active = static_cast<int>(ready.size());
  }
  for (int v : ready) Schedule(run, v);
  std::unique_lock<std::mutex> lock(run->mu);
  run->changed.wait(
      lock, [&] { return run->remaining == 0 || (run->failed.load() && run->active == 0); });
  if (run->remaining != 0) return run->error;
  // Failing to note the use only makes prune's choice less informed.
  index_->Touch(run->hits).IgnoreError();
  const InputRef& result = *graph.result;
  return SolveResult{run->outputs[result.vertex][result.output], run->keys[result.vertex]};
}

void Solver::Schedule(std::shared_ptr<Run> run, int v) {
  pool_->Add([this, run = std::move(run), v]() mutable {
    // A worker carries on with a vertex its own completion made ready, so
    // a chain of cache hits does not hop threads at every step.
    for (int next = v; next >= 0;) next = Process(run, next);
  });
}

int Solver::Process(const std::shared_ptr<Run>& run, int v) {
  const Vertex& vertex = run->graph->vertices[v];
  absl::Time started = absl::Now();
  if (run->Cancelled()) {
    return Fail(run, v, absl::CancelledError("build cancelled"), started);
  }
  run->Emit(VertexEvent(progress::Event::Kind::kStarted, vertex, started));

  VertexContext ctx(run.get(), vertex, snapshotter_);
  OpRunner& runner = *run->runners[v];
  absl::StatusOr<CacheMap> cm = runner.GetCacheMap(ctx);
  if (!cm.ok()) return Fail(run, v, cm.status(), started);
  if (vertex.metadata.ignore_cache()) cm->cacheable = false;
  absl::StatusOr<std::string> key = CacheKey(*run, v, *cm);
  if (!key.ok()) return Fail(run, v, key.status(), started);

  bool lookup = cm->cacheable && !run->options.no_cache;
  if (lookup) {
    auto hit = index_->Lookup(*key, vertex.num_outputs);
    if (!hit.ok()) return Fail(run, v, hit.status(), started);
    if (hit->has_value()) {
      {
        std::lock_guard<std::mutex> lock(run->mu);
        run->hits.push_back(*key);
      }
      return Complete(run, v, *key, std::move(**hit), /*cached=*/true, false, started,
                      /*inline_next=*/true);
    }
  }
  {
    std::lock_guard<std::mutex> lock(flights_mu_);
    auto it = flights_.find(*key);
    if (it != flights_.end()) {
      // Another solve is computing this very vertex: share its result.
      it->second->waiters.push_back(
          [this, run, v, key = *key, started](const absl::StatusOr<std::vector<cache::Chain>>& r) {
            if (r.ok()) {
              Complete(run, v, key, *r, /*cached=*/true, /*shared=*/true, started);
            } else {
              Fail(run, v, r.status(), started);
            }
          });
      return -1;
    }
    flights_[*key] = std::make_shared<Flight>();
  }

  bool ran = true;
  absl::StatusOr<std::vector<cache::Chain>> outputs =
      Execute(*run, v, runner, *key, lookup, ctx, &ran);
  std::shared_ptr<Flight> flight;
  {
    std::lock_guard<std::mutex> lock(flights_mu_);
    flight = flights_[*key];
    flights_.erase(*key);
  }
  for (auto& waiter : flight->waiters) waiter(outputs);
  if (!outputs.ok()) return Fail(run, v, outputs.status(), started);
  return Complete(run, v, *key, std::move(*outputs), /*cached=*/!ran, /*shared=*/!ran, started,
                  /*inline_next=*/true);
}

absl::StatusOr<std::vector<cache::Chain>> Solver::Execute(Run& run, int v, OpRunner& runner,
                                                          const std::string& key, bool lookup,
                                                          VertexContext& ctx, bool* ran) {
  const Vertex& vertex = run.graph->vertices[v];
  std::unique_ptr<cache::KeyLock> key_lock;
  if (options_.lock_key) {
    KILN_ASSIGN_OR_RETURN(key_lock, options_.lock_key(key));
    if (lookup) {
      // Another process may have computed the key while we waited.
      KILN_ASSIGN_OR_RETURN(auto hit, index_->Lookup(key, vertex.num_outputs));
      if (hit.has_value()) {
        *ran = false;
        return std::move(*hit);
      }
    }
  }
  std::vector<cache::Chain> inputs;
  {
    std::lock_guard<std::mutex> lock(run.mu);
    for (const InputRef& in : vertex.inputs) inputs.push_back(run.outputs[in.vertex][in.output]);
  }
  KILN_ASSIGN_OR_RETURN(std::vector<cache::Committed> done, runner.Run(ctx, inputs));
  if (static_cast<int>(done.size()) != vertex.num_outputs) {
    return absl::InternalError(
        absl::StrCat("op produced ", done.size(), " outputs, want ", vertex.num_outputs));
  }
  std::vector<cache::Chain> chains;
  std::vector<cache::LayerInfo> layers;
  for (cache::Committed& c : done) {
    chains.push_back(std::move(c.chain));
    layers.insert(layers.end(), c.new_layers.begin(), c.new_layers.end());
  }
  KILN_RETURN_IF_ERROR(index_->Record(key, chains, vertex.name, layers));
  return chains;
}

absl::StatusOr<std::string> Solver::CacheKey(Run& run, int v, const CacheMap& cm) {
  const Vertex& vertex = run.graph->vertices[v];
  Sha256 h;
  h.UpdateField("kiln.cachekey.v1");
  h.UpdateField(cm.digest);
  for (size_t i = 0; i < vertex.inputs.size(); ++i) {
    const InputRef& in = vertex.inputs[i];
    if (i < cm.selectors.size() && !cm.selectors[i].empty()) {
      cache::Chain chain;
      {
        std::lock_guard<std::mutex> lock(run.mu);
        chain = run.outputs[in.vertex][in.output];
      }
      for (const Selector& sel : cm.selectors[i]) {
        KILN_ASSIGN_OR_RETURN(std::string sum, Checksum(chain, sel));
        h.UpdateField("content");
        h.UpdateField(sel.path);
        h.UpdateField(sum);
      }
    } else {
      std::lock_guard<std::mutex> lock(run.mu);
      h.UpdateField("key");
      h.UpdateField(run.keys[in.vertex]);
      h.UpdateInt(static_cast<uint64_t>(in.output));
    }
  }
  return h.Digest();
}

absl::StatusOr<std::string> Solver::Checksum(const cache::Chain& chain, const Selector& sel) {
  Sha256 memo;
  memo.UpdateField(cache::ChainToString(chain));
  memo.UpdateField(sel.path);
  memo.UpdateInt((sel.follow_links ? 1 : 0) | (sel.wildcard ? 2 : 0));
  memo.UpdateField(absl::StrJoin(sel.include_patterns, "\n"));
  memo.UpdateField(absl::StrJoin(sel.exclude_patterns, "\n"));
  std::string memo_key = memo.Digest();
  KILN_ASSIGN_OR_RETURN(std::optional<std::string> known, index_->GetChecksum(memo_key));
  if (known.has_value()) return *known;
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<cache::Mount> view, snapshotter_->View(chain));
  fsutil::ChecksumOptions opts;
  opts.follow_symlinks = sel.follow_links;
  opts.wildcard = sel.wildcard;
  opts.include_patterns = sel.include_patterns;
  opts.exclude_patterns = sel.exclude_patterns;
  KILN_ASSIGN_OR_RETURN(std::string sum, fsutil::Checksum(view->path(), sel.path, opts));
  KILN_RETURN_IF_ERROR(index_->PutChecksum(memo_key, sum));
  return sum;
}

int Solver::Complete(const std::shared_ptr<Run>& run, int v, const std::string& key,
                     std::vector<cache::Chain> outputs, bool cached, bool shared,
                     absl::Time started, bool inline_next) {
  const Vertex& vertex = run->graph->vertices[v];
  progress::Event e = VertexEvent(progress::Event::Kind::kCompleted, vertex, started);
  e.completed = absl::Now();
  e.cached = cached;
  e.shared = shared;
  run->Emit(e);
  std::vector<int> ready;
  {
    std::lock_guard<std::mutex> lock(run->mu);
    run->keys[v] = key;
    run->outputs[v] = std::move(outputs);
    --run->remaining;
    --run->active;
    if (!run->failed.load()) {
      for (int u : run->users[v]) {
        if (--run->pending[u] == 0) ready.push_back(u);
      }
      run->active += static_cast<int>(ready.size());
    }
  }
  int next = -1;
  if (inline_next && !ready.empty()) {
    next = ready.front();
    ready.erase(ready.begin());
  }
  for (int u : ready) Schedule(run, u);
  run->changed.notify_all();
  return next;
}

int Solver::Fail(const std::shared_ptr<Run>& run, int v, const absl::Status& status,
                 absl::Time started) {
  const Vertex& vertex = run->graph->vertices[v];
  bool cancelled_here = status.code() == absl::StatusCode::kCancelled && run->failed.load();
  absl::Status named = Named(vertex, status);
  if (!cancelled_here) {
    progress::Event e = VertexEvent(progress::Event::Kind::kCompleted, vertex, started);
    e.completed = absl::Now();
    e.error = std::string(named.message());
    run->Emit(e);
  }
  {
    std::lock_guard<std::mutex> lock(run->mu);
    if (!run->failed.exchange(true)) run->error = named;
    --run->active;
  }
  run->changed.notify_all();
  return -1;
}

absl::StatusOr<std::shared_ptr<SshAgent>> Session::Ssh(const std::string& id) const {
  return absl::NotFoundError(
      absl::StrCat("ssh agent \"", id, "\" was not forwarded to this build; pass --ssh ", id));
}

}  // namespace kiln::solver
