// Merge and diff ops: pure snapshotter operations.
#include "absl/strings/str_cat.h"
#include "gateway/ops/internal.h"
#include "sdk/base/status_macros.h"

namespace kiln::ops_internal {
namespace {

class MergeRunner : public solver::OpRunner {
 public:
  explicit MergeRunner(const solver::Vertex& v) : v_(v) {}
  absl::StatusOr<solver::CacheMap> GetCacheMap(solver::OpContext&) override {
    return solver::CacheMap{ops::OpDigest("merge", v_.op), {}, true};
  }
  absl::StatusOr<std::vector<cache::Committed>> Run(
      solver::OpContext& ctx, const std::vector<cache::Chain>& inputs) override {
    std::vector<cache::Chain> layers;
    for (const pb::MergeInput& in : v_.op.merge().inputs()) layers.push_back(inputs[in.input()]);
    KILN_ASSIGN_OR_RETURN(cache::Committed c, ctx.snapshotter()->Merge(layers));
    return std::vector<cache::Committed>{std::move(c)};
  }

 private:
  const solver::Vertex& v_;
};

class DiffRunner : public solver::OpRunner {
 public:
  explicit DiffRunner(const solver::Vertex& v) : v_(v) {}
  absl::StatusOr<solver::CacheMap> GetCacheMap(solver::OpContext&) override {
    return solver::CacheMap{ops::OpDigest("diff", v_.op), {}, true};
  }
  absl::StatusOr<std::vector<cache::Committed>> Run(
      solver::OpContext& ctx, const std::vector<cache::Chain>& inputs) override {
    auto chain = [&](int64_t i) { return i < 0 ? cache::Chain{} : inputs[i]; };
    KILN_ASSIGN_OR_RETURN(cache::Committed c,
                          ctx.snapshotter()->Diff(chain(v_.op.diff().lower().input()),
                                                  chain(v_.op.diff().upper().input())));
    return std::vector<cache::Committed>{std::move(c)};
  }

 private:
  const solver::Vertex& v_;
};

absl::Status CheckInput(const solver::Vertex& v, int64_t i, const char* what) {
  if (i >= -1 && i < v.op.inputs_size()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " refers to input ", i, ", but the op has ", v.op.inputs_size()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<solver::OpRunner>> NewMergeRunner(const solver::Vertex& v) {
  if (v.op.merge().inputs_size() == 0) return absl::InvalidArgumentError("merge op without inputs");
  for (const pb::MergeInput& in : v.op.merge().inputs()) {
    if (in.input() < 0) return absl::InvalidArgumentError("merge input refers to no input");
    KILN_RETURN_IF_ERROR(CheckInput(v, in.input(), "merge input"));
  }
  return std::make_unique<MergeRunner>(v);
}

absl::StatusOr<std::unique_ptr<solver::OpRunner>> NewDiffRunner(const solver::Vertex& v) {
  KILN_RETURN_IF_ERROR(CheckInput(v, v.op.diff().lower().input(), "diff lower"));
  KILN_RETURN_IF_ERROR(CheckInput(v, v.op.diff().upper().input(), "diff upper"));
  return std::make_unique<DiffRunner>(v);
}

}  // namespace kiln::ops_internal
