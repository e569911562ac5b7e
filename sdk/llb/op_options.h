// Per-op settings that do not change what an op does: its display name,
// cache policy, progress grouping, required capabilities, worker constraints
// and source locations. Everything here except `worker_constraints` goes into
// Definition.metadata / Definition.source, outside the op digest.
//
//   llb::OpOptions named;
//   named.custom_name = "compile protos";
//   named.source_locations.push_back({build_file, {llb::SourceRange(3, 0, 3, 40)}});
//   llb::State out = src.File(llb::Mkdir("/gen", 0755), named);
//
// Plain value types; thread-compatible. A SourceMap is shared by pointer
// because many ops point at one file.
#ifndef KILN_SDK_LLB_OP_OPTIONS_H_
#define KILN_SDK_LLB_OP_OPTIONS_H_

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "proto/llb/ops.pb.h"

namespace kiln::llb {

// Ops with the same id are shown as one step in progress output.
struct ProgressGroup {
  std::string id;
  std::string name;
  bool weak = false;
};

// A frontend source file (Dockerfile, build script) that ops point back to,
// so that errors can quote the offending lines.
struct SourceMap {
  std::string filename;
  std::string language;                      // a GitHub linguist name, e.g. "Dockerfile"
  std::string data;                          // the file's contents
  std::optional<pb::Definition> definition;  // how the file itself was built
};

struct SourceLocation {
  std::shared_ptr<const SourceMap> source_map;
  std::vector<pb::Range> ranges;
};

// A pb::Range from 1-based lines and 0-based characters.
pb::Range SourceRange(int start_line, int start_character, int end_line, int end_character);

struct OpOptions {
  // Shown in progress output; stored as description["llb.customname"].
  std::string custom_name;
  std::map<std::string, std::string> description;
  // Run the op even if its result is cached.
  bool ignore_cache = false;
  // Force (true) or forbid (false) exporting this op's result to the cache.
  std::optional<bool> export_cache;
  std::optional<ProgressGroup> progress_group;
  // Extra capability names the op requires, beyond those llb adds itself.
  std::set<std::string> caps;
  // containerd-style filters that select a worker; part of the op digest.
  std::vector<std::string> worker_constraints;
  std::vector<SourceLocation> source_locations;
};

}  // namespace kiln::llb

#endif  // KILN_SDK_LLB_OP_OPTIONS_H_
