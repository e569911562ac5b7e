// The graph behind llb::State: immutable op nodes shared by pointer, and the
// interface through which Marshal turns each node into a pb::Op.
#ifndef KILN_SDK_LLB_INTERNAL_NODE_H_
#define KILN_SDK_LLB_INTERNAL_NODE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "proto/llb/ops.pb.h"
#include "sdk/llb/op_options.h"
#include "sdk/llb/platform.h"
#include "sdk/llb/state.h"

namespace kiln::llb_internal {

class Node;

// One output of a node; a null node is the empty filesystem (scratch).
struct Output {
  std::shared_ptr<const Node> node;
  int64_t index = 0;

  bool IsScratch() const { return node == nullptr; }
  bool SameAs(const Output& o) const { return node == o.node && index == o.index; }
};

// The process settings a State carries into the ops built from it.
struct StateMeta {
  std::vector<std::pair<std::string, std::string>> env;  // in Go llb's order
  std::string dir = "/";
  std::string user;
  std::string hostname;
  pb::NetMode network = pb::UNSET;
  pb::SecurityMode security = pb::SANDBOX;
  std::optional<llb::Platform> platform;

  // Sets `key`, moving it to the end as Go's EnvList.AddOrReplace does.
  void SetEnv(std::string key, std::string value);
  const std::string* FindEnv(std::string_view key) const;
};

// What a node may ask of the marshaler while it fills its pb::Op.
class MarshalContext {
 public:
  virtual ~MarshalContext() = default;
  // The edge to `out`, whose node has already been marshaled.
  virtual pb::Input InputOf(const Output& out) const = 0;
  // `own` normalized, else the marshal default platform.
  virtual pb::Platform PlatformFor(const std::optional<llb::Platform>& own) const = 0;
  virtual const std::string& local_unique_id() const = 0;
};

using CapSet = std::set<std::string>;

class Node {
 public:
  Node(llb::OpOptions options, absl::Status error)
      : options_(std::move(options)), error_(std::move(error)) {}
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Non-scratch inputs, in the order Marshal visits them (BuildKit's order).
  virtual std::vector<Output> Deps() const = 0;
  // Fills the op body, inputs and platform, and names the caps it needs.
  // Only called when error() is OK and every dependency is marshaled.
  virtual absl::Status Fill(const MarshalContext& ctx, pb::Op* op, CapSet* caps) const = 0;

  const llb::OpOptions& options() const { return options_; }
  // A problem found when the node was built; Marshal reports it.
  const absl::Status& error() const { return error_; }

 private:
  llb::OpOptions options_;
  absl::Status error_;
};

// Deletes a node without recursing down its inputs: nodes freed while a
// deletion runs are queued, so dropping a 100k-op chain cannot overflow the
// stack.
void DeleteNode(const Node* node);

// Nodes are always made here, so that they are freed by DeleteNode.
template <typename T, typename... Args>
std::shared_ptr<const Node> NewNode(Args&&... args) {
  return std::shared_ptr<const Node>(new T(std::forward<Args>(args)...), DeleteNode);
}

// An output that cannot be used; marshaling anything that reaches it fails.
std::shared_ptr<const Node> ErrorNode(absl::Status error);

// Appends `in` to `inputs` unless an equal edge is there; returns its index.
int64_t AddInput(const pb::Input& in, google::protobuf::RepeatedPtrField<pb::Input>* inputs);

// Builds States from parts; the only way into State's private fields.
class StateAccess {
 public:
  static Output OutputOf(const llb::State& s) { return Output{s.node_, s.index_}; }
  static const StateMeta& MetaOf(const llb::State& s) { return *s.meta_; }
  static llb::State Make(Output out, std::shared_ptr<const StateMeta> meta);
  // `base`'s meta with a new output.
  static llb::State WithOutput(const llb::State& base, Output out);
  // A fresh meta (dir "/"), as Go's NewState gives.
  static llb::State Fresh(Output out, std::optional<llb::Platform> platform = std::nullopt);
};

}  // namespace kiln::llb_internal

#endif  // KILN_SDK_LLB_INTERNAL_NODE_H_
