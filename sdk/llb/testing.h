// Test helpers: a Definition decoded back into ops, for asserting on what
// the builder produced.
//
//   KILN_ASSIGN_OR_RETURN(auto graph, llb_testing::MarshalAndDecode(state));
//   const pb::Op& target = graph.Target();
//   EXPECT_EQ(target.source().identifier(), "local://context");
//
// Values; thread-compatible.
#ifndef KILN_SDK_LLB_TESTING_H_
#define KILN_SDK_LLB_TESTING_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/llb/ops.pb.h"
#include "sdk/llb/marshal.h"
#include "sdk/llb/state.h"

namespace kiln::llb_testing {

struct DecodedDefinition {
  pb::Definition definition;
  std::vector<pb::Op> ops;           // Definition.def order; terminal last
  std::vector<std::string> digests;  // of each op's bytes

  const pb::Op& Terminal() const { return ops.back(); }
  // The op the terminal points at.
  const pb::Op& Target() const { return *Find(Terminal().inputs(0).digest()); }
  // The op with `digest`, or null.
  const pb::Op* Find(const std::string& digest) const;
  // The op feeding input `i` of `op`.
  const pb::Op& InputOp(const pb::Op& op, int i) const { return *Find(op.inputs(i).digest()); }
  const pb::OpMetadata& Metadata(const std::string& digest) const {
    return definition.metadata().at(digest);
  }
};

// InvalidArgument if an entry does not parse as a pb::Op.
absl::StatusOr<DecodedDefinition> Decode(const pb::Definition& definition);

absl::StatusOr<DecodedDefinition> MarshalAndDecode(const llb::State& state,
                                                   const llb::MarshalOptions& options = {});

}  // namespace kiln::llb_testing

#endif  // KILN_SDK_LLB_TESTING_H_
