// The YAML build language, version 1: reading and validating a spec.
//
//   yamlspec::ReadOptions o;
//   o.filename = "kiln.yaml";
//   o.build_args = {{"BASE", "busybox"}};
//   KILN_ASSIGN_OR_RETURN(yamlspec::Spec spec, yamlspec::Read(text, o));
//   for (const yamlspec::Stage& s : spec.stages) ...
//
// Read checks everything that can be checked without running anything:
// unknown keys (with "did you mean"), wrong types, missing required keys,
// stages that depend on themselves, unknown stages, build args that are
// unset with no default, bad mode strings. It reports every error of the
// spec at once, one per line, each "FILE:LINE:COL: message".
//
// Strings come out expanded: "${NAME}" and "${NAME:-default}" are build
// args, "$$" is a literal "$", and any other "$" is left alone (so shell
// variables in `run` reach the shell).
#ifndef KILN_FRONTENDS_YAML_SPEC_SPEC_H_
#define KILN_FRONTENDS_YAML_SPEC_SPEC_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::yamlspec {

struct Pos {
  int line = 0, col = 0;
};

// A string value of the spec, expanded, with where it was written.
struct Str {
  std::string value;
  Pos pos;
  bool set = false;  // the key was given
};

using Pairs = std::vector<std::pair<std::string, std::string>>;  // in file order

// Where a copy, add or mount reads from.
struct Source {
  enum class Kind { kContext, kStage, kImage };
  Kind kind = Kind::kContext;
  std::string name;  // the stage or image reference
  Pos pos;
};

struct Mount {
  std::string type;  // bind, cache, tmpfs, secret, ssh
  Pos pos;
  Str target, source, id, sharing, env;
  Source from;
  bool from_set = false;
  std::optional<bool> readonly;
  bool required = false;
  int64_t size = 0;
  std::optional<uint32_t> mode, uid, gid;
};

struct Step {
  std::string verb;  // run, copy, add, mkdir, file, rm, symlink
  Pos pos;
  std::vector<Str> args;   // run: the shell command or exec args; copy, add: sources;
                           // the others: one path
  bool exec_form = false;  // run given as a list
  // run
  Pairs env;
  Str workdir, user, network;
  std::vector<Mount> mounts;
  // copy, add
  Str to, chown, chmod, checksum;
  Source from;
  bool from_set = false;
  std::vector<std::string> exclude;
  bool link = false, keep_git_dir = false;
  // mkdir, file, rm, symlink
  std::optional<uint32_t> mode;
  Str owner, content, target;
  bool parents = true, allow_not_found = false;
};

struct Image {
  std::optional<std::vector<std::string>> entrypoint, cmd;
  bool entrypoint_shell = false, cmd_shell = false;  // given as a string
  Pairs env, labels;
  std::vector<std::string> expose, volumes;
  Str user, workdir, stopsignal;
};

struct Stage {
  std::string name;
  Pos pos;
  Str from;     // as written, expanded
  Source base;  // what `from` names (kContext means scratch)
  bool scratch = false;
  Pairs env;
  Str workdir, user;
  std::vector<Step> steps;
  Image image;
};

struct Spec {
  std::vector<Stage> stages;  // in file order
  // The build args in force, after --build-arg overrides (unset ones left out).
  std::map<std::string, std::string> args;
  // A stage by name, or nullptr.
  const Stage* Find(const std::string& name) const;
};

struct ReadOptions {
  std::string filename = "kiln.yaml";
  std::map<std::string, std::string> build_args;
};

// InvalidArgument listing every error, one "FILE:LINE:COL: message" per line.
absl::StatusOr<Spec> Read(std::string_view text, const ReadOptions& options);

// A JSON Schema (draft 7) of the language, for editors. Generated from the
// same key tables Read checks against.
std::string JsonSchema();

}  // namespace kiln::yamlspec

#endif  // KILN_FRONTENDS_YAML_SPEC_SPEC_H_
