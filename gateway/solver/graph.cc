#include "gateway/solver/graph.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sdk/base/digest.h"
#include "sdk/base/status_macros.h"

namespace kiln::solver {
namespace {

std::string Short(const std::string& digest) {
  return std::string(DigestHex(digest).substr(0, 12));
}

std::string Describe(const std::string& digest, const pb::Op& op,
                     const std::map<std::string, pb::OpMetadata>& metadata) {
  auto it = metadata.find(digest);
  if (it != metadata.end()) {
    auto name = it->second.description().find("llb.customname");
    if (name != it->second.description().end()) return name->second;
  }
  return Summarize(op);
}

std::string Location(const std::string& digest, const pb::Source& source) {
  auto it = source.locations().find(digest);
  if (it == source.locations().end()) return "";
  for (const pb::Location& loc : it->second.locations()) {
    if (loc.sourceindex() < 0 || loc.sourceindex() >= source.infos_size()) continue;
    const pb::SourceInfo& info = source.infos(loc.sourceindex());
    if (loc.ranges_size() > 0) {
      return absl::StrCat(info.filename(), ":", loc.ranges(0).start().line());
    }
    return info.filename();
  }
  return "";
}

}  // namespace

int NumOutputs(const pb::Op& op) {
  switch (op.op_case()) {
    case pb::Op::kExec: {
      int64_t n = 0;
      for (const pb::Mount& m : op.exec().mounts()) n = std::max(n, m.output() + 1);
      return static_cast<int>(n);
    }
    case pb::Op::kFile: {
      int64_t n = 0;
      for (const pb::FileAction& a : op.file().actions()) n = std::max(n, a.output() + 1);
      return static_cast<int>(n);
    }
    default:
      return 1;
  }
}

std::string Summarize(const pb::Op& op) {
  switch (op.op_case()) {
    case pb::Op::kSource:
      return op.source().identifier();
    case pb::Op::kExec:
      return absl::StrJoin(op.exec().meta().args(), " ");
    case pb::Op::kFile: {
      std::vector<std::string> parts;
      for (const pb::FileAction& a : op.file().actions()) {
        switch (a.action_case()) {
          case pb::FileAction::kCopy:
            parts.push_back(absl::StrCat("copy ", a.copy().src(), " ", a.copy().dest()));
            break;
          case pb::FileAction::kMkfile:
            parts.push_back("mkfile " + a.mkfile().path());
            break;
          case pb::FileAction::kMkdir:
            parts.push_back("mkdir " + a.mkdir().path());
            break;
          case pb::FileAction::kRm:
            parts.push_back("rm " + a.rm().path());
            break;
          case pb::FileAction::kSymlink:
            parts.push_back(
                absl::StrCat("symlink ", a.symlink().oldpath(), " -> ", a.symlink().newpath()));
            break;
          default:
            parts.push_back("unknown file action");
        }
      }
      return absl::StrJoin(parts, ", ");
    }
    case pb::Op::kMerge:
      return absl::StrCat("merge (", op.merge().inputs_size(), " inputs)");
    case pb::Op::kDiff:
      return "diff";
    case pb::Op::kBuild:
      return "build";
    default:
      return "op";
  }
}

absl::StatusOr<Graph> BuildGraph(const std::map<std::string, pb::Op>& ops,
                                 const std::string& terminal,
                                 const std::map<std::string, pb::OpMetadata>& metadata,
                                 const pb::Source& source) {
  for (const auto& [digest, md] : metadata) {
    if (!ops.count(digest)) {
      return absl::InvalidArgumentError(absl::StrCat("definition metadata names op ", digest,
                                                     ", which is not in the definition"));
    }
  }
  const pb::Op& term = ops.at(terminal);
  if (term.op_case() != pb::Op::OP_NOT_SET || term.inputs_size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the last op of a definition must be the terminal (no body, one input); op ",
        Short(terminal), " (", Summarize(term), ") has ", term.inputs_size(), " inputs"));
  }
  Graph g;
  g.source = source;
  std::map<std::string, int> index;  // digest -> vertex index, once placed
  std::map<std::string, int> state;  // 1 = on the DFS stack
  std::function<absl::Status(const std::string&)> visit =
      [&](const std::string& d) -> absl::Status {
    if (index.count(d)) return absl::OkStatus();
    const pb::Op& op = ops.at(d);
    std::string name = Describe(d, op, metadata);
    if (state[d] == 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("definition has a cycle through op ", Short(d), " (", name, ")"));
    }
    if (op.op_case() == pb::Op::OP_NOT_SET) {
      return absl::InvalidArgumentError(
          absl::StrCat("op ", Short(d), " has no body; only the last op may be a terminal"));
    }
    state[d] = 1;
    Vertex v;
    for (int i = 0; i < op.inputs_size(); ++i) {
      const pb::Input& in = op.inputs(i);
      auto it = ops.find(in.digest());
      if (it == ops.end()) {
        return absl::InvalidArgumentError(absl::StrCat("op ", Short(d), " (", name, ") input ", i,
                                                       " refers to ", in.digest(),
                                                       ", which is not in the definition"));
      }
      KILN_RETURN_IF_ERROR(visit(in.digest()));
      int from = index.at(in.digest());
      if (in.index() < 0 || in.index() >= g.vertices[from].num_outputs) {
        return absl::InvalidArgumentError(absl::StrCat(
            "op ", Short(d), " (", name, ") input ", i, " asks for output ", in.index(), " of op ",
            Short(in.digest()), ", which has ", g.vertices[from].num_outputs));
      }
      v.inputs.push_back({from, in.index()});
    }
    state[d] = 2;
    v.digest = d;
    v.op = op;
    auto md = metadata.find(d);
    if (md != metadata.end()) v.metadata = md->second;
    v.name = name;
    v.location = Location(d, source);
    v.num_outputs = NumOutputs(op);
    index[d] = static_cast<int>(g.vertices.size());
    g.vertices.push_back(std::move(v));
    return absl::OkStatus();
  };
  const pb::Input& result = term.inputs(0);
  if (!ops.count(result.digest())) {
    return absl::InvalidArgumentError(absl::StrCat("the terminal op refers to ", result.digest(),
                                                   ", which is not in the definition"));
  }
  KILN_RETURN_IF_ERROR(visit(result.digest()));
  int from = index.at(result.digest());
  if (result.index() < 0 || result.index() >= g.vertices[from].num_outputs) {
    return absl::InvalidArgumentError(
        absl::StrCat("the terminal op asks for output ", result.index(), " of op ",
                     Short(result.digest()), ", which has ", g.vertices[from].num_outputs));
  }
  g.result = InputRef{from, result.index()};
  return g;
}

absl::StatusOr<Graph> LoadDefinition(const pb::Definition& def) {
  if (def.def_size() == 0) {
    if (def.metadata_size() > 0) {
      return absl::InvalidArgumentError("an empty definition cannot carry metadata");
    }
    return Graph{};
  }
  std::map<std::string, pb::Op> ops;
  std::string terminal;
  for (int i = 0; i < def.def_size(); ++i) {
    pb::Op op;
    if (!op.ParseFromString(def.def(i))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "definition op #", i, " is not a valid pb.Op (", def.def(i).size(), " bytes)"));
    }
    terminal = DigestOf(def.def(i));
    ops.emplace(terminal, std::move(op));
  }
  std::map<std::string, pb::OpMetadata> metadata(def.metadata().begin(), def.metadata().end());
  return BuildGraph(ops, terminal, metadata, def.source());
}

absl::StatusOr<Graph> LoadDefinitionBytes(std::string_view bytes) {
  pb::Definition def;
  if (!def.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(absl::StrCat("not a serialized pb.Definition (", bytes.size(),
                                                   " bytes could not be parsed)"));
  }
  return LoadDefinition(def);
}

}  // namespace kiln::solver
