// The exec op: mounts its inputs, runs one process through the Executor,
// and commits the writable mounts that are outputs.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gateway/fsutil/copy.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/path.h"
#include "gateway/fsutil/tree.h"
#include "gateway/ops/internal.h"
#include "gateway/ops/ssh_agent.h"
#include "sdk/base/status_macros.h"

namespace kiln::ops_internal {
namespace {

// The last bytes a process wrote, for the error message when it fails.
class OutputTail {
 public:
  void Add(std::string_view data) {
    std::lock_guard<std::mutex> lock(mu_);
    tail_.append(data);
    if (tail_.size() > kKeep) tail_.erase(0, tail_.size() - kKeep);
  }
  // The last `lines` lines.
  std::string Lines(size_t lines) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> all = absl::StrSplit(tail_, '\n', absl::SkipEmpty());
    size_t from = all.size() > lines ? all.size() - lines : 0;
    return absl::StrJoin(all.begin() + from, all.end(), "\n");
  }

 private:
  static constexpr size_t kKeep = 8192;
  mutable std::mutex mu_;
  std::string tail_;
};

// What a step takes from its session, read when the step is resolved:
// secret values (in memory until it runs) and ssh agents.
struct Secrets {
  std::map<int, std::string> mounts;                     // mount index -> value
  std::vector<std::string> env;                          // "NAME=value"
  std::map<int, std::shared_ptr<solver::SshAgent>> ssh;  // mount index -> agent
};

// A 0700 directory in /dev/shm (memory, never disk) holding a step's
// secret files; removed with everything in it when the step ends.
class SecretDir {
 public:
  ~SecretDir() {
    if (!path_.empty()) fsutil::RemoveAll(path_).IgnoreError();
  }
  absl::StatusOr<std::string> Write(const pb::SecretOpt& opt, const std::string& value) {
    if (path_.empty()) {
      char tmpl[] = "/dev/shm/kiln-secrets-XXXXXX";
      if (mkdtemp(tmpl) == nullptr) {
        return absl::FailedPreconditionError("secret mounts need /dev/shm (a tmpfs)");
      }
      path_ = tmpl;
    }
    std::string file = absl::StrCat(path_, "/", count_++);
    int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return fsutil::ErrnoToStatus(errno, "create secret file in", path_);
    bool ok = write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size()) &&
              fchown(fd, opt.uid(), opt.gid()) == 0 && fchmod(fd, opt.mode() & 07777) == 0;
    close(fd);
    if (!ok) return absl::InternalError(absl::StrCat("writing secret ", opt.id(), " failed"));
    return file;
  }

 private:
  std::string path_;
  int count_ = 0;
};

class ExecRunner : public solver::OpRunner {
 public:
  ExecRunner(const solver::Vertex& v, Secrets secrets, exec::Executor* executor,
             cache::CacheMounts* cache_mounts)
      : v_(v), secrets_(std::move(secrets)), executor_(executor), cache_mounts_(cache_mounts) {}

  absl::StatusOr<solver::CacheMap> GetCacheMap(solver::OpContext&) override {
    // Proxy settings change how a step reaches the network, not its result.
    pb::Op keyed = v_.op;
    keyed.mutable_exec()->mutable_meta()->clear_proxy_env();
    solver::CacheMap cm;
    cm.digest = ops::OpDigest("exec", keyed);
    cm.selectors.resize(v_.op.inputs_size());
    // An input mounted only read-only at a selected path counts by the
    // content of that path; any other use counts by its key.
    std::set<int64_t> whole;
    for (const pb::Mount& m : v_.op.exec().mounts()) {
      if (m.input() >= 0 && (!m.readonly() || m.selector().empty())) whole.insert(m.input());
    }
    for (const pb::Mount& m : v_.op.exec().mounts()) {
      if (m.input() < 0 || whole.count(m.input()) || m.mounttype() != pb::BIND) continue;
      solver::Selector sel;
      sel.path = m.selector();
      sel.follow_links = true;
      cm.selectors[m.input()].push_back(std::move(sel));
    }
    return cm;
  }

  absl::StatusOr<std::vector<cache::Committed>> Run(
      solver::OpContext& ctx, const std::vector<cache::Chain>& inputs) override {
    const pb::ExecOp& op = v_.op.exec();
    cache::Snapshotter* snap = ctx.snapshotter();
    exec::Spec spec;
    const pb::Meta& meta = op.meta();
    spec.args.assign(meta.args().begin(), meta.args().end());
    spec.env.assign(meta.env().begin(), meta.env().end());
    // Proxy settings reach the process in both spellings, as BuildKit's
    // executor sets them.
    const pb::ProxyEnv& proxy = meta.proxy_env();
    for (const auto& [name, value] :
         {std::pair<const char*, const std::string*>{"HTTP_PROXY", &proxy.http_proxy()},
          {"HTTPS_PROXY", &proxy.https_proxy()},
          {"FTP_PROXY", &proxy.ftp_proxy()},
          {"NO_PROXY", &proxy.no_proxy()},
          {"ALL_PROXY", &proxy.all_proxy()}}) {
      if (value->empty()) continue;
      spec.env.push_back(absl::StrCat(name, "=", *value));
      spec.env.push_back(absl::StrCat(absl::AsciiStrToLower(name), "=", *value));
    }
    spec.cwd = meta.cwd().empty() ? "/" : meta.cwd();
    spec.user = meta.user();
    spec.hostname = meta.hostname();
    spec.network = op.network();
    spec.env.insert(spec.env.end(), secrets_.env.begin(), secrets_.env.end());
    SecretDir secret_dir;
    ops::AgentSockets agent_sockets;
    // Writable mounts by mount index, and what keeps read-only views mounted.
    std::vector<std::unique_ptr<cache::Active>> actives(op.mounts_size());
    std::vector<std::unique_ptr<cache::Mount>> views;
    std::vector<std::unique_ptr<cache::CacheMountLease>> leases;  // held until the process ends
    for (int i = 0; i < op.mounts_size(); ++i) {
      const pb::Mount& m = op.mounts(i);
      cache::Chain chain = m.input() < 0 ? cache::Chain{} : inputs[m.input()];
      std::string host;
      if (m.mounttype() == pb::TMPFS) {
        spec.mounts.push_back(
            {exec::Mount::Kind::kTmpfs, m.dest(), "", false, m.tmpfsopt().size()});
        continue;
      }
      if (m.mounttype() == pb::SECRET) {
        auto value = secrets_.mounts.find(i);
        if (value == secrets_.mounts.end()) continue;  // optional and not given
        KILN_ASSIGN_OR_RETURN(std::string file, secret_dir.Write(m.secretopt(), value->second));
        spec.mounts.push_back({exec::Mount::Kind::kBind, m.dest(), file, true, 0});
        continue;
      }
      if (m.mounttype() == pb::SSH) {
        auto agent = secrets_.ssh.find(i);
        if (agent == secrets_.ssh.end()) continue;  // optional and not forwarded
        KILN_ASSIGN_OR_RETURN(std::string sock, agent_sockets.Add(m.sshopt(), agent->second));
        spec.mounts.push_back({exec::Mount::Kind::kBind, m.dest(), sock, false, 0});
        continue;
      }
      if (m.mounttype() == pb::CACHE) {
        KILN_ASSIGN_OR_RETURN(std::string dir, LeaseCacheMount(snap, m, chain, &leases));
        spec.mounts.push_back({exec::Mount::Kind::kBind, m.dest(), dir, m.readonly(), 0});
        continue;
      }
      if (m.readonly()) {
        KILN_ASSIGN_OR_RETURN(std::unique_ptr<cache::Mount> view, snap->View(chain));
        KILN_ASSIGN_OR_RETURN(host, fsutil::ResolveInRoot(view->path(), m.selector(), true));
        views.push_back(std::move(view));
      } else {
        KILN_ASSIGN_OR_RETURN(actives[i], snap->Prepare(chain));
        host = actives[i]->path();
      }
      if (m.dest() == "/") {
        spec.rootfs = host;
        spec.readonly_rootfs = m.readonly();
      } else {
        spec.mounts.push_back({exec::Mount::Kind::kBind, m.dest(), host, m.readonly(), 0});
      }
    }
    KILN_RETURN_IF_ERROR(
        agent_sockets.Start([&ctx](const std::string& line) { ctx.Log(2, line); }));
    KILN_RETURN_IF_ERROR(RunProcess(ctx, spec));
    std::vector<cache::Committed> outputs(v_.num_outputs);
    for (int i = 0; i < op.mounts_size(); ++i) {
      int64_t out = op.mounts(i).output();
      if (out < 0 || actives[i] == nullptr) continue;
      KILN_ASSIGN_OR_RETURN(outputs[out], actives[i]->Commit());
    }
    return outputs;
  }

 private:
  // The directory of cache mount `m`, held in `leases`. A new one starts as a
  // copy of the mount's source (how LLB carries its mode and owner).
  absl::StatusOr<std::string> LeaseCacheMount(
      cache::Snapshotter* snap, const pb::Mount& m, const cache::Chain& source,
      std::vector<std::unique_ptr<cache::CacheMountLease>>* leases) {
    KILN_ASSIGN_OR_RETURN(auto lease,
                          cache_mounts_->Acquire(m.cacheopt().id(), m.cacheopt().sharing()));
    if (lease->fresh() && m.input() >= 0) {
      KILN_ASSIGN_OR_RETURN(std::unique_ptr<cache::Mount> view, snap->View(source));
      KILN_ASSIGN_OR_RETURN(std::string from,
                            fsutil::ResolveInRoot(view->path(), m.selector(), true));
      KILN_RETURN_IF_ERROR(fsutil::CopyTree(from, lease->path(), fsutil::CopyOptions{}));
    }
    leases->push_back(std::move(lease));
    return leases->back()->path();
  }

  absl::Status RunProcess(solver::OpContext& ctx, const exec::Spec& spec) {
    OutputTail tail;
    auto output = [&](int stream, std::string_view data) {
      tail.Add(data);
      ctx.Log(stream, data);
    };
    KILN_ASSIGN_OR_RETURN(int code, executor_->Run(spec, output, [&] { return ctx.cancelled(); }));
    const auto& valid = v_.op.exec().meta().validexitcodes();
    bool ok =
        valid.empty() ? code == 0 : std::find(valid.begin(), valid.end(), code) != valid.end();
    if (ok) return absl::OkStatus();
    std::string last = tail.Lines(10);
    return absl::UnknownError(absl::StrCat("process \"", absl::StrJoin(spec.args, " "),
                                           "\" did not complete successfully: exit code: ", code,
                                           last.empty() ? "" : "\nlast output:\n" + last));
  }

  const solver::Vertex& v_;
  Secrets secrets_;
  exec::Executor* executor_;
  cache::CacheMounts* cache_mounts_;
};

// Reads the step's secrets and ssh agents from the session now, so a
// missing one fails the build before anything runs.
absl::StatusOr<Secrets> ReadSecrets(const pb::ExecOp& op, const solver::Session& session) {
  Secrets out;
  for (int i = 0; i < op.mounts_size(); ++i) {
    const pb::Mount& m = op.mounts(i);
    if (m.mounttype() == pb::SSH) {
      // No id is the agent "default", as BuildKit's session has it.
      const std::string& id = m.sshopt().id();
      absl::StatusOr<std::shared_ptr<solver::SshAgent>> agent =
          session.Ssh(id.empty() ? "default" : id);
      if (absl::IsNotFound(agent.status()) && m.sshopt().optional()) continue;
      if (!agent.ok()) {
        return absl::Status(agent.status().code(),
                            absl::StrCat("ssh mount ", m.dest(), ": ", agent.status().message()));
      }
      out.ssh[i] = std::move(*agent);
      continue;
    }
    if (m.mounttype() != pb::SECRET) continue;
    absl::StatusOr<std::string> value = session.Secret(m.secretopt().id());
    if (absl::IsNotFound(value.status()) && m.secretopt().optional()) continue;
    if (!value.ok()) {
      return absl::Status(value.status().code(),
                          absl::StrCat("secret mount ", m.dest(), ": ", value.status().message()));
    }
    out.mounts[i] = std::move(*value);
  }
  for (const pb::SecretEnv& e : op.secretenv()) {
    absl::StatusOr<std::string> value = session.Secret(e.id());
    if (absl::IsNotFound(value.status()) && e.optional()) continue;
    if (!value.ok()) {
      return absl::Status(value.status().code(),
                          absl::StrCat("secret env ", e.name(), ": ", value.status().message()));
    }
    out.env.push_back(absl::StrCat(e.name(), "=", *value));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<solver::OpRunner>> NewExecRunner(const solver::Vertex& v,
                                                                const solver::Session& session,
                                                                exec::Executor* executor,
                                                                cache::CacheMounts* cache_mounts) {
  const pb::ExecOp& op = v.op.exec();
  if (op.meta().args().empty()) return absl::InvalidArgumentError("exec op without args");
  bool has_root = false;
  for (const pb::Mount& m : op.mounts()) {
    std::string where = absl::StrCat("exec mount ", m.dest());
    if (m.input() < -1 || m.input() >= v.op.inputs_size()) {
      return absl::InvalidArgumentError(absl::StrCat(where, " refers to input ", m.input(),
                                                     ", but the op has ", v.op.inputs_size()));
    }
    if (m.dest().empty() || m.dest()[0] != '/' || fsutil::EscapesRoot(m.dest().substr(1))) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": want an absolute path"));
    }
    if (!m.selector().empty() && !m.readonly()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": a selector needs a read-only mount"));
    }
    if (m.mounttype() == pb::CACHE && (cache_mounts == nullptr || m.cacheopt().id().empty())) {
      return absl::InvalidArgumentError(absl::StrCat(where, cache_mounts == nullptr
                                                                ? ": no cache mount storage"
                                                                : ": cache mount without id"));
    }
    has_root = has_root || m.dest() == "/";
  }
  if (!has_root) return absl::InvalidArgumentError("exec op without a root mount");
  KILN_ASSIGN_OR_RETURN(Secrets secrets, ReadSecrets(op, session));
  return std::make_unique<ExecRunner>(v, std::move(secrets), executor, cache_mounts);
}

}  // namespace kiln::ops_internal
