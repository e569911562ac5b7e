// Instructions that change the image config (and the process settings of
// later RUNs): ENV, ARG, LABEL, EXPOSE, VOLUME, CMD, ENTRYPOINT, SHELL,
// HEALTHCHECK, USER, STOPSIGNAL, MAINTAINER, ONBUILD. Each adds a history
// entry as BuildKit does.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "frontends/dockerfile/convert/internal.h"
#include "sdk/base/status_macros.h"

namespace kiln::dockerfile::convert_internal {
namespace {

// Go's %q of a string.
std::string GoQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += absl::StrCat("\\x", absl::Hex(c, absl::kZeroPad2));
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// Go's %q of a []string: ["a" "b"].
std::string GoQuoteList(const std::vector<std::string>& v) {
  std::vector<std::string> q;
  for (const std::string& s : v) q.push_back(GoQuote(s));
  return absl::StrCat("[", absl::StrJoin(q, " "), "]");
}

// Go's %v of a []string: [a b].
std::string GoList(const std::vector<std::string>& v) {
  return absl::StrCat("[", absl::StrJoin(v, " "), "]");
}

// Go's time.Duration String() for whole and fractional seconds.
std::string GoDuration(int64_t ns) {
  if (ns == 0) return "0s";
  std::string out;
  if (ns >= 3600000000000LL) {
    absl::StrAppend(&out, ns / 3600000000000LL, "h");
    ns %= 3600000000000LL;
  }
  if (ns >= 60000000000LL || !out.empty()) {
    absl::StrAppend(&out, ns / 60000000000LL, "m");
    ns %= 60000000000LL;
  }
  if (ns % 1000000000LL == 0) return absl::StrCat(out, ns / 1000000000LL, "s");
  if (out.empty() && ns < 1000000000LL) {
    if (ns % 1000000 == 0) return absl::StrCat(ns / 1000000, "ms");
    return absl::StrCat(ns, "ns");
  }
  return absl::StrCat(out, static_cast<double>(ns) / 1e9, "s");
}

bool ValidSignal(const std::string& sig) {
  int n;
  if (absl::SimpleAtoi(sig, &n)) return n > 0 && n < 65;
  std::string s = absl::AsciiStrToUpper(sig);
  if (absl::StartsWith(s, "SIG")) s = s.substr(3);
  static const std::vector<std::string> kNames = {
      "ABRT", "ALRM",   "BUS",  "CHLD",   "CLD",   "CONT", "FPE",  "HUP",   "ILL",
      "INT",  "IO",     "IOT",  "KILL",   "PIPE",  "POLL", "PROF", "PWR",   "QUIT",
      "SEGV", "STKFLT", "STOP", "SYS",    "TERM",  "TRAP", "TSTP", "TTIN",  "TTOU",
      "URG",  "USR1",   "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "UNUSED"};
  if (std::find(kNames.begin(), kNames.end(), s) != kNames.end()) return true;
  if (absl::StartsWith(s, "RTMIN") || absl::StartsWith(s, "RTMAX")) return true;
  return false;
}

}  // namespace

std::vector<std::string> Converter::Args(const Node& n) const {
  std::vector<std::string> out;
  for (const Node& a : n.next) out.push_back(a.value);
  return out;
}

shell::Env Converter::StateEnv(const Stage& s) const { return shell::Env::FromList(s.state.Env()); }

absl::StatusOr<std::string> Converter::Expand(const Stage& s, const std::string& word) const {
  // Only a '$' reads variables: without one, skip building the stage's env
  // (quotes and escapes are still processed).
  if (word.find('$') == std::string::npos) return lex_.ProcessWord(word, shell::Env());
  KILN_ASSIGN_OR_RETURN(shell::ProcessResult r, lex_.ProcessWordWithMatches(word, StateEnv(s)));
  unmatched_.insert(r.unmatched.begin(), r.unmatched.end());
  return std::move(r.result);
}

void Converter::ReportUndefined(const Stage& s, int line) {
  if (unmatched_.empty()) return;
  std::set<std::string> vars = std::move(unmatched_);
  unmatched_.clear();
  for (const auto& [k, v] : s.args) vars.erase(k);
  const shell::Env env = StateEnv(s);
  const std::vector<std::string>& known = env.Keys();
  for (const std::string& var : vars) {
    std::string hint = Suggest(var, known);
    warnings_.push_back(Warn(line, absl::StrCat("UndefinedVar: Usage of undefined variable '$", var,
                                                "'", hint.empty() ? "" : " (did you mean $", hint,
                                                hint.empty() ? "" : "?)")));
  }
}

llb::OpOptions Converter::Op(const Stage& s, const Node& n, const std::string& name) const {
  llb::OpOptions o;
  std::string stage = s.name.empty() ? absl::StrCat("stage-", s.index) : s.name;
  o.custom_name = absl::StrCat("[", stage, " ", s.step, "/", s.steps, "] ", name);
  o.description["com.docker.dockerfile.v1.command"] = n.original;
  o.source_locations.push_back({source_map_, {llb::SourceRange(n.start_line, 0, n.end_line, 0)}});
  return o;
}

void Converter::History(Stage& s, const std::string& created_by, bool layer) {
  Json h = {{"created_by", created_by}, {"comment", "buildkit.dockerfile.v0"}};
  if (!layer) h["empty_layer"] = true;
  if (!s.image.contains("history") || !s.image["history"].is_array()) {
    s.image["history"] = Json::array();
  }
  s.image["history"].push_back(std::move(h));
}

llb::State Converter::Context() const { return context_.State(); }

absl::Status Converter::Dispatch(Stage& s, const Node& n) {
  unmatched_.clear();
  absl::Status st = DispatchInstruction(s, n);
  // ARG's own expansions may name what it declares; RUN's are its mounts.
  std::string cmd = absl::AsciiStrToUpper(n.value);
  if (cmd == "ARG" || cmd == "RUN") unmatched_.clear();
  if (st.ok()) ReportUndefined(s, n.start_line);
  return st;
}

absl::Status Converter::DispatchInstruction(Stage& s, const Node& n) {
  std::string cmd = absl::AsciiStrToUpper(n.value);
  if (cmd == "RUN" || cmd == "COPY" || cmd == "ADD" || cmd == "WORKDIR") ++s.step;
  KILN_ASSIGN_OR_RETURN(Flags f, InstructionFlags(n));
  if (cmd == "RUN") return Run(s, n, f);
  if (cmd == "COPY" || cmd == "ADD") return Copy(s, n, f, cmd == "ADD");
  if (cmd == "WORKDIR") {
    std::vector<std::string> args = Args(n);
    if (args.size() != 1)
      return absl::InvalidArgumentError("WORKDIR requires exactly one argument");
    KILN_ASSIGN_OR_RETURN(std::string path, Expand(s, args[0]));
    // Only the stage's first WORKDIR: later relative ones build on it.
    if (!s.workdir_set && !path.empty() && path[0] != '/') {
      warnings_.push_back(
          Warn(n.start_line, absl::StrCat("WorkdirRelativePath: Relative workdir \"", path,
                                          "\" can have unexpected results if the "
                                          "base image changes")));
    }
    s.workdir_set = true;
    return Workdir(s, path, n);
  }
  if (cmd == "ENV") return Env(s, n);
  if (cmd == "ARG") return Arg(s, n);
  if (cmd == "LABEL") return Label(s, n);
  if (cmd == "EXPOSE") return Expose(s, n);
  if (cmd == "VOLUME") return Volume(s, n);
  if (cmd == "CMD" || cmd == "ENTRYPOINT") return CmdOrEntrypoint(s, n, cmd == "ENTRYPOINT");
  if (cmd == "SHELL") return Shell(s, n);
  if (cmd == "HEALTHCHECK") return Healthcheck(s, n, f);
  if (cmd == "USER") return User(s, n);
  if (cmd == "STOPSIGNAL") return StopSignal(s, n);
  if (cmd == "MAINTAINER") {
    warnings_.push_back(Warn(n.start_line,
                             "MaintainerDeprecated: Maintainer instruction is deprecated in favor "
                             "of using label"));
    std::vector<std::string> args = Args(n);
    if (args.size() != 1) {
      return absl::InvalidArgumentError("MAINTAINER requires exactly one argument");
    }
    s.image["author"] = args[0];
    History(s, "MAINTAINER " + args[0], false);
    return absl::OkStatus();
  }
  if (cmd == "ONBUILD") {
    if (n.next.empty() || n.next[0].children.empty()) {
      return absl::InvalidArgumentError("ONBUILD requires at least one argument");
    }
    std::string trigger = absl::AsciiStrToUpper(n.next[0].children[0].value);
    if (trigger == "ONBUILD") {
      return absl::InvalidArgumentError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    }
    if (trigger == "FROM" || trigger == "MAINTAINER") {
      return absl::InvalidArgumentError(
          absl::StrCat(trigger, " isn't allowed as an ONBUILD trigger"));
    }
    std::string expr(absl::StripLeadingAsciiWhitespace(n.original));
    expr = std::string(
        absl::StripLeadingAsciiWhitespace(expr.substr(std::min<size_t>(7, expr.size()))));
    for (const Heredoc& h : n.heredocs) absl::StrAppend(&expr, "\n", h.content, h.name);
    Json& config = s.image["config"];
    if (!config.contains("OnBuild") || !config["OnBuild"].is_array()) {
      config["OnBuild"] = Json::array();
    }
    config["OnBuild"].push_back(expr);
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown instruction: ", n.value));
}

absl::Status Converter::Env(Stage& s, const Node& n) {
  std::vector<std::string> args = Args(n);
  if (args.empty() || args.size() % 3 != 0) {
    return absl::InvalidArgumentError("ENV requires at least one argument");
  }
  std::string msg = "ENV";
  for (size_t i = 0; i < args.size(); i += 3) {
    if (args[i].empty()) return absl::InvalidArgumentError("ENV names can not be blank");
    if (args[i + 2].empty()) {
      warnings_.push_back(Warn(n.start_line,
                               "LegacyKeyValueFormat: \"ENV key=value\" should be used instead of "
                               "legacy \"ENV key value\" format"));
    }
    KILN_ASSIGN_OR_RETURN(std::string key, Expand(s, args[i]));
    KILN_ASSIGN_OR_RETURN(std::string value, Expand(s, args[i + 1]));
    WarnIfSecretName("ENV", key, n.start_line);
    absl::StrAppend(&msg, " ", key, "=", value);
    s.state = s.state.AddEnv(key, value);
    frontend::SetConfigEnv(s.image["config"]["Env"], key, value);
  }
  History(s, msg, false);
  return absl::OkStatus();
}

absl::Status Converter::Arg(Stage& s, const Node& n) {
  std::vector<std::string> args = Args(n);
  if (args.empty()) return absl::InvalidArgumentError("ARG requires at least one argument");
  std::vector<std::string> msg;
  for (const std::string& arg : args) {
    size_t eq = arg.find('=');
    std::string key = arg.substr(0, eq);
    if (key.empty()) return absl::InvalidArgumentError("ARG names can not be blank");
    WarnIfSecretName("ARG", key, n.start_line);
    std::optional<std::string> value;
    auto given = options_.build_args.find(key);
    if (given != options_.build_args.end()) {
      value = given->second;
    } else if (eq != std::string::npos) {
      KILN_ASSIGN_OR_RETURN(value, Expand(s, arg.substr(eq + 1)));
    } else {
      for (const auto& [k, v] : global_args_) {
        if (k == key) value = v;
      }
    }
    if (value.has_value()) s.state = s.state.AddEnv(key, *value);
    s.args.emplace_back(key, value);
    msg.push_back(value.has_value() ? key + "=" + *value : key);
  }
  History(s, "ARG " + absl::StrJoin(msg, " "), false);
  return absl::OkStatus();
}

absl::Status Converter::Label(Stage& s, const Node& n) {
  std::vector<std::string> args = Args(n);
  if (args.empty() || args.size() % 3 != 0) {
    return absl::InvalidArgumentError("LABEL requires at least one argument");
  }
  Json& labels = s.image["config"]["Labels"];
  if (!labels.is_object()) labels = Json::object();
  std::string msg = "LABEL";
  for (size_t i = 0; i < args.size(); i += 3) {
    if (args[i].empty()) return absl::InvalidArgumentError("LABEL names can not be blank");
    KILN_ASSIGN_OR_RETURN(std::string key, Expand(s, args[i]));
    KILN_ASSIGN_OR_RETURN(std::string value, Expand(s, args[i + 1]));
    WarnIfSecretName("ENV", key, n.start_line);
    labels[key] = value;
    absl::StrAppend(&msg, " ", key, "=", value);
  }
  History(s, msg, false);
  return absl::OkStatus();
}

absl::Status Converter::Expose(Stage& s, const Node& n) {
  std::vector<std::string> raw = Args(n);
  if (raw.empty()) return absl::InvalidArgumentError("EXPOSE requires at least one argument");
  std::sort(raw.begin(), raw.end());
  std::vector<std::string> words;
  for (const std::string& r : raw) {
    KILN_ASSIGN_OR_RETURN(std::vector<std::string> w, lex_.ProcessWords(r, StateEnv(s)));
    words.insert(words.end(), w.begin(), w.end());
  }
  for (const std::string& w : words) {
    size_t slash = w.rfind('/');
    if (slash != std::string::npos &&
        w.substr(slash + 1) != absl::AsciiStrToLower(w.substr(slash + 1))) {
      warnings_.push_back(
          Warn(n.start_line, absl::StrCat("ExposeProtoCasing: Defined protocol '", w,
                                          "' in EXPOSE instruction should be "
                                          "lowercase")));
    }
  }
  std::vector<std::string> ports;
  for (const std::string& w : words) {
    KILN_ASSIGN_OR_RETURN(frontend::PortSpec spec, frontend::ParsePortSpec(w));
    if (spec.host_mapping) {
      warnings_.push_back(
          Warn(n.start_line, absl::StrCat("ExposeInvalidFormat: EXPOSE instruction should not "
                                          "define an IP address or host-port mapping, found '",
                                          w, "'")));
    }
    ports.insert(ports.end(), spec.ports.begin(), spec.ports.end());
  }
  Json& exposed = s.image["config"]["ExposedPorts"];
  if (!exposed.is_object()) exposed = Json::object();
  for (const std::string& p : ports) exposed[p] = Json::object();
  History(s, "EXPOSE " + GoList(ports), false);
  return absl::OkStatus();
}

absl::Status Converter::Volume(Stage& s, const Node& n) {
  std::vector<std::string> args = Args(n);
  if (args.empty()) return absl::InvalidArgumentError("VOLUME requires at least one argument");
  Json& volumes = s.image["config"]["Volumes"];
  if (!volumes.is_object()) volumes = Json::object();
  std::vector<std::string> expanded;
  for (const std::string& a : args) {
    std::string v(absl::StripAsciiWhitespace(a));
    KILN_ASSIGN_OR_RETURN(v, Expand(s, v));
    if (v.empty()) return absl::InvalidArgumentError("VOLUME specified can not be an empty string");
    volumes[v] = Json::object();
    expanded.push_back(v);
  }
  History(s, "VOLUME " + GoList(expanded), false);
  return absl::OkStatus();
}

absl::Status Converter::CmdOrEntrypoint(Stage& s, const Node& n, bool entrypoint) {
  std::vector<std::string> args = Args(n);
  bool json = n.attributes.count("json") && n.attributes.at("json");
  if (!json) {
    args = args.empty() ? std::vector<std::string>{}
                        : std::vector<std::string>{absl::StrJoin(args, " ")};
    std::vector<std::string> shell = frontend::ShellOf(s.image);
    shell.insert(shell.end(), args.begin(), args.end());
    args = shell;
    warnings_.push_back(
        Warn(n.start_line, absl::StrCat("JSONArgsRecommended: JSON arguments recommended for ",
                                        entrypoint ? "ENTRYPOINT" : "CMD",
                                        " to prevent unintended behavior related to OS signals")));
  }
  Json& config = s.image["config"];
  const char* what = entrypoint ? "ENTRYPOINT" : "CMD";
  if (entrypoint) {
    if (args.empty()) {
      config.erase("Entrypoint");
    } else {
      config["Entrypoint"] = args;
    }
    if (!s.cmd_set) config.erase("Cmd");
  } else {
    if (s.cmd_set) {
      warnings_.push_back(
          Warn(n.start_line,
               "MultipleInstructionsDisallowed: Multiple CMD instructions should not be used in "
               "the same stage because only the last one will be used"));
    }
    config["Cmd"] = args;
    config["ArgsEscaped"] = true;
    s.cmd_set = true;
  }
  History(s, absl::StrCat(what, " ", GoQuoteList(args)), false);
  return absl::OkStatus();
}

absl::Status Converter::Shell(Stage& s, const Node& n) {
  std::vector<std::string> args = Args(n);
  bool json = n.attributes.count("json") && n.attributes.at("json");
  if (args.empty()) return absl::InvalidArgumentError("SHELL requires at least one argument");
  if (!json) return absl::InvalidArgumentError("SHELL requires the arguments to be in JSON form");
  s.image["config"]["Shell"] = args;
  History(s, "SHELL " + GoList(args), false);
  return absl::OkStatus();
}

absl::Status Converter::Healthcheck(Stage& s, const Node& n, const Flags& f) {
  std::vector<std::string> args = Args(n);
  if (args.empty()) return absl::InvalidArgumentError("HEALTHCHECK requires at least one argument");
  std::string type = absl::AsciiStrToUpper(args[0]);
  args.erase(args.begin());
  Json hc = Json::object();
  std::string msg;
  if (type == "NONE") {
    if (!args.empty()) return absl::InvalidArgumentError("HEALTHCHECK NONE takes no arguments");
    hc["Test"] = std::vector<std::string>{"NONE"};
    msg = "{Test:[NONE] Interval:0s Timeout:0s StartPeriod:0s StartInterval:0s Retries:0}";
  } else if (type == "CMD") {
    bool json = n.attributes.count("json") && n.attributes.at("json");
    if (!json && !args.empty()) args = {absl::StrJoin(args, " ")};
    if (args.empty()) return absl::InvalidArgumentError("Missing command after HEALTHCHECK CMD");
    args.insert(args.begin(), json ? "CMD" : "CMD-SHELL");
    hc["Test"] = args;
    std::map<std::string, int64_t> durations;
    const std::pair<const char*, const char*> kFields[] = {{"interval", "Interval"},
                                                           {"timeout", "Timeout"},
                                                           {"start-period", "StartPeriod"},
                                                           {"start-interval", "StartInterval"}};
    for (const auto& [flag, field] : kFields) {
      int64_t ns = 0;
      if (!f.Get(flag).empty()) {
        KILN_ASSIGN_OR_RETURN(ns, ParseGoDuration(f.Get(flag)));
        if (ns != 0 && ns < 1000000) {
          return absl::InvalidArgumentError(
              absl::StrCat("Interval \"", flag, "\" cannot be less than 1ms"));
        }
      }
      durations[field] = ns;
      if (ns != 0) hc[field] = ns;
    }
    int64_t retries = 0;
    if (!f.Get("retries").empty()) {
      if (!absl::SimpleAtoi(f.Get("retries"), &retries)) {
        return absl::InvalidArgumentError("invalid --retries value: " + f.Get("retries"));
      }
      if (retries < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("--retries cannot be negative (", retries, ")"));
      }
    }
    if (retries != 0) hc["Retries"] = retries;
    msg = absl::StrCat("{Test:", GoList(args), " Interval:", GoDuration(durations["Interval"]),
                       " Timeout:", GoDuration(durations["Timeout"]),
                       " StartPeriod:", GoDuration(durations["StartPeriod"]),
                       " StartInterval:", GoDuration(durations["StartInterval"]),
                       " Retries:", retries, "}");
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("Unknown type \"", type, "\" in HEALTHCHECK (try CMD)"));
  }
  s.image["config"]["Healthcheck"] = hc;
  History(s, "HEALTHCHECK " + msg, false);
  return absl::OkStatus();
}

absl::Status Converter::User(Stage& s, const Node& n) {
  std::vector<std::string> args = Args(n);
  if (args.size() != 1) return absl::InvalidArgumentError("USER requires exactly one argument");
  KILN_ASSIGN_OR_RETURN(std::string user, Expand(s, args[0]));
  s.state = s.state.User(user);
  s.image["config"]["User"] = user;
  History(s, "USER " + user, false);
  return absl::OkStatus();
}

absl::Status Converter::StopSignal(Stage& s, const Node& n) {
  std::vector<std::string> args = Args(n);
  if (args.size() != 1) {
    return absl::InvalidArgumentError("STOPSIGNAL requires exactly one argument");
  }
  KILN_ASSIGN_OR_RETURN(std::string sig, Expand(s, args[0]));
  if (!ValidSignal(sig)) return absl::InvalidArgumentError("Invalid signal: " + sig);
  s.image["config"]["StopSignal"] = sig;
  History(s, "STOPSIGNAL " + sig, false);
  return absl::OkStatus();
}

}  // namespace kiln::dockerfile::convert_internal
