// Stages, global ARGs, reachability and base images: the frame the
// instructions of dispatch.cc and run_copy.cc are dispatched in.
#include "frontends/dockerfile/convert/convert.h"

#include <algorithm>
#include <functional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "frontends/dockerfile/convert/internal.h"
#include "sdk/base/status_macros.h"
#include "sdk/llb/image_ref.h"

namespace kiln::dockerfile {
namespace convert_internal {
namespace {

const std::vector<std::string>& InstructionNames() {
  static const std::vector<std::string> kNames = {
      "ADD",    "ARG",   "CMD",         "COPY",  "ENTRYPOINT", "ENV",
      "EXPOSE", "FROM",  "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD",
      "RUN",    "SHELL", "STOPSIGNAL",  "USER",  "VOLUME",     "WORKDIR"};
  return kNames;
}

bool IsValidStageName(const std::string& n) {
  if (n.empty() || !(n[0] >= 'a' && n[0] <= 'z')) return false;
  for (char c : n) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status Converter::Wrap(const absl::Status& st, int line) const {
  if (st.ok()) return st;
  std::string msg(st.message());
  if (absl::StartsWith(msg, options_.filename + ":")) return st;  // already placed
  std::vector<absl::string_view> lines =
      absl::StrSplit(absl::string_view(text_.data(), text_.size()), '\n');
  std::string shown;
  if (line >= 1 && line <= static_cast<int>(lines.size())) {
    shown = absl::StrCat("\n  ", line, " | ", lines[line - 1]);
  }
  return absl::Status(st.code(), absl::StrCat(options_.filename, ":", line, ": ", msg, shown));
}

// Names that hold a secret, as BuildKit's SecretsUsedInArgOrEnv sees them:
// one of their words (split at "_", any case) is a secret word, and none is
// an allowed one ("API_TOKEN" is one; "PUBLIC_KEY" and "GPG_KEY_FILE" are
// not).
void Converter::WarnIfSecretName(const std::string& instruction, const std::string& key, int line) {
  static const std::set<std::string> kSecret = {"apikey", "auth",     "credential", "credentials",
                                                "key",    "password", "pword",      "passwd",
                                                "secret", "token"};
  static const std::set<std::string> kAllowed = {"public", "file", "version"};
  std::vector<std::string> words = absl::StrSplit(absl::AsciiStrToLower(key), '_');
  bool secret = false, allowed = false;
  for (const std::string& w : words) {
    secret = secret || kSecret.count(w) > 0;
    allowed = allowed || kAllowed.count(w) > 0;
  }
  if (secret && !allowed) {
    warnings_.push_back(Warn(line, absl::StrCat("SecretsUsedInArgOrEnv: Do not use ARG or ENV "
                                                "instructions for sensitive data (",
                                                instruction, " \"", key, "\")")));
  }
}

std::string Converter::Warn(int line, const std::string& msg) const {
  return absl::StrCat(options_.filename, ":", line, ": ", msg);
}

// The `# check=` directive, or the BUILDKIT_DOCKERFILE_CHECK build arg in
// its place: "skip=Rule1,Rule2" (or skip=all) drops those warnings;
// "error=true" fails the build, before anything runs, when any is left.
// Options are separated by ';'. Rule names are case-sensitive.
absl::StatusOr<std::vector<std::string>> Converter::ApplyChecks() const {
  std::string config;
  int line = 1;
  for (const Directive& d : ast_.directives) {
    if (d.name == "check") {
      config = d.value;
      line = d.line;
    }
  }
  auto arg = options_.build_args.find("BUILDKIT_DOCKERFILE_CHECK");
  if (arg != options_.build_args.end()) config = arg->second;
  std::set<std::string> skip;
  bool skip_all = false, error = false;
  for (absl::string_view opt : absl::StrSplit(config, ';', absl::SkipWhitespace())) {
    opt = absl::StripAsciiWhitespace(opt);
    size_t eq = opt.find('=');
    std::string key(absl::StripAsciiWhitespace(opt.substr(0, eq)));
    std::string value(
        eq == absl::string_view::npos ? "" : absl::StripAsciiWhitespace(opt.substr(eq + 1)));
    if (key == "skip") {
      for (absl::string_view r : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
        std::string rule(absl::StripAsciiWhitespace(r));
        if (rule == "all") skip_all = true;
        skip.insert(rule);
      }
    } else if (key == "error") {
      if (value != "true" && value != "false") {
        return Wrap(absl::InvalidArgumentError(
                        absl::StrCat("check: error=", value, ": want true or false")),
                    line);
      }
      error = value == "true";
    } else {
      return Wrap(absl::InvalidArgumentError(absl::StrCat("check: unknown option \"", key,
                                                          "\" (want skip=RULES or error=true)")),
                  line);
    }
  }
  std::vector<std::string> kept;
  std::set<std::string> rules;
  for (const std::string& w : warnings_) {
    // "FILE:LINE: Rule: message"
    size_t at = w.find(": ");
    std::string rest = at == std::string::npos ? w : w.substr(at + 2);
    std::string rule = rest.substr(0, rest.find(':'));
    if (skip_all || skip.count(rule)) continue;
    kept.push_back(w);
    rules.insert(rule);
  }
  if (error && !kept.empty()) {
    return Wrap(absl::InvalidArgumentError(
                    absl::StrCat("lint violation found for rules: ", absl::StrJoin(rules, ", "),
                                 "\n  ", absl::StrJoin(kept, "\n  "))),
                line);
  }
  return kept;
}

absl::Status Converter::ParseStages() {
  for (const Node& n : ast_.ast.children) {
    std::string cmd = absl::AsciiStrToUpper(n.value);
    const std::vector<std::string>& names = InstructionNames();
    if (std::find(names.begin(), names.end(), cmd) == names.end()) {
      std::string hint = Suggest(cmd, names);
      return Wrap(absl::InvalidArgumentError(absl::StrCat(
                      "unknown instruction: ", n.value,
                      hint.empty() ? "" : absl::StrCat(" (did you mean ", hint, "?)"))),
                  n.start_line);
    }
    if (cmd == "FROM") {
      std::vector<std::string> args = Args(n);
      auto stage = std::make_unique<Stage>();
      stage->index = static_cast<int>(stages_.size());
      stage->from = &n;
      if (args.size() == 3 && absl::EqualsIgnoreCase(args[1], "as")) {
        stage->name = absl::AsciiStrToLower(args[2]);
        if (!IsValidStageName(stage->name)) {
          return Wrap(absl::InvalidArgumentError(
                          absl::StrCat("invalid name for build stage: \"", args[2],
                                       "\", name can't start with a number or contain symbols")),
                      n.start_line);
        }
        if (args[2] != stage->name) {
          warnings_.push_back(Warn(n.start_line, absl::StrCat("StageNameCasing: Stage name '",
                                                              args[2], "' should be lowercase")));
        }
        // FROM and AS cased alike (a mixed-case FROM is the next rule's).
        bool from_lower = n.value == absl::AsciiStrToLower(n.value);
        bool from_upper = n.value == absl::AsciiStrToUpper(n.value);
        if ((from_lower && args[1] != absl::AsciiStrToLower(args[1])) ||
            (from_upper && args[1] != absl::AsciiStrToUpper(args[1]))) {
          warnings_.push_back(
              Warn(n.start_line, absl::StrCat("FromAsCasing: '", args[1], "' and '", n.value,
                                              "' keywords' casing do not match")));
        }
        if (stage->name == "context" || stage->name == "scratch") {
          warnings_.push_back(Warn(
              n.start_line, absl::StrCat("ReservedStageName: Stage name should not use the same "
                                         "name as reserved stage \"",
                                         stage->name, "\"")));
        }
        for (const auto& other : stages_) {
          if (other->name == stage->name) {
            return Wrap(absl::InvalidArgumentError(
                            absl::StrCat("duplicate stage name \"", stage->name, "\"")),
                        n.start_line);
          }
        }
      } else if (args.size() != 1) {
        return Wrap(absl::InvalidArgumentError("FROM requires either one or three arguments"),
                    n.start_line);
      }
      absl::StatusOr<Flags> f = InstructionFlags(n);
      if (!f.ok()) return Wrap(f.status(), n.start_line);
      stage->platform_flag = f->Get("platform");
      stage->base_name = args[0];
      stages_.push_back(std::move(stage));
    } else if (stages_.empty()) {
      if (cmd != "ARG") {
        return Wrap(
            absl::InvalidArgumentError(absl::StrCat("no build stage in current context: ", cmd,
                                                    " comes before the first FROM (only ARG may)")),
            n.start_line);
      }
      meta_args_.push_back(&n);
    } else {
      stages_.back()->commands.push_back(&n);
    }
  }
  if (stages_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(options_.filename, ": dockerfile contains no stages to build"));
  }
  // ConsistentInstructionCasing: each instruction of the stages cased as
  // most of them are (all lower or all upper counts; "Run" counts as
  // neither and is always off).
  int lower = 0, upper = 0;
  auto each_instruction = [&](const std::function<void(const Node&)>& fn) {
    for (const auto& st : stages_) {
      fn(*st->from);
      for (const Node* c : st->commands) fn(*c);
    }
  };
  each_instruction([&](const Node& n) {
    if (n.value == absl::AsciiStrToLower(n.value)) {
      ++lower;
    } else if (n.value == absl::AsciiStrToUpper(n.value)) {
      ++upper;
    }
  });
  const bool majority_lower = lower > upper;
  each_instruction([&](const Node& n) {
    const std::string want =
        majority_lower ? absl::AsciiStrToLower(n.value) : absl::AsciiStrToUpper(n.value);
    if (n.value != want) {
      warnings_.push_back(
          Warn(n.start_line, absl::StrCat("ConsistentInstructionCasing: Command '", n.value,
                                          "' should match the case of the command majority (",
                                          majority_lower ? "lowercase" : "uppercase", ")")));
    }
  });
  return absl::OkStatus();
}

absl::StatusOr<Converter::ArgList> Converter::MetaArgs(
    const std::map<std::string, std::string>& build_args) const {
  ArgList args;
  llb::Platform p = options_.platform.Normalized();
  std::string target = options_.target;
  if (target.empty()) target = stages_.back()->name;
  if (target.empty()) target = "default";
  const std::pair<const char*, std::string> defaults[] = {{"BUILDPLATFORM", p.ToString()},
                                                          {"BUILDOS", p.os},
                                                          {"BUILDOSVERSION", p.os_version},
                                                          {"BUILDARCH", p.architecture},
                                                          {"BUILDVARIANT", p.variant},
                                                          {"TARGETPLATFORM", p.ToString()},
                                                          {"TARGETOS", p.os},
                                                          {"TARGETOSVERSION", p.os_version},
                                                          {"TARGETARCH", p.architecture},
                                                          {"TARGETVARIANT", p.variant},
                                                          {"TARGETSTAGE", target}};
  auto set = [&](const std::string& k, const std::string& v) {
    for (auto& kv : args) {
      if (kv.first == k) {
        kv.second = v;
        return;
      }
    }
    args.emplace_back(k, v);
  };
  for (const auto& [k, v] : defaults) {
    auto o = build_args.find(k);
    set(k, o != build_args.end() ? o->second : v);
  }
  for (const Node* n : meta_args_) {
    for (const std::string& arg : Args(*n)) {
      size_t eq = arg.find('=');
      std::string key = arg.substr(0, eq);
      if (key.empty()) {
        return Wrap(absl::InvalidArgumentError("ARG names can not be blank"), n->start_line);
      }
      auto given = build_args.find(key);
      if (given != build_args.end()) {
        set(key, given->second);
      } else if (eq != std::string::npos) {
        shell::Env env;
        for (const auto& [k, v] : args) env.Set(k, v);
        absl::StatusOr<std::string> v = lex_.ProcessWord(arg.substr(eq + 1), env);
        if (!v.ok()) return Wrap(v.status(), n->start_line);
        set(key, *v);
      }
    }
  }
  return args;
}

absl::StatusOr<Stage*> Converter::StageByName(const std::string& name) {
  std::string l = absl::AsciiStrToLower(name);
  for (const auto& s : stages_) {
    if (!s->name.empty() && s->name == l && s->from != nullptr) return s.get();
  }
  return absl::NotFoundError(name);
}

absl::StatusOr<Stage*> Converter::SourceStage(const std::string& from, int line) {
  int index;
  if (absl::SimpleAtoi(from, &index)) {
    if (index < 0 || index >= static_cast<int>(stages_.size()) || stages_[index]->from == nullptr) {
      return Wrap(absl::InvalidArgumentError(absl::StrCat("invalid stage index ", from)), line);
    }
    return stages_[index].get();
  }
  absl::StatusOr<Stage*> named = StageByName(from);
  if (named.ok()) return *named;
  for (const auto& s : stages_) {  // a stand-in made before
    if (s->from == nullptr && s->base_name == from) return s.get();
  }
  auto stage = std::make_unique<Stage>();
  stage->index = static_cast<int>(stages_.size());
  stage->base_name = from;
  stages_.push_back(std::move(stage));
  return stages_.back().get();
}

absl::Status Converter::MarkReachable(Stage& s) {
  if (s.reachable) return absl::OkStatus();
  s.reachable = true;
  if (s.from == nullptr) return absl::OkStatus();  // an image stand-in
  if (options_.named_contexts.count(s.name) && !s.name.empty()) return absl::OkStatus();
  absl::StatusOr<Stage*> base = StageByName(s.base_name);
  if (base.ok() && (*base)->index < s.index) {
    s.base = *base;
    KILN_RETURN_IF_ERROR(MarkReachable(**base));
  }
  for (const Node* n : s.commands) {
    std::string cmd = absl::AsciiStrToUpper(n->value);
    if (cmd != "COPY" && cmd != "RUN") continue;
    absl::StatusOr<Flags> f = InstructionFlags(*n);
    if (!f.ok()) return Wrap(f.status(), n->start_line);
    std::vector<std::string> froms;
    if (cmd == "COPY" && f->Has("from")) froms.push_back(f->Get("from"));
    for (const std::string& m : f->All("mount")) {
      for (const std::string& field : CsvFields(m)) {
        if (absl::StartsWith(absl::AsciiStrToLower(field), "from="))
          froms.push_back(field.substr(5));
      }
    }
    for (const std::string& from : froms) {
      if (from.find('$') != std::string::npos) {
        return Wrap(absl::InvalidArgumentError(
                        "variable expansion is not supported for --from, define a new stage "
                        "with FROM using ARG from global scope as a workaround"),
                    n->start_line);
      }
      KILN_ASSIGN_OR_RETURN(Stage * src, SourceStage(from, n->start_line));
      if (src == &s || (src->from != nullptr && src->index > s.index)) {
        return Wrap(absl::InvalidArgumentError(absl::StrCat("cannot copy from stage \"", from,
                                                            "\", it needs to be defined before "
                                                            "current stage")),
                    n->start_line);
      }
      KILN_RETURN_IF_ERROR(MarkReachable(*src));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> Converter::LoadNamedContext(const std::string& name, Stage& s) {
  std::string key = name;
  auto it = options_.named_contexts.find(key);
  if (it == options_.named_contexts.end()) {
    // Image names match in their familiar form too (busybox for
    // docker.io/library/busybox:latest).
    absl::StatusOr<std::string> norm = llb::NormalizeImageRef(name);
    if (!norm.ok()) return false;
    std::string familiar = *norm;
    for (const char* prefix : {"docker.io/library/", "docker.io/"}) {
      if (absl::StartsWith(familiar, prefix)) {
        familiar = familiar.substr(strlen(prefix));
        break;
      }
    }
    if (absl::EndsWith(familiar, ":latest")) familiar.resize(familiar.size() - 7);
    it = options_.named_contexts.find(familiar);
    if (it == options_.named_contexts.end()) return false;
  }
  const std::string& v = it->second;
  if (absl::StartsWith(v, "docker-image://")) {
    KILN_RETURN_IF_ERROR(LoadImage(v.substr(strlen("docker-image://")), s, 0));
  } else if (absl::StartsWith(v, "local:")) {
    llb::LocalOptions lo;
    lo.op.custom_name = absl::StrCat("[context ", name, "] load from client");
    lo.session_id = options_.session_id;
    s.state = llb::Local(v.substr(6), lo);
    s.image = frontend::EmptyImageConfig();
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("named context ", name, "=", v, ": want docker-image://REF or local:NAME"));
  }
  return true;
}

absl::Status Converter::LoadImage(const std::string& ref, Stage& s, int line) {
  if (!options_.resolve_image) {
    return absl::FailedPreconditionError("no image resolver to look up " + ref);
  }
  absl::StatusOr<frontend::ResolvedImage> img = options_.resolve_image(ref);
  if (!img.ok()) return Wrap(img.status(), line);
  return Wrap(frontend::LoadBaseImage(*img, options_.platform, &s.state, &s.image), line);
}

absl::Status Converter::ResolveBase(Stage& s) {
  int line = s.from != nullptr ? s.from->start_line : 0;
  if (s.from == nullptr) {  // an image named by COPY --from / --mount from=
    KILN_ASSIGN_OR_RETURN(bool named, LoadNamedContext(s.base_name, s));
    if (!named) KILN_RETURN_IF_ERROR(LoadImage(s.base_name, s, 0));
    return absl::OkStatus();
  }
  if (!s.name.empty()) {
    // A named context of the stage's own name replaces the whole stage.
    KILN_ASSIGN_OR_RETURN(s.is_named_context, LoadNamedContext(s.name, s));
    if (s.is_named_context) return absl::OkStatus();
  }
  if (s.base != nullptr) {
    s.state = s.base->state;
    s.image = s.base->image;
    s.args = s.base->args;
    return absl::OkStatus();
  }
  if (s.base_name == "scratch") {
    s.state = llb::Scratch();
    s.image = frontend::EmptyImageConfig();
    return absl::OkStatus();
  }
  KILN_ASSIGN_OR_RETURN(bool named, LoadNamedContext(s.base_name, s));
  if (named) return absl::OkStatus();
  return LoadImage(s.base_name, s, line);
}

absl::Status Converter::DispatchStage(Stage& s) {
  KILN_RETURN_IF_ERROR(ResolveBase(s));
  s.dispatched = true;
  if (s.is_named_context || s.from == nullptr) return absl::OkStatus();
  if (s.base == nullptr) {
    frontend::ApplyBaseConfig(options_.platform, &s.image, &s.state);
  } else {
    frontend::AddDefaultPath(&s.image);
  }
  KILN_RETURN_IF_ERROR(Triggers(s));
  for (const Node* n : s.commands) {
    KILN_RETURN_IF_ERROR(Wrap(Dispatch(s, *n), n->start_line));
  }
  return absl::OkStatus();
}

// ONBUILD triggers of an image the stage starts from run first, then leave
// the config.
absl::Status Converter::Triggers(Stage& s) {
  Json& config = s.image["config"];
  if (!config.contains("OnBuild") || !config["OnBuild"].is_array()) return absl::OkStatus();
  Json triggers = config["OnBuild"];
  config.erase("OnBuild");
  for (const Json& t : triggers) {
    if (!t.is_string()) continue;
    std::string expr = t.get<std::string>();
    absl::StatusOr<Result> parsed = Parse(expr);
    if (!parsed.ok() || parsed->ast.children.size() != 1) {
      return Wrap(absl::InvalidArgumentError(
                      absl::StrCat("invalid ONBUILD trigger \"", expr, "\" in the base image")),
                  s.from->start_line);
    }
    std::string cmd = absl::AsciiStrToUpper(parsed->ast.children[0].value);
    if (cmd == "ONBUILD" || cmd == "FROM" || cmd == "MAINTAINER") {
      return Wrap(
          absl::InvalidArgumentError(absl::StrCat(cmd, " isn't allowed as an ONBUILD trigger")),
          s.from->start_line);
    }
    trigger_asts_.push_back(std::make_unique<Result>(std::move(*parsed)));
    Node& n = trigger_asts_.back()->ast.children[0];
    n.start_line = n.end_line = s.from->start_line;
    KILN_RETURN_IF_ERROR(Wrap(Dispatch(s, n), s.from->start_line));
  }
  return absl::OkStatus();
}

absl::Status Converter::CheckPlatform(const std::string& wanted) const {
  return llb::CheckNativePlatform(wanted, options_.platform);
}

absl::StatusOr<Converted> Converter::Run() {
  absl::StatusOr<Result> parsed = Parse(text_);
  if (!parsed.ok()) {
    std::string msg(parsed.status().message());
    if (options_.filename != "Dockerfile" && absl::StartsWith(msg, "Dockerfile:")) {
      msg = options_.filename + msg.substr(strlen("Dockerfile"));
    }
    return absl::Status(parsed.status().code(), msg);
  }
  ast_ = std::move(*parsed);
  lex_ = shell::Lex(ast_.escape_token);
  for (const Warning& w : ast_.warnings) {
    warnings_.push_back(Warn(w.line, "NoEmptyContinuation: " + w.short_text));
  }
  auto sm = std::make_shared<llb::SourceMap>();
  sm->filename = options_.filename;
  sm->language = "Dockerfile";
  sm->data = std::string(text_);
  source_map_ = sm;
  if (!options_.target_platform.empty()) {
    KILN_RETURN_IF_ERROR(CheckPlatform(options_.target_platform));
  }
  KILN_RETURN_IF_ERROR(ParseStages());
  KILN_ASSIGN_OR_RETURN(global_args_, MetaArgs(options_.build_args));
  if (!options_.context_excludes.empty()) {
    // Bad patterns fail the context's transfer, with their own error.
    absl::StatusOr<PatternMatcher> ignored = PatternMatcher::Create(options_.context_excludes);
    if (ignored.ok()) ignored_ = std::move(*ignored);
  }
  shell::Env globals;
  for (const auto& [k, v] : global_args_) globals.Set(k, v);
  // UndefinedArgInFrom: what FROM may use is the ARGs declared before it
  // (with a value or not) and the predefined ones.
  std::vector<std::string> declared;
  for (const auto& [k, v] : global_args_) declared.push_back(k);
  for (const Node* n : meta_args_) {
    for (const std::string& arg : Args(*n)) declared.push_back(arg.substr(0, arg.find('=')));
  }
  auto undeclared = [&](const shell::ProcessResult& r, int line) {
    for (const std::string& var : r.unmatched) {
      if (std::find(declared.begin(), declared.end(), var) != declared.end()) continue;
      std::string hint = Suggest(var, declared);
      warnings_.push_back(Warn(
          line,
          absl::StrCat("UndefinedArgInFrom: FROM argument '", var, "' is not declared",
                       hint.empty() ? "" : " (did you mean ", hint, hint.empty() ? "" : "?)")));
    }
  };
  // InvalidDefaultArgInFrom: with the ARGs' defaults alone (no build
  // arguments), every base name must still be an image reference.
  absl::StatusOr<ArgList> defaults_only = MetaArgs({});
  shell::Env defaults;
  if (defaults_only.ok()) {
    for (const auto& [k, v] : *defaults_only) defaults.Set(k, v);
  }
  for (const auto& st : stages_) {
    const int line = st->from->start_line;
    // (A name without variables fails the build itself when it is invalid.)
    if (defaults_only.ok() && st->base_name.find('$') != std::string::npos) {
      absl::StatusOr<std::string> d = lex_.ProcessWord(st->base_name, defaults);
      if (d.ok() && !llb::NormalizeImageRef(*d).ok()) {
        warnings_.push_back(Warn(line, absl::StrCat("InvalidDefaultArgInFrom: Default value for "
                                                    "ARG ",
                                                    st->base_name,
                                                    " results in empty or invalid base image "
                                                    "name")));
      }
    }
    absl::StatusOr<shell::ProcessResult> name = lex_.ProcessWordWithMatches(st->base_name, globals);
    if (!name.ok()) return Wrap(name.status(), line);
    undeclared(*name, line);
    if (name->result.empty()) {
      return Wrap(absl::InvalidArgumentError(
                      absl::StrCat("base name (", st->base_name, ") should not be blank")),
                  line);
    }
    st->base_name = name->result;
    if (!st->platform_flag.empty()) {
      absl::StatusOr<shell::ProcessResult> p =
          lex_.ProcessWordWithMatches(st->platform_flag, globals);
      if (!p.ok()) return Wrap(p.status(), line);
      undeclared(*p, line);
      KILN_RETURN_IF_ERROR(Wrap(CheckPlatform(p->result), line));
      if (p->matched.size() == 1 && p->unmatched.empty() && p->matched.count("TARGETPLATFORM") &&
          p->result == globals.Get("TARGETPLATFORM").value_or("")) {
        warnings_.push_back(Warn(line, absl::StrCat("RedundantTargetPlatform: Setting platform to "
                                                    "predefined ",
                                                    st->platform_flag,
                                                    " in FROM is redundant as this is the "
                                                    "default behavior")));
      }
      // A constant platform, unless the stage's name says it is meant.
      const llb::Platform constant = llb::Platform::Parse(p->result).Normalized();
      if (p->matched.empty() && p->unmatched.empty() && !absl::StrContains(st->name, constant.os) &&
          !absl::StrContains(st->name, constant.architecture)) {
        warnings_.push_back(Warn(line, absl::StrCat("FromPlatformFlagConstDisallowed: FROM "
                                                    "--platform flag should not use constant "
                                                    "value \"",
                                                    p->result, "\"")));
      }
    }
  }
  Stage* target = stages_.back().get();
  if (!options_.target.empty()) {
    absl::StatusOr<Stage*> t = StageByName(options_.target);
    if (!t.ok()) {
      std::vector<std::string> names;
      for (const auto& s : stages_) {
        if (!s->name.empty()) names.push_back(s->name);
      }
      std::string hint = Suggest(options_.target, names);
      return absl::InvalidArgumentError(absl::StrCat(
          "target stage \"", options_.target, "\" could not be found in ", options_.filename,
          hint.empty() ? "" : absl::StrCat(" (did you mean ", hint, "?)")));
    }
    target = *t;
  }
  KILN_RETURN_IF_ERROR(MarkReachable(*target));
  for (const auto& s : stages_) {
    if (!s->reachable || s->from == nullptr) continue;
    // Numbered as BuildKit numbers them: FROM an image, then each RUN,
    // COPY, ADD and WORKDIR.
    bool from_image = s->base_name != "scratch" && !StageByName(s->base_name).ok();
    s->step = from_image ? 1 : 0;
    s->steps = s->step;
    for (const Node* n : s->commands) {
      std::string c = absl::AsciiStrToUpper(n->value);
      if (c == "RUN" || c == "COPY" || c == "ADD" || c == "WORKDIR") ++s->steps;
    }
  }
  // Stand-ins for images come first: they are resolved, never dispatched.
  for (size_t i = 0; i < stages_.size(); ++i) {
    Stage& s = *stages_[i];
    if (s.reachable && s.from == nullptr && !s.dispatched) KILN_RETURN_IF_ERROR(DispatchStage(s));
  }
  for (size_t i = 0; i < stages_.size(); ++i) {
    Stage& s = *stages_[i];
    if (s.reachable && s.from != nullptr) KILN_RETURN_IF_ERROR(DispatchStage(s));
  }
  Json image = target->image;
  if (!image.is_object()) image = Json::object();
  image["architecture"] = options_.platform.Normalized().architecture;
  image["os"] = options_.platform.Normalized().os;
  if (!options_.platform.Normalized().variant.empty()) {
    image["variant"] = options_.platform.Normalized().variant;
  }
  context_.Finish();
  Converted out;
  out.state = target->state;
  out.image_config = image.dump();
  KILN_ASSIGN_OR_RETURN(out.warnings, ApplyChecks());
  return out;
}

}  // namespace convert_internal

absl::StatusOr<Converted> Convert(std::string_view dockerfile, const ConvertOptions& options) {
  convert_internal::Converter c(dockerfile, options);
  // Base image configs come from outside (imported archives, registries):
  // a field of the wrong JSON type must be an error, not an exception.
  try {
    return c.Run();
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        options.filename, ": a base image config has a field of the wrong type (", e.what(), ")"));
  }
}

}  // namespace kiln::dockerfile
