// Instructions that change the filesystem: RUN (with its mounts, network
// and security modes, heredocs), WORKDIR, COPY and ADD.
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "frontends/dockerfile/convert/internal.h"
#include "sdk/base/status_macros.h"

namespace kiln::dockerfile::convert_internal {
namespace {

bool HasWildcards(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

// --chmod: an octal mode up to 07777, or a symbolic one such as u+x.
absl::Status ParseChmod(const std::string& v, llb::CopyOptions* o) {
  bool octal = !v.empty() && v.find_first_not_of("01234567") == std::string::npos;
  if (octal) {
    unsigned long m = strtoul(v.c_str(), nullptr, 8);
    if (v.size() > 5 || m > 07777) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid chmod parameter: '", v, "'. it should be octal string and between 0 and 07777"));
    }
    o->mode = static_cast<uint32_t>(m);
    return absl::OkStatus();
  }
  if (v.find_first_not_of("ugoa+-=rwxXst,") != std::string::npos || v.empty() ||
      v.find_first_of("+-=") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid chmod parameter: '", v,
                     "'. it should be octal string and between 0 and 07777, "
                     "or a symbolic mode such as u+x"));
  }
  o->mode_str = v;
  return absl::OkStatus();
}

}  // namespace

absl::Status Converter::Workdir(Stage& s, const std::string& path, const Node& n) {
  std::string wd = frontend::WorkdirPath(s.image, path);
  bool layer = frontend::ApplyWorkdir(wd, Op(s, n, "WORKDIR " + wd), &s.image, &s.state);
  History(s, "WORKDIR " + wd, layer);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<llb::Mount>> Converter::RunMounts(
    Stage& s, const Node& n, const Flags& f, std::vector<llb::SecretEnv>* secret_env) {
  std::vector<llb::Mount> out;
  auto expand = [&](const std::string& w) { return Expand(s, w); };
  for (const std::string& value : f.All("mount")) {
    KILN_ASSIGN_OR_RETURN(MountSpec m, ParseMount(value, expand));
    if (m.target.empty() && m.type != "secret" && m.type != "ssh") {
      return absl::InvalidArgumentError(absl::StrCat("mount ", value, ": target is required"));
    }
    frontend::RunMount rm;
    rm.type = m.type;
    rm.target = m.target;
    rm.source = m.source;
    rm.id = m.id;
    rm.sharing = m.sharing;
    rm.env = m.env;
    rm.readonly = m.readonly;
    rm.required = m.required;
    rm.size = m.size;
    rm.mode = m.mode;
    rm.uid = m.uid;
    rm.gid = m.gid;
    if (m.from.empty()) {
      // BuildKit counts every mount without from= (a tmpfs too) as reading
      // its source path of the context.
      context_.Read(m.source);
    }
    if (!m.from.empty() && m.type != "secret" && m.type != "ssh") {
      KILN_ASSIGN_OR_RETURN(Stage * from, SourceStage(m.from, n.start_line));
      if (!from->dispatched) {
        if (from->from != nullptr) {
          return absl::InvalidArgumentError(
              absl::StrCat("cannot mount from stage \"", m.from, "\" to \"", m.target,
                           "\", stage needs to be defined before current command"));
        }
        KILN_RETURN_IF_ERROR(DispatchStage(*from));
      }
      rm.from = from->state;
    }
    KILN_ASSIGN_OR_RETURN(std::optional<llb::Mount> mount,
                          frontend::MakeRunMount(rm, s.state.GetDir(), Context(), secret_env));
    if (mount.has_value()) out.push_back(std::move(*mount));
  }
  return out;
}

absl::Status Converter::Run(Stage& s, const Node& n, const Flags& f) {
  std::vector<std::string> args = Args(n);
  bool json = n.attributes.count("json") && n.attributes.at("json");
  if (!json) args = {absl::StrJoin(args, " ")};
  llb::RunOptions run;
  std::string name = "RUN " + args.back();
  if (!n.heredocs.empty()) {
    if (json)
      return absl::InvalidArgumentError("heredocs are not supported with the exec form of RUN");
    KILN_ASSIGN_OR_RETURN(std::optional<Heredoc> only, ParseHeredoc(args[0]));
    if (only.has_value()) {
      std::string data = n.heredocs[0].content;
      if (n.heredocs[0].chomp) data = ChompHeredocContent(data);
      if (absl::StartsWith(data, "#!")) {
        llb::OpOptions op;
        op.custom_name = "[internal] preparing inline document";
        llb::Mount doc;
        doc.target = "/dev/pipes/";
        doc.source = llb::Scratch().Dir("/").File(llb::Mkfile(n.heredocs[0].name, 0755, data), op);
        doc.selector = "/";
        doc.readonly = true;
        run.mounts.push_back(doc);
        args = {"/dev/pipes/" + n.heredocs[0].name};
      } else {
        args = {data};
      }
    } else {
      std::string script = args[0];
      for (const Heredoc& h : n.heredocs) absl::StrAppend(&script, "\n", h.content, h.name);
      args = {script};
    }
  }
  if (!json) {
    std::vector<std::string> shell = frontend::ShellOf(s.image);
    shell.insert(shell.end(), args.begin(), args.end());
    args = shell;
  }
  run.args = args;
  KILN_ASSIGN_OR_RETURN(std::vector<llb::Mount> mounts, RunMounts(s, n, f, &run.secret_env));
  run.mounts.insert(run.mounts.end(), mounts.begin(), mounts.end());
  KILN_ASSIGN_OR_RETURN(pb::NetMode network,
                        frontend::RunNetwork(f.Get("network"), options_.default_network));
  if (network != pb::UNSET) run.network = network;
  std::string security = f.Get("security");
  if (security == "insecure") {
    return absl::PermissionDeniedError(
        "RUN --security=insecure needs the security.insecure entitlement, which kiln does not "
        "grant to builds");
  } else if (!security.empty() && security != "sandbox") {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported security mode \"", security, "\" (want sandbox or insecure)"));
  }
  // Proxy build args reach the process without being declared, and stay
  // out of the image and the cache key.
  run.proxy_env = frontend::ProxyEnvFromBuildArgs(options_.build_args);
  run.op = Op(s, n, name);
  s.state = s.state.Run(run).Root();
  // History: "|N K=V ..." for the ARGs in scope, then the command.
  std::vector<std::string> parts;
  shell::Env env = StateEnv(s);
  std::vector<std::string> keys;
  for (const auto& [k, v] : s.args) {
    std::string val = env.Get(k).value_or(v.value_or(""));
    std::string kv = k + "=" + val;
    auto it = std::find(keys.begin(), keys.end(), k);
    if (it != keys.end()) {
      parts[it - keys.begin()] = kv;
    } else {
      keys.push_back(k);
      parts.push_back(kv);
    }
  }
  if (!parts.empty()) parts.insert(parts.begin(), absl::StrCat("|", parts.size()));
  parts.insert(parts.end(), args.begin(), args.end());
  History(s, absl::StrCat("RUN ", absl::StrJoin(parts, " "), " # buildkit"), true);
  return absl::OkStatus();
}

absl::Status Converter::Copy(Stage& s, const Node& n, const Flags& f, bool add) {
  const char* what = add ? "ADD" : "COPY";
  std::vector<std::string> args = Args(n);
  if (args.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        what,
        " requires at least two arguments, but only one was provided. Destination could "
        "not be determined"));
  }
  std::string dest_word = args.back();
  args.pop_back();
  KILN_ASSIGN_OR_RETURN(std::optional<Heredoc> dest_doc, ParseHeredoc(dest_word));
  if (dest_doc.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " cannot accept a heredoc as a destination"));
  }
  KILN_ASSIGN_OR_RETURN(std::string dest, Expand(s, dest_word));
  KILN_ASSIGN_OR_RETURN(std::string chown, Expand(s, f.Get("chown")));
  KILN_ASSIGN_OR_RETURN(std::string chmod, Expand(s, f.Get("chmod")));
  KILN_ASSIGN_OR_RETURN(bool link, f.Bool("link"));
  KILN_ASSIGN_OR_RETURN(bool parents, f.Bool("parents"));
  KILN_ASSIGN_OR_RETURN(bool keep_git, f.Bool("keep-git-dir"));
  std::optional<bool> unpack;
  if (f.Has("unpack")) {
    KILN_ASSIGN_OR_RETURN(unpack, f.Bool("unpack"));
  }
  std::string checksum = f.Get("checksum");
  std::string cwd = s.state.GetDir().empty() ? "/" : s.state.GetDir();
  dest = llb_internal::NormalizeActionPath(cwd, dest.empty() || dest == "." ? "./" : dest, true);

  llb::CopyOptions base;
  if (!chown.empty()) base.owner = llb::Owner::Parse(chown);
  if (!chmod.empty()) KILN_RETURN_IF_ERROR(ParseChmod(chmod, &base));
  base.exclude_patterns = f.All("exclude");
  base.create_dest_path = true;

  llb::State source = Context();
  if (f.Has("from")) {
    KILN_ASSIGN_OR_RETURN(Stage * from, SourceStage(f.Get("from"), n.start_line));
    if (!from->dispatched) {
      if (from->from != nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot copy from stage \"", f.Get("from"),
                         "\", it needs to be defined before the current stage"));
      }
      KILN_RETURN_IF_ERROR(DispatchStage(*from));
    }
    source = from->state;
  }

  std::map<std::string, const Heredoc*> docs;
  for (const Heredoc& h : n.heredocs) docs[h.name] = &h;
  std::string msg = what;
  if (parents) msg += " --parents";
  if (!chown.empty()) absl::StrAppend(&msg, " --chown=", chown);
  if (!chmod.empty()) absl::StrAppend(&msg, " --chmod=", chmod);
  if (!checksum.empty() && (!add || args.size() != 1)) {
    return absl::InvalidArgumentError(add ? "checksum can't be specified for multiple sources"
                                          : "checksum can't be specified for COPY");
  }
  llb::FileAction chain;
  std::vector<std::string> doc_names;
  for (const std::string& word : args) {
    KILN_ASSIGN_OR_RETURN(std::optional<Heredoc> doc, ParseHeredoc(word));
    if (doc.has_value()) {
      auto it = docs.find(doc->name);
      std::string data = it == docs.end() ? "" : it->second->content;
      if (doc->chomp) data = ChompHeredocContent(data);
      if (doc->expand) {
        shell::Lex raw('\\');
        raw.set_skip_process_quotes(true);
        KILN_ASSIGN_OR_RETURN(data, raw.ProcessWord(data, StateEnv(s)));
      }
      llb::OpOptions op;
      op.custom_name = "[internal] preparing inline document";
      llb::State file = llb::Scratch().File(llb::Mkfile(doc->name, 0644, data), op);
      llb::CopyOptions o = base;
      chain = chain.Copy(file, doc->name, dest, o);
      doc_names.push_back(" <<" + doc->name);
      continue;
    }
    KILN_ASSIGN_OR_RETURN(std::string src, Expand(s, word));
    absl::StrAppend(&msg, " ", src);
    frontend::RemoteSource remote = frontend::ParseRemoteSource(src);
    if (remote.kind != frontend::RemoteSource::Kind::kNone && !f.Has("from")) {
      bool git = remote.kind == frontend::RemoteSource::Kind::kGit;
      if (!add) {
        return absl::InvalidArgumentError(git ? "source can't be a git ref for COPY"
                                              : "source can't be a URL for COPY");
      }
      llb::CopyOptions o = base;
      if (!git) o.attempt_unpack = unpack.value_or(false);
      chain = chain.Copy(
          frontend::RemoteSourceState(remote, checksum, keep_git, absl::StrCat(what, " ", src)),
          remote.path, dest, o);
    } else {
      if (!f.Has("from") && ignored_.has_value() && ignored_->Matches(src)) {
        warnings_.push_back(
            Warn(n.start_line,
                 absl::StrCat("CopyIgnoredFile: Attempting to ", add ? "Add" : "Copy", " file \"",
                              CleanPath(src), "\" that is excluded by .dockerignore")));
      }
      if (!f.Has("from")) context_.Read(src);
      llb::CopyOptions o = base;
      std::string from_path = src;
      if (parents) {
        size_t pivot = src.find("/./");
        std::string pattern = pivot == std::string::npos ? src : src.substr(pivot + 3);
        from_path = pivot == std::string::npos ? "/" : src.substr(0, pivot);
        pattern = llb_internal::NormalizeActionPath("/", pattern, false).substr(1);
        o.include_patterns = {pattern};
        if (!HasWildcards(from_path) && !HasWildcards(pattern)) {
          o.required_paths = {llb_internal::JoinPath({"/", from_path, pattern})};
        }
      }
      o.follow_symlinks = true;
      o.copy_dir_contents_only = true;
      o.attempt_unpack = unpack.value_or(add);
      o.allow_wildcard = true;
      o.allow_empty_wildcard = true;
      chain = chain.Copy(source, llb_internal::NormalizeActionPath("/", from_path, false), dest, o);
    }
  }
  for (const std::string& d : doc_names) msg += d;
  absl::StrAppend(&msg, " ", dest_word);
  std::string shown(absl::StripAsciiWhitespace(n.original));
  shown = absl::StrCat(what, shown.substr(std::min(shown.size(), strlen(what))));
  llb::OpOptions op = Op(s, n, shown);
  if (link && chmod.empty()) {
    llb::OpOptions merge_op = op;
    merge_op.custom_name = absl::StrCat(op.custom_name, " (link)");
    s.state =
        s.state.WithFilesystem(llb::Merge({s.state, llb::Scratch().File(chain, op)}, merge_op));
  } else {
    s.state = s.state.File(chain, op);
  }
  History(s, msg + " # buildkit", true);
  return absl::OkStatus();
}

}  // namespace kiln::dockerfile::convert_internal
