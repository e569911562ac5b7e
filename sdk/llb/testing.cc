#include "sdk/llb/testing.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "sdk/base/digest.h"
#include "sdk/base/status_macros.h"

namespace kiln::llb_testing {

const pb::Op* DecodedDefinition::Find(const std::string& digest) const {
  for (size_t i = 0; i < digests.size(); ++i) {
    if (digests[i] == digest) return &ops[i];
  }
  return nullptr;
}

absl::StatusOr<DecodedDefinition> Decode(const pb::Definition& definition) {
  DecodedDefinition out;
  out.definition = definition;
  for (int i = 0; i < definition.def_size(); ++i) {
    pb::Op op;
    if (!op.ParseFromString(definition.def(i))) {
      return absl::InvalidArgumentError(absl::StrCat("def[", i, "] is not a pb.Op"));
    }
    out.ops.push_back(std::move(op));
    out.digests.push_back(DigestOf(definition.def(i)));
  }
  return out;
}

absl::StatusOr<DecodedDefinition> MarshalAndDecode(const llb::State& state,
                                                   const llb::MarshalOptions& options) {
  KILN_ASSIGN_OR_RETURN(pb::Definition def, llb::Marshal(state, options));
  return Decode(def);
}

}  // namespace kiln::llb_testing
