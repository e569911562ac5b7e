// Graph: a validated LLB Definition, ready to schedule.
//
// Loading checks what a client can get wrong: every op parses, input digests
// name ops of the definition and outputs they have, metadata names ops that
// exist, nothing is cyclic, and the last op is the terminal (no body, one
// input). Failures are InvalidArgument naming the op by digest and name.
// Digests are always computed from the op bytes, never trusted.
//
// Vertices are in dependency order (inputs first). Immutable after loading.
#ifndef KILN_GATEWAY_SOLVER_GRAPH_H_
#define KILN_GATEWAY_SOLVER_GRAPH_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/llb/ops.pb.h"

namespace kiln::solver {

struct InputRef {
  int vertex = 0;  // index into Graph::vertices
  int64_t output = 0;
};

struct Vertex {
  std::string digest;
  pb::Op op;
  pb::OpMetadata metadata;
  std::vector<InputRef> inputs;
  std::string name;      // llb.customname, or a summary of the op
  std::string location;  // "file:line" of the source that made it, if known
  int num_outputs = 1;
};

struct Graph {
  std::vector<Vertex> vertices;
  // The result; nullopt for an empty definition (scratch).
  std::optional<InputRef> result;
  pb::Source source;
};

// Parses and validates serialized pb.Definition bytes.
absl::StatusOr<Graph> LoadDefinitionBytes(std::string_view bytes);
absl::StatusOr<Graph> LoadDefinition(const pb::Definition& def);

// Ops keyed by digest, as if already hashed: the validation shared by
// LoadDefinition, exposed so tests can build graphs the hash forbids (a
// cycle). `terminal` is the digest of the terminal op.
absl::StatusOr<Graph> BuildGraph(const std::map<std::string, pb::Op>& ops,
                                 const std::string& terminal,
                                 const std::map<std::string, pb::OpMetadata>& metadata,
                                 const pb::Source& source);

// How many outputs an op has (exec: mounts with an output; file: action
// outputs; others: one).
int NumOutputs(const pb::Op& op);

// A short human description of an op ("mkfile /a", "local://context").
std::string Summarize(const pb::Op& op);

}  // namespace kiln::solver

#endif  // KILN_GATEWAY_SOLVER_GRAPH_H_
