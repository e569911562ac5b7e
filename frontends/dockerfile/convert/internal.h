// The converter's insides, shared by convert.cc (stages, args, base images),
// dispatch.cc (instructions that change the image config) and run_copy.cc
// (instructions that change the filesystem). Not part of the API.
#ifndef KILN_FRONTENDS_DOCKERFILE_CONVERT_INTERNAL_H_
#define KILN_FRONTENDS_DOCKERFILE_CONVERT_INTERNAL_H_

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "frontends/dockerfile/convert/convert.h"
#include "frontends/dockerfile/parser/parser.h"
#include "frontends/dockerfile/shell/lex.h"
#include "sdk/base/patterns.h"
#include "sdk/base/suggest.h"
#include "sdk/frontend/context.h"
#include "sdk/frontend/dockerlike.h"
#include "sdk/llb/internal/go_path.h"
#include "sdk/llb/llb.h"

namespace kiln::dockerfile::convert_internal {

using Json = nlohmann::json;

// Flags of one instruction (--name=value, --name), checked against what the
// instruction accepts.
class Flags {
 public:
  // InvalidArgument for a malformed flag or one `allowed` lacks; names
  // ending in "*" may repeat, "?" marks booleans.
  static absl::StatusOr<Flags> Parse(const std::vector<std::string>& raw,
                                     const std::vector<std::string>& allowed);
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::string Get(const std::string& name) const;
  std::vector<std::string> All(const std::string& name) const;
  // A boolean flag: --x, --x=true, --x=false. InvalidArgument otherwise.
  absl::StatusOr<bool> Bool(const std::string& name) const;

 private:
  std::multimap<std::string, std::string> values_;
  std::set<std::string> bare_;
};

// The flags of instruction `n`, checked against what it accepts.
absl::StatusOr<Flags> InstructionFlags(const Node& n);

// A --mount value split on commas, honouring double quotes as CSV does.
std::vector<std::string> CsvFields(std::string_view v);

// One RUN --mount.
struct MountSpec {
  std::string type = "bind";  // bind, cache, tmpfs, secret, ssh
  std::string from, source, target, id, sharing, env;
  bool readonly = true;
  bool required = false;
  int64_t size = 0;
  std::optional<uint32_t> mode, uid, gid;
};
// Parses a --mount value; `expand` expands variables in values.
absl::StatusOr<MountSpec> ParseMount(
    std::string_view value,
    const std::function<absl::StatusOr<std::string>(const std::string&)>& expand);

// Go's time.ParseDuration, in nanoseconds ("1m30s", "500ms").
absl::StatusOr<int64_t> ParseGoDuration(std::string_view s);

struct Stage {
  int index = 0;
  std::string name;       // lower case; empty for unnamed
  std::string base_name;  // expanded FROM argument
  std::string platform_flag;
  const Node* from = nullptr;
  std::vector<const Node*> commands;

  // Set up when the stage is dispatched.
  bool reachable = false;
  bool dispatched = false;
  Stage* base = nullptr;  // FROM another stage
  bool is_named_context = false;
  llb::State state;
  Json image = Json::object();  // the whole image config document
  std::vector<std::pair<std::string, std::optional<std::string>>> args;  // ARGs in scope
  bool cmd_set = false;
  bool workdir_set = false;  // by a WORKDIR of this stage (WorkdirRelativePath)
  int step = 0, steps = 0;   // progress numbering
};

class Converter {
 public:
  Converter(std::string_view text, const ConvertOptions& options)
      : text_(text),
        options_(options),
        context_(options.context_state, options.context_name, options.context_excludes,
                 options.session_id) {}
  absl::StatusOr<Converted> Run();

  // Shared by the dispatch files.
  absl::Status Dispatch(Stage& s, const Node& n);
  absl::Status DispatchInstruction(Stage& s, const Node& n);

 private:
  // convert.cc
  absl::Status ParseStages();
  // The global ARGs (predefined and declared before the first FROM), with
  // `build_args` in place of their defaults.
  using ArgList = std::vector<std::pair<std::string, std::string>>;
  absl::StatusOr<ArgList> MetaArgs(const std::map<std::string, std::string>& build_args) const;
  absl::StatusOr<Stage*> StageByName(const std::string& name);
  absl::Status MarkReachable(Stage& s);
  // The stage named by `from` in COPY --from / --mount from=, creating a
  // stand-in for an image when no stage has that name.
  absl::StatusOr<Stage*> SourceStage(const std::string& from, int line);
  absl::Status ResolveBase(Stage& s);
  absl::Status DispatchStage(Stage& s);
  absl::Status Triggers(Stage& s);
  // A named context's state and config, if `name` has one.
  absl::StatusOr<bool> LoadNamedContext(const std::string& name, Stage& s);
  absl::Status LoadImage(const std::string& ref, Stage& s, int line);
  absl::Status Wrap(const absl::Status& st, int line) const;
  // Unimplemented unless `wanted` ("os/arch[/variant]") is the native one.
  absl::Status CheckPlatform(const std::string& wanted) const;
  std::string Warn(int line, const std::string& msg) const;
  // SecretsUsedInArgOrEnv for `key` of an ARG or ENV.
  void WarnIfSecretName(const std::string& instruction, const std::string& key, int line);
  // The warnings `# check=` (or BUILDKIT_DOCKERFILE_CHECK) keeps; an error
  // for error=true with warnings left, or a malformed check value.
  absl::StatusOr<std::vector<std::string>> ApplyChecks() const;

  // dispatch.cc
  absl::Status Env(Stage& s, const Node& n);
  absl::Status Arg(Stage& s, const Node& n);
  absl::Status Label(Stage& s, const Node& n);
  absl::Status Expose(Stage& s, const Node& n);
  absl::Status Volume(Stage& s, const Node& n);
  absl::Status CmdOrEntrypoint(Stage& s, const Node& n, bool entrypoint);
  absl::Status Shell(Stage& s, const Node& n);
  absl::Status Healthcheck(Stage& s, const Node& n, const Flags& f);
  absl::Status User(Stage& s, const Node& n);
  absl::Status StopSignal(Stage& s, const Node& n);

  // run_copy.cc
  absl::Status Run(Stage& s, const Node& n, const Flags& f);
  absl::Status Workdir(Stage& s, const std::string& path, const Node& n);
  absl::Status Copy(Stage& s, const Node& n, const Flags& f, bool add);
  absl::StatusOr<std::vector<llb::Mount>> RunMounts(Stage& s, const Node& n, const Flags& f,
                                                    std::vector<llb::SecretEnv>* secret_env);

  // Helpers.
  // Expands `word` in the stage's environment; the variables it used that
  // are not set are kept for UndefinedVar (ReportUndefined).
  absl::StatusOr<std::string> Expand(const Stage& s, const std::string& word) const;
  // UndefinedVar for what the instruction at `line` expanded and was not
  // set, unless the stage declared it as an ARG.
  void ReportUndefined(const Stage& s, int line);
  mutable std::set<std::string> unmatched_;
  shell::Env StateEnv(const Stage& s) const;
  llb::OpOptions Op(const Stage& s, const Node& n, const std::string& name) const;
  void History(Stage& s, const std::string& created_by, bool layer);
  std::vector<std::string> Args(const Node& n) const;
  llb::State Context() const;

  std::string_view text_;
  const ConvertOptions& options_;
  Result ast_;
  shell::Lex lex_;
  std::vector<std::unique_ptr<Stage>> stages_;  // in file order, then stand-ins
  std::vector<const Node*> meta_args_;          // ARGs before the first FROM
  ArgList global_args_;
  std::shared_ptr<const llb::SourceMap> source_map_;
  std::vector<std::string> warnings_;
  std::vector<std::unique_ptr<Result>> trigger_asts_;  // ONBUILD parses, kept alive
  std::optional<PatternMatcher> ignored_;  // the context's .dockerignore, for CopyIgnoredFile
  frontend::BuildContext context_;         // the context source, following what the build reads
};

}  // namespace kiln::dockerfile::convert_internal

#endif  // KILN_FRONTENDS_DOCKERFILE_CONVERT_INTERNAL_H_
