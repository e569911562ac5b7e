#include "gateway/solver/solver.h"

#include <atomic>
#include <cstdlib>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "sdk/base/digest.h"

namespace kiln::solver {
namespace {

// A snapshotter that only names layers: enough for ops that touch no files.
class FakeSnapshotter : public cache::Snapshotter {
 public:
  std::string name() const override { return "fake"; }
  absl::StatusOr<std::unique_ptr<cache::Mount>> View(const cache::Chain&) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<std::unique_ptr<cache::Active>> Prepare(const cache::Chain&) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<cache::Committed> Merge(const std::vector<cache::Chain>&) override {
    return absl::UnimplementedError("fake");
  }
  absl::StatusOr<cache::Committed> Diff(const cache::Chain&, const cache::Chain&) override {
    return absl::UnimplementedError("fake");
  }
  absl::Status RemoveLayer(const std::string&) override { return absl::OkStatus(); }
  std::string LayerDir(const std::string&) const override { return ""; }
};

// Fake ops are sources "fake://NAME?ms=N&fail=1" and merges. A fake source
// sleeps N ms (waking early when cancelled) and yields layer NAME.
struct Counters {
  std::atomic<int> runs{0};
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};
  std::atomic<int> saw_cancel{0};
};

class FakeRunner : public OpRunner {
 public:
  FakeRunner(const Vertex& v, Counters* c) : v_(v), c_(c) {}
  absl::StatusOr<CacheMap> GetCacheMap(OpContext&) override {
    std::string bytes;
    v_.op.SerializeToString(&bytes);
    return CacheMap{DigestOf(bytes), {}, true};
  }
  absl::StatusOr<std::vector<cache::Committed>> Run(
      OpContext& ctx, const std::vector<cache::Chain>& inputs) override {
    ++c_->runs;
    int now = ++c_->running;
    int prev = c_->max_running.load();
    while (now > prev && !c_->max_running.compare_exchange_weak(prev, now)) {
    }
    absl::Status st = Work(ctx);
    --c_->running;
    if (!st.ok()) return st;
    cache::Committed out;
    for (const cache::Chain& in : inputs) out.chain.insert(out.chain.end(), in.begin(), in.end());
    out.chain.push_back(v_.op.has_merge() ? "merge" : v_.name);  // ids have no spaces
    return std::vector<cache::Committed>{out};
  }

 private:
  absl::Status Work(OpContext& ctx) {
    if (!v_.op.has_source()) return absl::OkStatus();
    std::string id = v_.op.source().identifier();
    int ms = 0;
    std::string query = id.substr(id.find('?') + 1);
    for (absl::string_view kv : absl::StrSplit(query, '&')) {
      if (absl::ConsumePrefix(&kv, "ms=")) (void)absl::SimpleAtoi(kv, &ms);
    }
    absl::Time end = absl::Now() + absl::Milliseconds(ms);
    while (absl::Now() < end) {
      if (ctx.cancelled()) {
        ++c_->saw_cancel;
        return absl::CancelledError("cancelled");
      }
      absl::SleepFor(absl::Milliseconds(2));
    }
    if (absl::StrContains(id, "fail=1")) return absl::InternalError("fake failure");
    return absl::OkStatus();
  }

  const Vertex& v_;
  Counters* c_;
};

class FakeResolver : public OpResolver {
 public:
  absl::StatusOr<std::unique_ptr<OpRunner>> Resolve(const Vertex& v, const Session&) override {
    return std::make_unique<FakeRunner>(v, &counters);
  }
  Counters counters;
};

class NoSession : public Session {
 public:
  absl::StatusOr<std::string> LocalDir(const std::string& name, const LocalFilter&,
                                       OpContext*) const override {
    return absl::NotFoundError(name);
  }
  absl::StatusOr<std::string> Secret(const std::string& id) const override {
    return absl::NotFoundError(id);
  }
};

std::string Bytes(const pb::Op& op) {
  std::string s;
  op.SerializeToString(&s);
  return s;
}

// Builds a graph: one fake source per entry of `sources`, merged, with a
// custom name and a source location per source.
Graph MergeOf(const std::vector<std::string>& sources) {
  pb::Definition def;
  pb::Op merge;
  pb::SourceInfo* info = def.mutable_source()->add_infos();
  info->set_filename("build.fake");
  for (size_t i = 0; i < sources.size(); ++i) {
    pb::Op s;
    s.mutable_source()->set_identifier("fake://" + sources[i]);
    std::string b = Bytes(s);
    std::string d = DigestOf(b);
    def.add_def(b);
    (*def.mutable_metadata())[d].mutable_description()->insert(
        {"llb.customname", sources[i].substr(0, sources[i].find('?'))});
    pb::Location* loc = (*def.mutable_source()->mutable_locations())[d].add_locations();
    loc->add_ranges()->mutable_start()->set_line(static_cast<int32_t>(i + 1));
    merge.add_inputs()->set_digest(d);
    merge.mutable_merge()->add_inputs()->set_input(static_cast<int64_t>(i));
  }
  std::string mb = Bytes(merge);
  def.add_def(mb);
  pb::Op term;
  term.add_inputs()->set_digest(DigestOf(mb));
  def.add_def(Bytes(term));
  auto g = LoadDefinition(def);
  EXPECT_TRUE(g.ok()) << g.status();
  return *g;
}

class SolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* t = std::getenv("TEST_TMPDIR");
    std::string path = absl::StrCat(t ? t : "/tmp", "/solver-", counter_++, ".db");
    auto index = cache::CacheIndex::Open(path);
    ASSERT_TRUE(index.ok());
    index_ = std::move(*index);
  }
  std::unique_ptr<Solver> NewSolver(int parallelism) {
    SolverOptions o;
    o.max_parallelism = parallelism;
    return std::make_unique<Solver>(index_.get(), &snap_, &resolver_, o);
  }
  SolveOptions Options(progress::Sink* sink) {
    SolveOptions o;
    o.session = &session_;
    o.progress = sink;
    return o;
  }

  static inline int counter_ = 0;
  std::unique_ptr<cache::CacheIndex> index_;
  FakeSnapshotter snap_;
  FakeResolver resolver_;
  NoSession session_;
};

TEST_F(SolverTest, SecondSolveRunsNothing) {
  Graph g = MergeOf({"a", "b", "c"});
  auto solver = NewSolver(2);
  progress::RecordingSink first, second;
  auto r1 = solver->Solve(g, Options(&first));
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(first.Ran(), 4);
  auto r2 = solver->Solve(g, Options(&second));
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(second.Ran(), 0);
  EXPECT_EQ(second.Cached(), 4);
  EXPECT_EQ(r1->chain, r2->chain);
  EXPECT_EQ(r1->chain, (cache::Chain{"a", "b", "c", "merge"}));
}

TEST_F(SolverTest, NoCacheRunsEverythingAgain) {
  Graph g = MergeOf({"a", "b"});
  auto solver = NewSolver(2);
  ASSERT_TRUE(solver->Solve(g, Options(nullptr)).ok());
  progress::RecordingSink sink;
  SolveOptions o = Options(&sink);
  o.no_cache = true;
  ASSERT_TRUE(solver->Solve(g, o).ok());
  EXPECT_EQ(sink.Ran(), 3);
}

TEST_F(SolverTest, IndependentVerticesRunInParallelUpToTheBound) {
  Graph g = MergeOf({"a?ms=100", "b?ms=100", "c?ms=100", "d?ms=100"});
  auto wide = NewSolver(4);
  ASSERT_TRUE(wide->Solve(g, Options(nullptr)).ok());
  EXPECT_EQ(resolver_.counters.max_running.load(), 4);

  SetUp();  // fresh index, so everything runs again
  resolver_.counters.max_running = 0;
  auto narrow = NewSolver(2);
  ASSERT_TRUE(narrow->Solve(g, Options(nullptr)).ok());
  EXPECT_EQ(resolver_.counters.max_running.load(), 2);
}

TEST_F(SolverTest, ConcurrentSolvesRunSharedVerticesOnce) {
  Graph g = MergeOf({"a?ms=150", "b?ms=150"});
  auto solver = NewSolver(4);
  progress::RecordingSink s1, s2;
  absl::StatusOr<SolveResult> r1, r2;
  std::thread t1([&] { r1 = solver->Solve(g, Options(&s1)); });
  std::thread t2([&] { r2 = solver->Solve(g, Options(&s2)); });
  t1.join();
  t2.join();
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(resolver_.counters.runs.load(), 3);
  EXPECT_EQ(s1.Ran() + s2.Ran(), 3);
  EXPECT_EQ(r1->chain, r2->chain);
}

TEST_F(SolverTest, FailureCancelsTheRestAndNamesTheStep) {
  Graph g = MergeOf({"slow?ms=5000", "broken?ms=20&fail=1"});
  auto solver = NewSolver(4);
  progress::RecordingSink sink;
  absl::Time start = absl::Now();
  auto r = solver->Solve(g, Options(&sink));
  ASSERT_FALSE(r.ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));  // did not wait for "slow"
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(r.status().message().find("step \"broken\""), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("build.fake:2"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("fake failure"), std::string::npos);
  EXPECT_EQ(resolver_.counters.saw_cancel.load(), 1);
  // Nothing of the failed solve is recorded for the failed or merged steps.
  auto again = solver->Solve(MergeOf({"broken?ms=20&fail=1"}), Options(nullptr));
  EXPECT_FALSE(again.ok());
}

TEST_F(SolverTest, CallerCancelStopsTheSolve) {
  Graph g = MergeOf({"long?ms=5000"});
  auto solver = NewSolver(2);
  std::atomic<bool> cancel{false};
  SolveOptions o = Options(nullptr);
  o.cancel = &cancel;
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(50));
    cancel = true;
  });
  auto r = solver->Solve(g, o);
  canceller.join();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
}

TEST_F(SolverTest, ScratchResultNeedsNoWork) {
  auto solver = NewSolver(1);
  auto r = solver->Solve(Graph{}, Options(nullptr));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->chain.empty());
}

}  // namespace
}  // namespace kiln::solver
