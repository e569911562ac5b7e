// Layer algebra: Merge stacks filesystems, Diff extracts what changed.
//
//   llb::State base = llb::Image("alpine");
//   llb::State with_tools = base.Run(install_tools).Root();
//   llb::State with_app = base.File(llb::Copy(ctx, "/app", "/app"));
//   // Independent changes on a shared base, combined without re-copying:
//   llb::State both = llb::Merge({base, llb::Diff(base, with_tools),
//                                 llb::Diff(base, with_app)});
//
// As in Go's llb, scratch inputs are dropped from a Merge (a Merge of one
// state is that state, of none is Scratch()), and a Diff from scratch is
// simply the upper state. The result carries the first (Merge) or lower
// (Diff) input's env, dir and user. Thread-safe.
#ifndef KILN_SDK_LLB_MERGE_DIFF_H_
#define KILN_SDK_LLB_MERGE_DIFF_H_

#include <vector>

#include "sdk/llb/op_options.h"
#include "sdk/llb/state.h"

namespace kiln::llb {

// `inputs` layered in order; later ones win where paths collide.
State Merge(const std::vector<State>& inputs, const OpOptions& options = {});

// The changes that turn `lower` into `upper`, including deletions.
State Diff(const State& lower, const State& upper, const OpOptions& options = {});

}  // namespace kiln::llb

#endif  // KILN_SDK_LLB_MERGE_DIFF_H_
