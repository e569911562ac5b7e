// A marshaled graph as a State again: the result another frontend returned
// (Bridge::CallFrontend), or a frontend input, used as the base or source
// of new ops. Go llb's NewDefinitionOp.
//
//   KILN_ASSIGN_OR_RETURN(frontend::Result built, bridge.CallFrontend("dockerfile.v0", opts));
//   llb::State app = llb::FromDefinition(built.definition);
//   llb::State out = llb::Scratch().File(llb::Copy(app, "/app", "/app"));
//
// The ops keep their bytes, so marshaling the new graph gives them the
// digests they had (and so their cache) as long as they were serialized
// deterministically, as kiln's and BuildKit's marshalers do. Their metadata
// (names, caps, ignore-cache) comes along; source maps do not.
//
// An empty Definition is Scratch(). A malformed one (an op that does not
// parse, an input naming no op of the definition, no terminal op)
// gives a State that fails to marshal with InvalidArgument saying what is
// wrong. Thread-safe.
#ifndef KILN_SDK_LLB_DEFINITION_H_
#define KILN_SDK_LLB_DEFINITION_H_

#include "proto/llb/ops.pb.h"
#include "sdk/llb/state.h"

namespace kiln::llb {

State FromDefinition(const pb::Definition& def);

}  // namespace kiln::llb

#endif  // KILN_SDK_LLB_DEFINITION_H_
