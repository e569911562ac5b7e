#include "frontends/yaml/convert/convert.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sdk/base/status_macros.h"
#include "sdk/base/suggest.h"
#include "sdk/frontend/context.h"
#include "sdk/frontend/dockerlike.h"
#include "sdk/llb/internal/go_path.h"

namespace kiln::yamlconvert {
namespace {

using Json = nlohmann::json;
using yamlspec::Pos;
using yamlspec::Source;
using yamlspec::Spec;
using yamlspec::Stage;
using yamlspec::Step;

constexpr char kComment[] = "kiln.yaml.v0";

// "8080", "53/udp", "8000-8002/tcp" as the "N/proto" keys of ExposedPorts
// (EXPOSE's syntax, without its ignored host mappings).
absl::StatusOr<std::vector<std::string>> Ports(const std::string& spec) {
  absl::StatusOr<frontend::PortSpec> p = frontend::ParsePortSpec(spec);
  // EXPOSE takes port 0; a spec does not.
  bool zero = p.ok() && absl::StartsWith(p->ports.front(), "0/");
  if (!p.ok() || p->host_mapping || zero) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad port \"", spec, "\": want PORT[/tcp|udp|sctp] or FIRST-LAST[/PROTO], 1 to 65535",
        !p.ok()           ? absl::StrCat(" (", p.status().message(), ")")
        : p->host_mapping ? " (a container port, without a host mapping)"
                          : ""));
  }
  return p->ports;
}

struct Built {
  llb::State state;
  Json image = Json::object();  // the whole image config document
  bool done = false, busy = false;
};

class Converter {
 public:
  Converter(const Spec& spec, const ConvertOptions& options)
      : spec_(spec),
        options_(options),
        context_(options.context_state, options.context_name, options.context_excludes,
                 options.session_id) {
    auto sm = std::make_shared<llb::SourceMap>();
    sm->filename = options.filename;
    sm->language = "YAML";
    sm->data = options.text;
    source_map_ = sm;
  }

  absl::StatusOr<Converted> Run() {
    if (spec_.stages.empty()) return absl::InvalidArgumentError(options_.filename + ": no stages");
    const Stage* target = &spec_.stages.back();
    if (!options_.target.empty()) {
      target = spec_.Find(options_.target);
      if (target == nullptr) {
        std::vector<std::string> names;
        for (const Stage& s : spec_.stages) names.push_back(s.name);
        std::string hint = Suggest(options_.target, names);
        return absl::InvalidArgumentError(absl::StrCat(
            "target stage \"", options_.target, "\" is not in ", options_.filename,
            hint.empty() ? absl::StrCat(" (its stages: ", absl::StrJoin(names, ", "), ")")
                         : absl::StrCat(" (did you mean ", hint, "?)")));
      }
    }
    KILN_ASSIGN_OR_RETURN(Built * b, BuildStage(*target));
    Json image = b->image;
    llb::Platform p = options_.platform.Normalized();
    image["architecture"] = p.architecture;
    image["os"] = p.os;
    if (!p.variant.empty()) image["variant"] = p.variant;
    context_.Finish();
    return Converted{b->state, image.dump()};
  }

 private:
  absl::Status Err(Pos p, const std::string& msg) const {
    return absl::InvalidArgumentError(
        absl::StrCat(options_.filename, ":", p.line, ":", p.col, ": ", msg));
  }

  absl::Status Place(const absl::Status& st, Pos p) const {
    if (st.ok() || absl::StartsWith(st.message(), options_.filename + ":")) return st;
    return absl::Status(
        st.code(), absl::StrCat(options_.filename, ":", p.line, ":", p.col, ": ", st.message()));
  }

  llb::State Context() const { return context_.State(); }

  llb::OpOptions Op(const Stage& s, Pos pos, const std::string& name) const {
    llb::OpOptions o;
    o.custom_name = absl::StrCat("[", s.name, " ", step_, "/", steps_, "] ", name);
    o.source_locations.push_back(
        {source_map_, {llb::SourceRange(pos.line, pos.col, pos.line, pos.col)}});
    return o;
  }

  static void History(Built& b, const std::string& created_by, bool layer) {
    Json h = {{"created_by", created_by}, {"comment", kComment}};
    if (!layer) h["empty_layer"] = true;
    if (!b.image.contains("history") || !b.image["history"].is_array()) {
      b.image["history"] = Json::array();
    }
    b.image["history"].push_back(std::move(h));
  }

  // An image's state and config, as a Dockerfile's FROM loads it.
  absl::Status LoadImage(const std::string& ref, Pos pos, Built* b) {
    if (!options_.resolve_image) return Err(pos, "no image resolver to look up " + ref);
    absl::StatusOr<frontend::ResolvedImage> img = options_.resolve_image(ref);
    if (!img.ok()) {
      std::vector<std::string> names;
      for (const Stage& s : spec_.stages) names.push_back(s.name);
      std::string hint = Suggest(ref, names);
      std::string msg(img.status().message());
      if (!hint.empty()) absl::StrAppend(&msg, " (or did you mean the stage \"", hint, "\"?)");
      return Err(pos, msg);
    }
    return Place(frontend::LoadBaseImage(*img, options_.platform, &b->state, &b->image), pos);
  }

  // The filesystem a copy or mount reads.
  absl::StatusOr<llb::State> SourceState(const Source& src) {
    switch (src.kind) {
      case Source::Kind::kContext:
        return Context();
      case Source::Kind::kStage: {
        KILN_ASSIGN_OR_RETURN(Built * b, BuildStage(*spec_.Find(src.name)));
        return b->state;
      }
      case Source::Kind::kImage: {
        auto it = images_.find(src.name);
        if (it == images_.end()) {
          Built b;
          KILN_RETURN_IF_ERROR(LoadImage(src.name, src.pos, &b));
          it = images_.emplace(src.name, b.state).first;
        }
        return it->second;
      }
    }
    return Context();
  }

  void Workdir(Built& b, const std::string& path, const Stage& s, Pos pos) {
    std::string wd = frontend::WorkdirPath(b.image, path);
    if (wd != "/") ++step_;  // a step when it makes a layer, as in Dockerfiles
    bool layer = frontend::ApplyWorkdir(wd, Op(s, pos, "WORKDIR " + wd), &b.image, &b.state);
    History(b, "WORKDIR " + wd, layer);
  }

  void Env(Built& b, const std::string& k, const std::string& v) {
    b.state = b.state.AddEnv(k, v);
    frontend::SetConfigEnv(b.image["config"]["Env"], k, v);
  }

  void User(Built& b, const std::string& user) {
    b.state = b.state.User(user);
    b.image["config"]["User"] = user;
  }

  absl::StatusOr<Built*> BuildStage(const Stage& s) {
    Built& b = built_[s.name];
    if (b.done) return &b;
    if (b.busy) return Err(s.pos, absl::StrCat("stage \"", s.name, "\" depends on itself"));
    b.busy = true;
    if (s.scratch) {
      b.state = llb::Scratch();
      b.image = frontend::EmptyImageConfig();
    } else if (s.base.kind == Source::Kind::kStage) {
      KILN_ASSIGN_OR_RETURN(Built * base, BuildStage(*spec_.Find(s.base.name)));
      b.state = base->state;
      b.image = base->image;
    } else {
      KILN_RETURN_IF_ERROR(LoadImage(s.base.name, s.from.pos, &b));
    }
    if (s.base.kind != Source::Kind::kStage) {
      frontend::ApplyBaseConfig(options_.platform, &b.image, &b.state);  // as FROM does
    }
    // Numbered as a Dockerfile's steps are: FROM an image, then each step.
    int saved_step = step_, saved_steps = steps_;
    bool from_image = !s.scratch && s.base.kind == Source::Kind::kImage;
    step_ = from_image ? 1 : 0;
    steps_ = step_ + (s.workdir.set ? 1 : 0) + static_cast<int>(s.steps.size());
    if (!s.env.empty()) {
      std::string msg = "ENV";
      for (const auto& [k, v] : s.env) {
        Env(b, k, v);
        absl::StrAppend(&msg, " ", k, "=", v);
      }
      History(b, msg, false);
    }
    if (s.workdir.set) Workdir(b, s.workdir.value, s, s.workdir.pos);
    if (s.user.set) {
      User(b, s.user.value);
      History(b, "USER " + s.user.value, false);
    }
    for (const Step& step : s.steps) {
      ++step_;
      absl::Status st;
      if (step.verb == "run") {
        st = Run(s, b, step);
      } else if (step.verb == "copy" || step.verb == "add") {
        st = Copy(s, b, step, step.verb == "add");
      } else {
        st = FileStep(s, b, step);
      }
      KILN_RETURN_IF_ERROR(Place(st, step.pos));
    }
    KILN_RETURN_IF_ERROR(Image(s, b));
    step_ = saved_step;
    steps_ = saved_steps;
    b.busy = false;
    b.done = true;
    return &b;
  }

  absl::StatusOr<std::vector<llb::Mount>> Mounts(const Step& step, const std::string& cwd,
                                                 std::vector<llb::SecretEnv>* secret_env) {
    std::vector<llb::Mount> out;
    for (const yamlspec::Mount& m : step.mounts) {
      frontend::RunMount rm;
      rm.type = m.type;
      rm.target = m.target.value;
      rm.source = m.source.value;
      rm.id = m.id.value;
      rm.sharing = m.sharing.value;
      rm.env = m.env.value;
      rm.readonly = m.readonly.value_or(m.type == "bind");
      rm.required = m.required;
      rm.size = m.size;
      rm.mode = m.mode;
      rm.uid = m.uid;
      rm.gid = m.gid;
      if (m.from_set) {
        KILN_ASSIGN_OR_RETURN(rm.from, SourceState(m.from));
      }
      if (!m.from_set || m.from.kind == Source::Kind::kContext) {
        // As dockerfile.v0 (and BuildKit) count it: any mount without a
        // from reads its source path of the context.
        context_.Read(m.source.value);
      }
      absl::StatusOr<std::optional<llb::Mount>> mount =
          frontend::MakeRunMount(rm, cwd, Context(), secret_env);
      if (!mount.ok()) return Err(m.pos, std::string(mount.status().message()));
      if (mount->has_value()) out.push_back(std::move(**mount));
    }
    return out;
  }

  absl::Status Run(const Stage& s, Built& b, const Step& step) {
    llb::RunOptions run;
    std::vector<std::string> args;
    for (const yamlspec::Str& a : step.args) args.push_back(a.value);
    if (!step.exec_form) {
      std::vector<std::string> shell = frontend::ShellOf(b.image);
      shell.insert(shell.end(), args.begin(), args.end());
      args = shell;
    }
    run.args = args;
    run.env = step.env;
    std::string cwd = b.state.GetDir().empty() ? "/" : b.state.GetDir();
    if (step.workdir.set) {
      run.cwd = step.workdir.value;
      cwd = llb_internal::NormalizeActionPath(cwd, step.workdir.value, false);
    }
    if (step.user.set) run.user = step.user.value;
    KILN_ASSIGN_OR_RETURN(std::vector<llb::Mount> mounts, Mounts(step, cwd, &run.secret_env));
    run.mounts = std::move(mounts);
    absl::StatusOr<pb::NetMode> network =
        frontend::RunNetwork(step.network.set ? step.network.value : "", options_.default_network);
    if (!network.ok()) return Err(step.network.pos, std::string(network.status().message()));
    if (*network != pb::UNSET) run.network = *network;
    run.proxy_env = frontend::ProxyEnvFromBuildArgs(options_.build_args);
    std::string shown = step.exec_form ? Json(args).dump() : step.args[0].value;
    if (size_t nl = shown.find('\n'); nl != std::string::npos && nl + 1 < shown.size()) {
      shown = shown.substr(0, nl) + " ...";
    } else if (nl != std::string::npos) {
      shown.pop_back();
    }
    run.op = Op(s, step.pos, "RUN " + shown);
    b.state = b.state.Run(run).Root();
    History(b, absl::StrCat("RUN ", absl::StrJoin(args, " ")), true);
    return absl::OkStatus();
  }

  absl::Status Copy(const Stage& s, Built& b, const Step& step, bool add) {
    const char* what = add ? "ADD" : "COPY";
    std::string cwd = b.state.GetDir().empty() ? "/" : b.state.GetDir();
    std::string to = step.to.value;
    std::string dest =
        llb_internal::NormalizeActionPath(cwd, to.empty() || to == "." ? "./" : to, true);
    llb::CopyOptions base;
    if (step.chown.set) base.owner = llb::Owner::Parse(step.chown.value);
    if (step.chmod.set) {
      const std::string& v = step.chmod.value;
      if (v.find_first_not_of("01234567") == std::string::npos) {
        base.mode = static_cast<uint32_t>(strtoul(v.c_str(), nullptr, 8));
      } else {
        base.mode_str = v;
      }
    }
    base.exclude_patterns = step.exclude;
    base.create_dest_path = true;
    llb::State source = Context();
    if (step.from_set) {
      KILN_ASSIGN_OR_RETURN(source, SourceState(step.from));
    }
    if (step.checksum.set && step.args.size() != 1) {
      return Err(step.checksum.pos, "checksum can't be specified for multiple sources");
    }
    std::string msg = what;
    if (step.chown.set) absl::StrAppend(&msg, " --chown=", step.chown.value);
    if (step.chmod.set) absl::StrAppend(&msg, " --chmod=", step.chmod.value);
    llb::FileAction chain;
    for (const yamlspec::Str& arg : step.args) {
      const std::string& src = arg.value;
      absl::StrAppend(&msg, " ", src);
      frontend::RemoteSource remote = frontend::ParseRemoteSource(src);
      if (add && !step.from_set && remote.kind != frontend::RemoteSource::Kind::kNone) {
        chain =
            chain.Copy(frontend::RemoteSourceState(remote, step.checksum.value, step.keep_git_dir,
                                                   absl::StrCat(what, " ", src)),
                       remote.path, dest, base);
      } else {
        if (!add && (remote.kind != frontend::RemoteSource::Kind::kNone ||
                     src.find("://") != std::string::npos)) {
          return Err(arg.pos, "copy takes paths; use add for a URL or a git repository");
        }
        if (step.checksum.set) {
          return Err(step.checksum.pos, "checksum is only for a URL or a git repository");
        }
        if (!step.from_set || step.from.kind == Source::Kind::kContext) {
          context_.Read(src);
        }
        llb::CopyOptions o = base;
        o.follow_symlinks = true;
        o.copy_dir_contents_only = true;
        o.attempt_unpack = add;
        o.allow_wildcard = true;
        o.allow_empty_wildcard = true;
        chain = chain.Copy(source, llb_internal::NormalizeActionPath("/", src, false), dest, o);
      }
    }
    absl::StrAppend(&msg, " ", to);
    llb::OpOptions op = Op(s, step.pos, msg);
    if (step.link && !step.chmod.set) {
      llb::OpOptions merge_op = op;
      merge_op.custom_name = absl::StrCat(op.custom_name, " (link)");
      b.state =
          b.state.WithFilesystem(llb::Merge({b.state, llb::Scratch().File(chain, op)}, merge_op));
    } else {
      b.state = b.state.File(chain, op);
    }
    History(b, msg, true);
    return absl::OkStatus();
  }

  absl::Status FileStep(const Stage& s, Built& b, const Step& step) {
    std::string cwd = b.state.GetDir().empty() ? "/" : b.state.GetDir();
    std::string path = llb_internal::NormalizeActionPath(cwd, step.args[0].value, false);
    std::optional<llb::Owner> owner;
    if (step.owner.set) owner = llb::Owner::Parse(step.owner.value);
    llb::FileAction action;
    std::string msg;
    if (step.verb == "mkdir") {
      llb::MkdirOptions o;
      o.make_parents = step.parents;
      o.owner = owner;
      action = llb::Mkdir(path, step.mode.value_or(0755), o);
      msg = absl::StrCat("mkdir ", path);
    } else if (step.verb == "file") {
      llb::MkfileOptions o;
      o.owner = owner;
      std::string dir = path.substr(0, path.rfind('/'));
      if (!dir.empty()) {  // parents are created, as mkdir -p would
        llb::MkdirOptions mo;
        mo.make_parents = true;
        action = llb::Mkdir(dir, 0755, mo);
      }
      action = action.Mkfile(path, step.mode.value_or(0644), step.content.value, o);
      msg = absl::StrCat("file ", path);
    } else if (step.verb == "rm") {
      llb::RmOptions o;
      o.allow_not_found = step.allow_not_found;
      action = llb::Rm(path, o);
      msg = absl::StrCat("rm ", path);
    } else {  // symlink
      action = llb::Symlink(step.target.value, path);
      msg = absl::StrCat("symlink ", path, " -> ", step.target.value);
    }
    b.state = b.state.File(action, Op(s, step.pos, msg));
    History(b, msg, true);
    return absl::OkStatus();
  }

  absl::Status Image(const Stage& s, Built& b) {
    const yamlspec::Image& img = s.image;
    Json& config = b.image["config"];
    auto command = [&](const std::vector<std::string>& v, bool shell) {
      std::vector<std::string> out = v;
      if (shell) {
        out = frontend::ShellOf(b.image);
        out.insert(out.end(), v.begin(), v.end());
      }
      return out;
    };
    if (img.entrypoint.has_value()) {
      std::vector<std::string> e = command(*img.entrypoint, img.entrypoint_shell);
      if (e.empty()) {
        config.erase("Entrypoint");
      } else {
        config["Entrypoint"] = e;
      }
      if (!img.cmd.has_value()) config.erase("Cmd");  // as ENTRYPOINT resets CMD
      History(b, "ENTRYPOINT " + Json(e).dump(), false);
    }
    if (img.cmd.has_value()) {
      std::vector<std::string> c = command(*img.cmd, img.cmd_shell);
      config["Cmd"] = c;
      History(b, "CMD " + Json(c).dump(), false);
    }
    if (!img.env.empty()) {
      std::string msg = "ENV";
      for (const auto& [k, v] : img.env) {
        Env(b, k, v);
        absl::StrAppend(&msg, " ", k, "=", v);
      }
      History(b, msg, false);
    }
    if (!img.labels.empty()) {
      Json& labels = config["Labels"];
      if (!labels.is_object()) labels = Json::object();
      std::string msg = "LABEL";
      for (const auto& [k, v] : img.labels) {
        labels[k] = v;
        absl::StrAppend(&msg, " ", k, "=", v);
      }
      History(b, msg, false);
    }
    if (!img.expose.empty()) {
      Json& exposed = config["ExposedPorts"];
      if (!exposed.is_object()) exposed = Json::object();
      for (const std::string& spec : img.expose) {
        absl::StatusOr<std::vector<std::string>> ports = Ports(spec);
        if (!ports.ok()) return Err(s.pos, std::string(ports.status().message()));
        for (const std::string& p : *ports) exposed[p] = Json::object();
      }
      History(b, "EXPOSE " + absl::StrJoin(img.expose, " "), false);
    }
    if (!img.volumes.empty()) {
      Json& volumes = config["Volumes"];
      if (!volumes.is_object()) volumes = Json::object();
      for (const std::string& v : img.volumes) {
        if (v.empty()) return Err(s.pos, "a volume cannot be an empty string");
        volumes[v] = Json::object();
      }
      History(b, "VOLUME " + Json(img.volumes).dump(), false);
    }
    if (img.user.set) {
      User(b, img.user.value);
      History(b, "USER " + img.user.value, false);
    }
    if (img.workdir.set) {
      std::string wd = llb_internal::NormalizeActionPath(config.value("WorkingDir", "/"),
                                                         img.workdir.value, false);
      config["WorkingDir"] = wd;
      b.state = b.state.Dir(wd);
      History(b, "WORKDIR " + wd, false);
    }
    if (img.stopsignal.set) {
      if (img.stopsignal.value.empty()) return Err(img.stopsignal.pos, "stopsignal is empty");
      config["StopSignal"] = img.stopsignal.value;
      History(b, "STOPSIGNAL " + img.stopsignal.value, false);
    }
    return absl::OkStatus();
  }

  const Spec& spec_;
  const ConvertOptions& options_;
  std::shared_ptr<const llb::SourceMap> source_map_;
  std::map<std::string, Built> built_;
  std::map<std::string, llb::State> images_;
  frontend::BuildContext context_;  // the context source, following what the build reads
  int step_ = 0, steps_ = 0;
};

}  // namespace

absl::StatusOr<Converted> Convert(const yamlspec::Spec& spec, const ConvertOptions& options) {
  Converter c(spec, options);
  // Base image configs come from outside: a field of the wrong JSON type is
  // an error, not an exception.
  try {
    return c.Run();
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        options.filename, ": a base image config has a field of the wrong type (", e.what(), ")"));
  }
}

}  // namespace kiln::yamlconvert
