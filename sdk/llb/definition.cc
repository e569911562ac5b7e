#include "sdk/llb/definition.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sdk/base/digest.h"
#include "sdk/llb/internal/node.h"

namespace kiln::llb {
namespace {

using llb_internal::CapSet;
using llb_internal::MarshalContext;
using llb_internal::Output;

// One op of the definition, re-emitted with its inputs pointing at the
// nodes made for them.
class DefinedNode final : public llb_internal::Node {
 public:
  DefinedNode(pb::Op op, std::vector<Output> inputs, OpOptions options)
      : Node(std::move(options), absl::OkStatus()),
        op_(std::move(op)),
        inputs_(std::move(inputs)) {}

  std::vector<Output> Deps() const override { return inputs_; }

  absl::Status Fill(const MarshalContext& ctx, pb::Op* op, CapSet* caps) const override {
    *op = op_;
    for (int i = 0; i < op->inputs_size(); ++i) *op->mutable_inputs(i) = ctx.InputOf(inputs_[i]);
    return absl::OkStatus();
  }

 private:
  pb::Op op_;
  std::vector<Output> inputs_;
};

OpOptions OptionsOf(const pb::OpMetadata& md) {
  OpOptions o;
  o.ignore_cache = md.ignore_cache();
  for (const auto& [k, v] : md.description()) {
    if (k == "llb.customname") {
      o.custom_name = v;
    } else {
      o.description[k] = v;
    }
  }
  if (md.has_export_cache()) o.export_cache = md.export_cache().value();
  for (const auto& [cap, on] : md.caps()) {
    if (on) o.caps.insert(cap);
  }
  return o;
}

State Broken(const std::string& why) {
  return llb_internal::StateAccess::Fresh(
      Output{llb_internal::ErrorNode(absl::InvalidArgumentError("llb definition: " + why)), 0});
}

}  // namespace

State FromDefinition(const pb::Definition& def) {
  if (def.def_size() == 0) return State();
  std::map<std::string, pb::Op> ops;  // by digest
  for (int i = 0; i < def.def_size(); ++i) {
    pb::Op op;
    if (!op.ParseFromString(def.def(i))) {
      return Broken(absl::StrCat("op ", i, " of ", def.def_size(), " does not parse"));
    }
    ops.emplace(DigestOf(def.def(i)), std::move(op));
  }
  // The terminal op is the last one: no body, one input.
  const pb::Op& terminal = ops.at(DigestOf(def.def(def.def_size() - 1)));
  if (terminal.op_case() != pb::Op::OP_NOT_SET || terminal.inputs_size() != 1) {
    return Broken("the last op is not a terminal op (no body and one input)");
  }

  // Nodes for every op the terminal reaches, inputs first; an explicit
  // stack, since chains can be long. Ops are named by the digest of their
  // bytes, so they cannot form a cycle.
  std::map<std::string, std::shared_ptr<const llb_internal::Node>> nodes;
  struct Frame {
    std::string digest;
    int next = 0;
  };
  std::vector<Frame> stack = {{terminal.inputs(0).digest()}};
  while (!stack.empty()) {
    Frame& top = stack.back();
    auto op_it = ops.find(top.digest);
    if (op_it == ops.end())
      return Broken("an input names op " + top.digest + ", which is not in it");
    const pb::Op& op = op_it->second;
    if (top.next < op.inputs_size()) {
      const std::string& in = op.inputs(top.next++).digest();
      if (nodes.count(in) != 0) continue;
      stack.push_back({in});
      continue;
    }
    std::vector<Output> inputs;
    for (const pb::Input& in : op.inputs()) {
      if (in.index() < 0) return Broken("op " + top.digest + " has an input with a negative index");
      inputs.push_back(Output{nodes.at(in.digest()), in.index()});
    }
    OpOptions options;
    if (auto md = def.metadata().find(top.digest); md != def.metadata().end()) {
      options = OptionsOf(md->second);
    }
    nodes[top.digest] =
        llb_internal::NewNode<DefinedNode>(op, std::move(inputs), std::move(options));
    stack.pop_back();
  }
  const pb::Input& out = terminal.inputs(0);
  return llb_internal::StateAccess::Fresh(Output{nodes.at(out.digest()), out.index()});
}

}  // namespace kiln::llb
