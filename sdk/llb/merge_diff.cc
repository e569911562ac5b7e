#include "sdk/llb/merge_diff.h"

#include <utility>

#include "sdk/llb/internal/node.h"

namespace kiln::llb {
namespace {

using llb_internal::CapSet;
using llb_internal::MarshalContext;
using llb_internal::Output;
using llb_internal::StateAccess;

class MergeNode final : public llb_internal::Node {
 public:
  MergeNode(std::vector<Output> inputs, OpOptions options)
      : Node(std::move(options), absl::OkStatus()), inputs_(std::move(inputs)) {}

  std::vector<Output> Deps() const override { return inputs_; }

  // Every layer is its own input, even a repeated one: order is meaning.
  absl::Status Fill(const MarshalContext& ctx, pb::Op* op, CapSet* caps) const override {
    caps->insert("mergeop");
    pb::MergeOp* merge = op->mutable_merge();
    for (const Output& in : inputs_) {
      merge->add_inputs()->set_input(op->inputs_size());
      *op->add_inputs() = ctx.InputOf(in);
    }
    return absl::OkStatus();
  }

 private:
  std::vector<Output> inputs_;
};

class DiffNode final : public llb_internal::Node {
 public:
  DiffNode(Output lower, Output upper, OpOptions options)
      : Node(std::move(options), absl::OkStatus()),
        lower_(std::move(lower)),
        upper_(std::move(upper)) {}

  std::vector<Output> Deps() const override {
    std::vector<Output> deps = {lower_};
    if (!upper_.IsScratch()) deps.push_back(upper_);
    return deps;
  }

  absl::Status Fill(const MarshalContext& ctx, pb::Op* op, CapSet* caps) const override {
    caps->insert("diffop");
    pb::DiffOp* diff = op->mutable_diff();
    diff->mutable_lower()->set_input(op->inputs_size());
    *op->add_inputs() = ctx.InputOf(lower_);
    if (upper_.IsScratch()) {
      diff->mutable_upper()->set_input(-1);
    } else {
      diff->mutable_upper()->set_input(op->inputs_size());
      *op->add_inputs() = ctx.InputOf(upper_);
    }
    return absl::OkStatus();
  }

 private:
  Output lower_;
  Output upper_;
};

}  // namespace

State Merge(const std::vector<State>& inputs, const OpOptions& options) {
  std::vector<const State*> layers;
  for (const State& s : inputs) {
    if (!s.IsScratch()) layers.push_back(&s);
  }
  if (layers.empty()) return State();
  if (layers.size() == 1) return *layers[0];
  std::vector<Output> outputs;
  for (const State* s : layers) outputs.push_back(StateAccess::OutputOf(*s));
  auto node = llb_internal::NewNode<MergeNode>(std::move(outputs), options);
  return StateAccess::WithOutput(*layers[0], {node, 0});
}

State Diff(const State& lower, const State& upper, const OpOptions& options) {
  if (lower.IsScratch()) return upper;
  auto node = llb_internal::NewNode<DiffNode>(StateAccess::OutputOf(lower),
                                              StateAccess::OutputOf(upper), options);
  return StateAccess::WithOutput(lower, {node, 0});
}

}  // namespace kiln::llb
