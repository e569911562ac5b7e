#include "sdk/llb/exec.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sdk/llb/internal/go_path.h"
#include "sdk/llb/internal/node.h"
#include "sdk/llb/shlex.h"

namespace kiln::llb {
namespace {

using llb_internal::CapSet;
using llb_internal::Output;
using llb_internal::StateAccess;

enum class MountKind { kBind, kCache, kTmpfs };

// A mount that takes part in output numbering (everything but secrets/ssh).
struct MountSpec {
  std::string target;
  Output source;
  std::string selector;
  bool readonly = false;
  bool no_output = false;
  MountKind kind = MountKind::kBind;
  CacheMount cache;
  int64_t tmpfs_size = 0;
  pb::MountContentCache content_cache = pb::DEFAULT;
  int64_t output = -1;  // pb.SkipOutput
};

struct SideMount {  // secret or ssh
  std::string target;
  std::string id;
  uint32_t uid = 0, gid = 0, mode = 0;
  bool optional = false;
};

struct ExecSpec {
  pb::Meta meta;
  pb::NetMode network = pb::UNSET;
  pb::SecurityMode security = pb::SANDBOX;
  std::optional<Platform> platform;
  std::vector<MountSpec> mounts;  // sorted by target
  std::vector<SideMount> secrets;
  std::vector<SideMount> ssh;
  std::vector<SecretEnv> secret_env;
};

void AddMountCaps(const MountSpec& m, CapSet* caps) {
  if (!m.selector.empty()) caps->insert("exec.mount.selector");
  if (m.kind == MountKind::kCache) {
    caps->insert("exec.mount.cache");
    caps->insert("exec.mount.cache.sharing");
  } else if (m.kind == MountKind::kTmpfs) {
    caps->insert("exec.mount.tmpfs");
    if (m.tmpfs_size > 0) caps->insert("exec.mount.tmpfs.size");
  } else if (!m.source.IsScratch()) {
    caps->insert("exec.mount.bind");
  }
  if (m.content_cache != pb::DEFAULT) caps->insert("exec.mount.cache.content");
}

class ExecNode final : public llb_internal::Node {
 public:
  ExecNode(ExecSpec spec, OpOptions options, absl::Status error)
      : Node(std::move(options), std::move(error)), spec_(std::move(spec)) {}

  std::vector<Output> Deps() const override {
    std::vector<Output> deps;
    for (const MountSpec& m : spec_.mounts) {
      if (m.source.IsScratch()) continue;
      bool seen = std::any_of(deps.begin(), deps.end(),
                              [&](const Output& d) { return d.SameAs(m.source); });
      if (!seen) deps.push_back(m.source);
    }
    return deps;
  }

  absl::Status Fill(const llb_internal::MarshalContext& ctx, pb::Op* op,
                    CapSet* caps) const override {
    *op->mutable_platform() = ctx.PlatformFor(spec_.platform);
    pb::ExecOp* exec = op->mutable_exec();
    *exec->mutable_meta() = spec_.meta;
    exec->set_network(spec_.network);
    exec->set_security(spec_.security);
    AddMetaCaps(caps);
    for (const MountSpec& m : spec_.mounts) {
      AddMountCaps(m, caps);
      FillMount(ctx, m, op, exec->add_mounts());
    }
    FillSideMounts(exec, caps);
    return absl::OkStatus();
  }

 private:
  void AddMetaCaps(CapSet* caps) const {
    caps->insert("exec.meta.base");
    if (spec_.network != pb::UNSET) caps->insert("exec.meta.network");
    if (spec_.security == pb::INSECURE) caps->insert("exec.meta.security");
    if (spec_.meta.validexitcodes_size() > 0) caps->insert("exec.validexitcode");
  }

  static void FillMount(const llb_internal::MarshalContext& ctx, const MountSpec& m, pb::Op* op,
                        pb::Mount* pm) {
    pm->set_input(m.source.IsScratch()
                      ? -1
                      : llb_internal::AddInput(ctx.InputOf(m.source), op->mutable_inputs()));
    pm->set_dest(m.target);
    pm->set_readonly(m.readonly);
    pm->set_output(m.output);
    pm->set_selector(m.selector);
    if (m.kind == MountKind::kCache) {
      pm->set_mounttype(pb::CACHE);
      pm->mutable_cacheopt()->set_id(m.cache.id);
      pm->mutable_cacheopt()->set_sharing(m.cache.sharing);
    }
    pm->set_contentcache(m.content_cache);
    if (m.kind == MountKind::kTmpfs) {
      pm->set_mounttype(pb::TMPFS);
      pm->mutable_tmpfsopt()->set_size(m.tmpfs_size);
    }
  }

  void FillSideMounts(pb::ExecOp* exec, CapSet* caps) const {
    for (const SideMount& s : spec_.secrets) {
      pb::Mount* pm = exec->add_mounts();
      pm->set_input(-1);
      pm->set_dest(s.target);
      pm->set_mounttype(pb::SECRET);
      pb::SecretOpt* opt = pm->mutable_secretopt();
      opt->set_id(s.id);
      opt->set_uid(s.uid);
      opt->set_gid(s.gid);
      opt->set_mode(s.mode);
      opt->set_optional(s.optional);
    }
    for (const SecretEnv& e : spec_.secret_env) {
      pb::SecretEnv* se = exec->add_secretenv();
      se->set_id(e.id);
      se->set_name(e.name);
      se->set_optional(e.optional);
    }
    for (const SideMount& s : spec_.ssh) {
      pb::Mount* pm = exec->add_mounts();
      pm->set_input(-1);
      pm->set_dest(s.target);
      pm->set_mounttype(pb::SSH);
      pb::SSHOpt* opt = pm->mutable_sshopt();
      opt->set_id(s.id);
      opt->set_uid(s.uid);
      opt->set_gid(s.gid);
      opt->set_mode(s.mode);
      opt->set_optional(s.optional);
    }
    if (!spec_.secrets.empty() || !spec_.secret_env.empty()) caps->insert("exec.mount.secret");
    if (!spec_.secret_env.empty()) caps->insert("exec.secretenv");
    if (!spec_.ssh.empty()) caps->insert("exec.mount.ssh");
  }

  ExecSpec spec_;
};

// Collects the first problem found while building an exec.
class Problems {
 public:
  explicit Problems(std::string where) : where_(std::move(where)) {}
  void Add(std::string_view what) {
    if (status_.ok()) {
      status_ = absl::InvalidArgumentError(absl::StrCat("llb: ", where_, ": ", std::string(what)));
    }
  }
  const absl::Status& status() const { return status_; }

 private:
  std::string where_;
  absl::Status status_;
};

std::string ExecName(const RunOptions& o) {
  if (!o.op.custom_name.empty()) return absl::StrCat("Run \"", o.op.custom_name, "\"");
  if (!o.args.empty()) return absl::StrCat("Run [", absl::StrJoin(o.args, " "), "]");
  return absl::StrCat("Run \"", o.shlex, "\"");
}

std::vector<std::string> ResolveArgs(const RunOptions& o, Problems* problems) {
  std::vector<std::string> args = o.args;
  if (!o.args.empty() && !o.shlex.empty()) problems->Add("both args and shlex are set");
  if (args.empty() && !o.shlex.empty()) {
    absl::StatusOr<std::vector<std::string>> split = Shlex(o.shlex);
    if (split.ok()) {
      args = *std::move(split);
    } else {
      problems->Add(std::string(split.status().message()));
    }
  }
  if (args.empty()) problems->Add("no command arguments");
  return args;
}

int KindCount(const Mount& m) {
  return m.cache.has_value() + m.tmpfs.has_value() + m.secret.has_value() + m.ssh.has_value();
}

MountSpec ToSpec(const Mount& m, Problems* problems) {
  MountSpec spec;
  spec.target = m.target;
  spec.source = StateAccess::OutputOf(m.source);
  spec.selector = m.selector;
  spec.readonly = m.readonly;
  spec.no_output = m.no_output;
  spec.content_cache = m.content_cache;
  if (m.cache.has_value()) {
    spec.kind = MountKind::kCache;
    spec.cache = *m.cache;
  } else if (m.tmpfs.has_value()) {
    spec.kind = MountKind::kTmpfs;
    spec.tmpfs_size = m.tmpfs->size;
    if (!spec.source.IsScratch()) {
      problems->Add(absl::StrCat("tmpfs mount ", m.target, " has a source"));
    }
  }
  return spec;
}

template <typename Opt>
SideMount ToSide(const std::string& target, const Opt& opt) {
  SideMount s;
  s.target = target;
  s.id = opt.id;
  s.uid = opt.uid;
  s.gid = opt.gid;
  s.mode = opt.mode;
  s.optional = opt.optional;
  return s;
}

// Sorts mounts by target and numbers the outputs as BuildKit does.
void NumberOutputs(std::vector<MountSpec>* mounts, Problems* problems) {
  std::stable_sort(mounts->begin(), mounts->end(),
                   [](const MountSpec& a, const MountSpec& b) { return a.target < b.target; });
  int64_t next = 0;
  for (size_t i = 0; i < mounts->size(); ++i) {
    MountSpec& m = (*mounts)[i];
    if (i > 0 && (*mounts)[i - 1].target == m.target) {
      problems->Add(absl::StrCat("two mounts at ", m.target));
    }
    if (!m.readonly && !m.no_output && m.kind == MountKind::kBind) m.output = next++;
  }
}

void AddMounts(const RunOptions& o, ExecSpec* spec, Problems* problems) {
  for (const Mount& m : o.mounts) {
    if (m.target.empty() && !m.ssh) problems->Add("mount with an empty target");
    if (KindCount(m) > 1) problems->Add(absl::StrCat("mount ", m.target, " has several kinds"));
    if ((m.secret || m.ssh) && !m.source.IsScratch()) {
      problems->Add(absl::StrCat("secret or ssh mount ", m.target, " has a source"));
    }
    if (m.secret.has_value()) {
      spec->secrets.push_back(ToSide(m.target, *m.secret));
    } else if (m.ssh.has_value()) {
      SideMount s = ToSide(m.target, *m.ssh);
      if (s.target.empty()) s.target = absl::StrCat("/run/buildkit/ssh_agent.", spec->ssh.size());
      spec->ssh.push_back(std::move(s));
    } else {
      spec->mounts.push_back(ToSpec(m, problems));
    }
  }
  NumberOutputs(&spec->mounts, problems);
}

pb::Meta BuildMeta(const llb_internal::StateMeta& base, const RunOptions& o,
                   std::vector<std::string> args, const std::vector<SideMount>& ssh) {
  llb_internal::StateMeta m = base;
  for (const auto& [k, v] : o.env) m.SetEnv(k, v);
  if (!ssh.empty() && m.FindEnv("SSH_AUTH_SOCK") == nullptr) {
    m.SetEnv("SSH_AUTH_SOCK", ssh[0].target);
  }
  pb::Meta meta;
  for (std::string& a : args) meta.add_args(std::move(a));
  for (const auto& [k, v] : m.env) meta.add_env(absl::StrCat(k, "=", v));
  if (o.cwd.empty()) {
    meta.set_cwd(m.dir);
  } else if (llb_internal::IsAbsPath(o.cwd)) {
    meta.set_cwd(o.cwd);
  } else {
    meta.set_cwd(llb_internal::JoinPath({m.dir.empty() ? "/" : m.dir, o.cwd}));
  }
  meta.set_user(o.user.value_or(m.user));
  meta.set_hostname(o.hostname.value_or(m.hostname));
  meta.set_removemountstubsrecursive(true);
  if (o.proxy_env.has_value()) *meta.mutable_proxy_env() = *o.proxy_env;
  if (o.valid_exit_codes.has_value()) {
    for (int32_t code : *o.valid_exit_codes) meta.add_validexitcodes(code);
  }
  return meta;
}

State NoOutput(std::string_view target, std::string_view why) {
  return StateAccess::Fresh(
      {llb_internal::ErrorNode(absl::InvalidArgumentError(absl::StrCat(
           "llb: ExecState::GetMount(\"", std::string(target), "\"): ", std::string(why)))),
       0});
}

// What GetMount returns for each target, and the Root() state.
void MountStates(const ExecSpec& spec, const std::shared_ptr<const llb_internal::Node>& node,
                 const State& base, bool readonly_rootfs, State* root,
                 std::vector<std::pair<std::string, State>>* mounts) {
  for (const MountSpec& m : spec.mounts) {
    State out;
    if (m.readonly) {
      out = StateAccess::Fresh(m.source);
    } else if (m.output < 0) {
      out =
          NoOutput(m.target, m.kind == MountKind::kBind ? "the mount has no output"
                                                        : "cache and tmpfs mounts have no output");
    } else {
      out = StateAccess::Fresh({node, m.output});
    }
    if (m.target == "/") {
      *root = readonly_rootfs ? base : StateAccess::WithOutput(base, {node, m.output});
    }
    mounts->emplace_back(m.target, std::move(out));
  }
  for (const std::vector<SideMount>* side : {&spec.secrets, &spec.ssh}) {
    for (const SideMount& s : *side) {
      mounts->emplace_back(s.target, NoOutput(s.target, "secret and ssh mounts have no output"));
    }
  }
}

}  // namespace

ExecState State::Run(const RunOptions& o) const {
  const llb_internal::StateMeta& base = StateAccess::MetaOf(*this);
  Problems problems(ExecName(o));
  std::vector<std::string> args = ResolveArgs(o, &problems);
  RunOptions with_root = o;
  Mount root;
  root.target = "/";
  root.source = *this;
  root.readonly = o.readonly_rootfs;
  with_root.mounts.insert(with_root.mounts.begin(), std::move(root));
  ExecSpec spec;
  AddMounts(with_root, &spec, &problems);
  spec.meta = BuildMeta(base, o, std::move(args), spec.ssh);
  spec.network = o.network.value_or(base.network);
  spec.security = o.security.value_or(base.security);
  spec.platform = base.platform;
  spec.secret_env = o.secret_env;
  auto node = llb_internal::NewNode<ExecNode>(spec, o.op, problems.status());
  ExecState result;
  MountStates(spec, node, *this, o.readonly_rootfs, &result.root_, &result.mounts_);
  return result;
}

State ExecState::GetMount(std::string_view target) const {
  for (const auto& [t, s] : mounts_) {
    if (t == target) return s;
  }
  return NoOutput(target, "no mount at this target");
}

}  // namespace kiln::llb
