#include "gateway/ops/exec/runc.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gateway/fsutil/errors.h"
#include "gateway/ops/exec/internal/oci_config.h"
#include "gateway/ops/exec/internal/process.h"
#include "gateway/ops/exec/internal/rootfs.h"
#include "gateway/ops/exec/internal/user.h"
#include "sdk/base/status_macros.h"

namespace kiln::exec {
namespace {

using exec_internal::RunQuiet;

constexpr const char* kBundleFiles[] = {"config.json", "hosts", "resolv.conf", "runc.log"};

absl::Status MakeDirs(const std::string& path) {
  std::string partial;
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    partial = path.substr(0, i);
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      return fsutil::ErrnoToStatus(errno, "mkdir", partial);
    }
  }
  return absl::OkStatus();
}

absl::Status WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int OomScoreAdj() { return std::atoi(ReadFileOrEmpty("/proc/self/oom_score_adj").c_str()); }

// A pipe whose ends close with it; both ends close on exec so that runc
// processes spawned concurrently by other Runs do not hold them open.
struct Pipe {
  int r = -1, w = -1;
  ~Pipe() {
    if (r >= 0) ::close(r);
    if (w >= 0) ::close(w);
  }
  absl::Status Open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return fsutil::ErrnoToStatus(errno, "pipe", "");
    r = fds[0];
    w = fds[1];
    return absl::OkStatus();
  }
  void CloseWrite() {
    ::close(w);
    w = -1;
  }
};

// The message of the first error runc logged, JSON escapes undone. runc logs
// an error only when it failed itself; a failing command is just an exit
// status.
std::optional<std::string> LoggedError(const std::string& log) {
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (!absl::StrContains(line, "\"level\":\"error\"") &&
        !absl::StrContains(line, "\"level\":\"fatal\"")) {
      continue;
    }
    size_t at = line.find("\"msg\":\"");
    if (at == std::string::npos) continue;
    std::string msg;
    for (size_t i = at + 7; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        char c = line[++i];
        msg += c == 'n' ? '\n' : c == 't' ? '\t' : c;
      } else {
        msg += line[i];
      }
    }
    absl::string_view m(msg);
    absl::ConsumePrefix(&m, "runc run failed: ");
    return std::string(m);
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RuncExecutor>> RuncExecutor::Create(const RuncOptions& options) {
  std::string runc = exec_internal::FindExecutable(options.runc);
  if (runc.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "runc (\"", options.runc, "\") not found; install the runc package to run exec steps"));
  }
  if (options.state_dir.empty()) return absl::InvalidArgumentError("runc executor: no state_dir");
  KILN_RETURN_IF_ERROR(MakeDirs(options.state_dir));
  char real[PATH_MAX];
  if (::realpath(options.state_dir.c_str(), real) == nullptr) {
    return fsutil::ErrnoToStatus(errno, "realpath", options.state_dir);
  }
  std::string state = real;
  KILN_RETURN_IF_ERROR(MakeDirs(state + "/runc"));
  KILN_RETURN_IF_ERROR(MakeDirs(state + "/bundles"));
  return std::unique_ptr<RuncExecutor>(
      new RuncExecutor(std::move(runc), state + "/runc", state + "/bundles"));
}

std::string RuncExecutor::NewId() {
  return absl::StrCat("kiln-", ::getpid(), "-", absl::ToUnixNanos(absl::Now()), "-",
                      next_id_.fetch_add(1));
}

namespace {

// One container's run: its bundle, its runc process and the cleanup after it.
class Container {
 public:
  Container(const std::string& runc, const std::string& root, std::string id, std::string bundle)
      : runc_(runc), root_(root), id_(std::move(id)), bundle_(std::move(bundle)) {}
  ~Container() {
    for (const char* f : kBundleFiles) ::unlink(absl::StrCat(bundle_, "/", f).c_str());
    ::rmdir(bundle_.c_str());
  }

  absl::Status WriteBundle(const Spec& spec, const exec_internal::User& user) {
    if (::mkdir(bundle_.c_str(), 0700) != 0) return fsutil::ErrnoToStatus(errno, "mkdir", bundle_);
    exec_internal::ConfigInputs in;
    in.user = user;
    in.hosts_file = bundle_ + "/hosts";
    in.resolv_conf_file = bundle_ + "/resolv.conf";
    in.oom_score_adj = OomScoreAdj();
    const std::string& hostname =
        spec.hostname.empty() ? exec_internal::kDefaultHostname : spec.hostname;
    KILN_RETURN_IF_ERROR(WriteFile(in.hosts_file, exec_internal::HostsFile(hostname)));
    KILN_RETURN_IF_ERROR(WriteFile(in.resolv_conf_file,
                                   exec_internal::ResolvConf(ReadFileOrEmpty("/etc/resolv.conf"),
                                                             spec.network == pb::NetMode::HOST)));
    return WriteFile(bundle_ + "/config.json", exec_internal::OciConfig(spec, in));
  }

  // Runs the container to its end and returns runc's exit status. runc
  // hands its stdio to the process as they are (no terminal).
  absl::StatusOr<int> Run(const OutputFn& output, const CancelFn& cancelled, int stdio_fd) {
    Pipe out, err;
    if (stdio_fd < 0) KILN_RETURN_IF_ERROR(out.Open());
    KILN_RETURN_IF_ERROR(err.Open());
    KILN_ASSIGN_OR_RETURN(
        pid_t pid, exec_internal::Spawn({runc_, "--root", root_, "--log", bundle_ + "/runc.log",
                                         "--log-format", "json", "run", "--bundle", bundle_, id_},
                                        stdio_fd < 0 ? out.w : stdio_fd, err.w, stdio_fd));
    if (stdio_fd < 0) out.CloseWrite();
    err.CloseWrite();
    Pump(pid, stdio_fd < 0 ? out.r : -1, err.r, output, cancelled);
    int status = exec_internal::Wait(pid);
    // `runc run` deletes its container; this catches one left by a killed runc.
    (void)RunQuiet({runc_, "--root", root_, "delete", "--force", id_});
    return status;
  }

  bool cancelled() const { return cancel_requested_; }
  std::string log() const { return ReadFileOrEmpty(bundle_ + "/runc.log"); }

 private:
  // Forwards output until both pipes close. Once cancelled, asks runc to kill
  // the container every round until that succeeds (it may not exist yet).
  void Pump(pid_t pid, int out_fd, int err_fd, const OutputFn& output, const CancelFn& cancelled) {
    struct pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    absl::Time cancel_time;
    bool killed = false;
    char buf[65536];
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
      int n = ::poll(fds, 2, 100);
      for (int i = 0; n > 0 && i < 2; ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        ssize_t got = ::read(fds[i].fd, buf, sizeof(buf));
        if (got > 0 && output) output(i + 1, std::string_view(buf, got));
        if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) fds[i].fd = -1;
      }
      if (!cancel_requested_ && cancelled && cancelled()) {
        cancel_requested_ = true;
        cancel_time = absl::Now();
      }
      if (cancel_requested_ && !killed) {
        absl::StatusOr<int> rc = RunQuiet({runc_, "--root", root_, "kill", id_, "KILL"});
        killed = rc.ok() && *rc == 0;
      }
      // A runc that does not react is killed itself; what it started dies
      // with its pid namespace.
      if (cancel_requested_ && absl::Now() - cancel_time > absl::Seconds(10)) {
        ::kill(pid, SIGKILL);
        break;
      }
    }
  }

  const std::string& runc_;
  const std::string& root_;
  const std::string id_;
  const std::string bundle_;
  bool cancel_requested_ = false;
};

}  // namespace

absl::StatusOr<int> RuncExecutor::Run(const Spec& spec, const OutputFn& output,
                                      const CancelFn& cancelled) {
  if (spec.args.empty()) return absl::InvalidArgumentError("exec: no command");
  if (spec.rootfs.empty()) return absl::InvalidArgumentError("exec: no root filesystem");
  if (cancelled && cancelled()) return absl::CancelledError("cancelled");
  std::string command = absl::StrJoin(spec.args, " ");
  KILN_ASSIGN_OR_RETURN(exec_internal::User user,
                        exec_internal::ResolveUser(spec.rootfs, spec.user));
  std::vector<std::string> targets = {"/etc/resolv.conf", "/etc/hosts"};
  for (const Mount& m : spec.mounts) targets.push_back(m.dest);
  KILN_ASSIGN_OR_RETURN(exec_internal::MountStubs stubs,
                        exec_internal::MountStubs::Record(spec.rootfs, targets));
  if (!spec.readonly_rootfs) {
    KILN_RETURN_IF_ERROR(exec_internal::MakeWorkingDir(spec.rootfs, spec.cwd, user.uid, user.gid));
  }
  std::string id = NewId();
  Container container(runc_, runc_root_, id, absl::StrCat(bundles_, "/", id));
  KILN_RETURN_IF_ERROR(container.WriteBundle(spec, user));
  absl::StatusOr<int> status = container.Run(output, cancelled, spec.stdio_fd);
  stubs.Remove();
  if (!status.ok()) return status.status();
  if (container.cancelled())
    return absl::CancelledError(absl::StrCat("\"", command, "\" cancelled"));
  if (*status == 0) return 0;
  std::optional<std::string> error = LoggedError(container.log());
  if (!error.has_value()) return *status;
  // runc reports the user's process failing to start (not found, bad
  // working directory, bad user) as "unable to start container process".
  std::string message = absl::StrCat("process \"", command, "\" could not start: ", *error);
  if (absl::StrContains(*error, "unable to start container process")) {
    return absl::InvalidArgumentError(message);
  }
  return absl::InternalError(message);
}

}  // namespace kiln::exec
