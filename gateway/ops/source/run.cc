#include "gateway/ops/source/run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kiln::ops {
namespace {

// Owns a file descriptor; closes it on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    Reset(std::exchange(o.fd_, -1));
    return *this;
  }
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

absl::Status ErrnoStatus(const char* what) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(errno)));
}

void AppendCapped(std::string* out, const char* data, size_t n, size_t cap) {
  out->append(data, n);
  if (out->size() > cap) out->erase(0, out->size() - cap);
}

// Everything the child needs, prepared before fork.
struct ChildSetup {
  std::string program;
  std::vector<char*> argv;
  std::vector<char*> envp;
  const char* cwd = nullptr;
  std::optional<mode_t> umask;
  int stdin_fd, stdout_fd, stderr_fd, report_fd;
  pid_t parent;
};

[[noreturn]] void ChildExec(const ChildSetup& s) {
  // Only async-signal-safe calls from here on.
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != s.parent) _exit(127);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGPIPE, &dfl, nullptr);
  int err = 0;
  if (::dup2(s.stdin_fd, 0) < 0 || ::dup2(s.stdout_fd, 1) < 0 || ::dup2(s.stderr_fd, 2) < 0) {
    err = errno;
  } else if (s.cwd != nullptr && ::chdir(s.cwd) != 0) {
    err = errno;
  } else {
    if (s.umask.has_value()) ::umask(*s.umask);
    // Descriptors opened elsewhere in this process without O_CLOEXEC must
    // not leak into the child.
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execve(s.program.c_str(), s.argv.data(), s.envp.data());
    err = errno;
  }
  (void)!::write(s.report_fd, &err, sizeof(err));
  _exit(127);
}

struct Pipes {
  Fd out_r, out_w, err_r, err_w, report_r, report_w, devnull;
};

absl::StatusOr<Pipes> MakePipes() {
  Pipes p;
  int fds[2];
  for (auto [r, w] : {std::pair{&p.out_r, &p.out_w}, std::pair{&p.err_r, &p.err_w},
                      std::pair{&p.report_r, &p.report_w}}) {
    if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe2");
    r->Reset(fds[0]);
    w->Reset(fds[1]);
  }
  p.devnull.Reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (p.devnull.get() < 0) return ErrnoStatus("open /dev/null");
  return p;
}

// What a child wrote, and whether we had to kill it.
struct Collected {
  std::string out, err;
  bool timed_out = false, cancelled = false;
};

// Reads whatever is ready on the open pipes (closing those at EOF).
void Pump(Fd& out_r, Fd& err_r, Collected* c, size_t cap) {
  struct pollfd pfds[2] = {{out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}};
  if (::poll(pfds, 2, 100) <= 0) return;
  char buf[65536];
  for (int i = 0; i < 2; ++i) {
    if (pfds[i].fd < 0 || pfds[i].revents == 0) continue;
    ssize_t got = ::read(pfds[i].fd, buf, sizeof(buf));
    if (got > 0) {
      AppendCapped(i == 0 ? &c->out : &c->err, buf, got, cap);
    } else if (got == 0 || errno != EINTR) {
      (i == 0 ? out_r : err_r).Reset();
    }
  }
}

// Reads both pipes until EOF while watching the deadline and the cancel
// function; kills the child's process group when either fires.
Collected Collect(pid_t pid, Fd out_r, Fd err_r, const RunOptions& opts) {
  Collected c;
  const absl::Time deadline = absl::Now() + opts.timeout;
  bool exited = false, killed = false;
  absl::Time drain_until = absl::InfiniteFuture();
  while (out_r.get() >= 0 || err_r.get() >= 0) {
    Pump(out_r, err_r, &c, opts.max_output_bytes);
    if (!exited) {
      siginfo_t info = {};
      ::waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT);
      if (info.si_pid == pid) {
        exited = true;
        // Leftover helpers in its group would hold the pipes open forever.
        ::kill(-pid, SIGKILL);
        drain_until = absl::Now() + absl::Seconds(2);
      }
    }
    if (exited && absl::Now() > drain_until) break;
    if (!exited && !killed) {
      c.timed_out = absl::Now() > deadline;
      c.cancelled = !c.timed_out && IsCancelled(opts.cancelled);
      if (c.timed_out || c.cancelled) {
        ::kill(-pid, SIGKILL);
        killed = true;
      }
    }
  }
  return c;
}

// Everything the child needs, as pointers into `opts` and `program`, which
// must outlive the fork.
ChildSetup Prepare(const RunOptions& opts, const std::string& program, const Pipes& pipes) {
  ChildSetup s;
  s.program = program;
  for (const std::string& a : opts.argv) {
    s.argv.push_back(const_cast<char*>(a.c_str()));
  }
  s.argv.push_back(nullptr);
  for (const std::string& e : opts.env) {
    s.envp.push_back(const_cast<char*>(e.c_str()));
  }
  s.envp.push_back(nullptr);
  s.cwd = opts.cwd.empty() ? nullptr : opts.cwd.c_str();
  s.umask = opts.umask;
  s.stdin_fd = pipes.devnull.get();
  s.stdout_fd = pipes.out_w.get();
  s.stderr_fd = pipes.err_w.get();
  s.report_fd = pipes.report_w.get();
  s.parent = ::getpid();
  return s;
}

absl::StatusOr<RunResult> Outcome(const RunOptions& opts, Collected c, int status) {
  const std::string& what = opts.argv[0];
  if (c.timed_out) {
    return absl::DeadlineExceededError(absl::StrCat(
        what, " killed after ", absl::FormatDuration(opts.timeout), ": ", TailLines(c.err)));
  }
  if (c.cancelled) return absl::CancelledError(absl::StrCat(what, " cancelled"));
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.stdout_data = std::move(c.out);
  r.stderr_data = std::move(c.err);
  return r;
}

}  // namespace

std::optional<std::string> FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  for (absl::string_view dir : absl::StrSplit(dirs, ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", name);
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

absl::StatusOr<RunResult> RunProcess(const RunOptions& opts) {
  if (opts.argv.empty()) {
    return absl::InvalidArgumentError("RunProcess: empty argv");
  }
  std::optional<std::string> program = FindProgram(opts.argv[0]);
  if (!program.has_value()) {
    return absl::NotFoundError(absl::StrCat("program \"", opts.argv[0], "\" not found in $PATH"));
  }
  // A caller that has already cancelled runs nothing. (Checked here too: a
  // quick child can exit before Collect's first look at `cancelled`.)
  if (IsCancelled(opts.cancelled)) {
    return absl::CancelledError(absl::StrCat(opts.argv[0], " cancelled"));
  }
  absl::StatusOr<Pipes> pipes = MakePipes();
  if (!pipes.ok()) return pipes.status();
  const ChildSetup setup = Prepare(opts, *program, *pipes);
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus("fork");
  if (pid == 0) ChildExec(setup);
  pipes->out_w.Reset();
  pipes->err_w.Reset();
  pipes->report_w.Reset();
  pipes->devnull.Reset();

  Collected c = Collect(pid, std::move(pipes->out_r), std::move(pipes->err_r), opts);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  int exec_errno = 0;
  if (::read(pipes->report_r.get(), &exec_errno, sizeof(exec_errno)) == sizeof(exec_errno)) {
    return absl::InternalError(absl::StrCat("cannot run ", *program, ": ", strerror(exec_errno)));
  }
  return Outcome(opts, std::move(c), status);
}

std::string TailLines(std::string_view text, int max_lines) {
  std::vector<absl::string_view> lines;
  for (absl::string_view line : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty()) lines.push_back(line);
  }
  if (static_cast<int>(lines.size()) > max_lines) {
    lines.erase(lines.begin(), lines.end() - max_lines);
  }
  return absl::StrJoin(lines, "\n");
}

}  // namespace kiln::ops
