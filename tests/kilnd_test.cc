// kilnd end to end: the real daemon on a temporary socket, the real kiln
// client (`kiln --addr`), runc for RUN steps.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/ops/exec/busybox_rootfs.h"
#include "gtest/gtest.h"
#include "tests/harness.h"

namespace kiln::testing {
namespace {

std::string Runfile(const std::string& rel) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  std::string p = absl::StrCat(srcdir ? srcdir : ".", "/kiln/", rel);
  if (access(p.c_str(), F_OK) == 0) return p;
  return rel;
}

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    setpgid(0, 0);
    std::vector<char*> c;
    for (const std::string& a : argv) c.push_back(const_cast<char*>(a.c_str()));
    c.push_back(nullptr);
    execv(c[0], c.data());
    _exit(127);
  }
  return pid;
}

// Waits for `pid` at most `limit`; -1 if it is still running.
int WaitFor(pid_t pid, std::chrono::seconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() > end) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Polls `cond` every 50 ms for at most `limit`.
template <typename F>
bool Eventually(F cond, std::chrono::seconds limit = std::chrono::seconds(30)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

int CountProcesses(const std::string& pattern) {
  FILE* p = popen(("pgrep -fc '" + pattern + "'").c_str(), "r");
  char buf[32] = {};
  if (p != nullptr) {
    fread(buf, 1, sizeof buf - 1, p);
    pclose(p);
  }
  int n = 0;
  return absl::SimpleAtoi(absl::StripAsciiWhitespace(buf), &n) ? n : -1;
}

bool MountsUnder(const std::string& root) {
  std::ifstream mounts("/proc/mounts");
  std::stringstream ss;
  ss << mounts.rdbuf();
  return absl::StrContains(ss.str(), root);
}

class Kilnd {
 public:
  explicit Kilnd(std::string root) : root_(std::move(root)) {
    dir_ = TempDir("kilnd");
    // A socket path has at most 107 bytes; TEST_TMPDIR can be longer.
    char sock_dir[] = "/tmp/kilnd-test-XXXXXX";
    sock_dir_ = mkdtemp(sock_dir) ? sock_dir : dir_;
    addr_ = "unix://" + sock_dir_ + "/kilnd.sock";
  }
  ~Kilnd() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (sock_dir_ != dir_) (void)system(("rm -rf " + sock_dir_).c_str());
  }
  // Starts kilnd and waits until it answers.
  bool Start(std::vector<std::string> extra = {}) {
    log_ = dir_ + "/kilnd.log." + std::to_string(starts_++);
    std::vector<std::string> argv = {Runfile("cmd/kilnd/kilnd"), "--root", root_};
    if (extra.empty()) extra = {"--addr", addr_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = Spawn(argv, log_);
    bool exited = false;
    bool up = Eventually(
        [&] {
          int status;
          exited = exited || waitpid(pid_, &status, WNOHANG) == pid_;
          return exited || absl::StrContains(Log(), " steps at once");
        },
        std::chrono::seconds(20));
    if (exited) pid_ = -1;
    return up && !exited;
  }
  // Signals kilnd and returns its exit status (-1: still running after 60 s).
  int Stop(int sig = SIGTERM) {
    kill(pid_, sig);
    int code = WaitFor(pid_, std::chrono::seconds(60));
    if (code >= 0) pid_ = -1;
    return code;
  }
  std::string Log() const { return ReadFile(log_); }
  const std::string& addr() const { return addr_; }
  std::string socket() const { return addr_.substr(7); }
  const std::string& dir() const { return dir_; }

 private:
  std::string root_, dir_, sock_dir_, addr_, log_;
  pid_t pid_ = -1;
  int starts_ = 0;
};

class KilndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = exec::WhyNoContainers();
    if (!why.empty()) GTEST_SKIP() << why;
    daemon_root_ = TempDir("daemon-root");
    kilnd_ = std::make_unique<Kilnd>(daemon_root_);
    ASSERT_TRUE(kilnd_->Start()) << kilnd_->Log();
    // busybox, into the daemon's store through the client.
    ASSERT_EQ(ImportBusybox(embedded_), "");
    std::string dir = TempDir("base");
    MakeBusyboxTar(dir + "/bb.tar");
    KilnRun r = Remote({"image", "import", "--rootfs", dir + "/bb.tar", "busybox"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  static void MakeBusyboxTar(const std::string& tar);

  KilnRun Remote(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--addr", kilnd_->addr()});
    return client_.Run(args);
  }

  // `kiln --addr ... build` in the background, with rawjson progress in `log`.
  pid_t RemoteBuildAsync(const std::string& context, const std::string& log,
                         std::vector<std::string> extra = {}) const {
    std::vector<std::string> argv = {KilnBinary(),   "--root", client_.root(), "--addr",
                                     kilnd_->addr(), "build",  "--progress",   "rawjson"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(context);
    return Spawn(argv, log);
  }

  std::string daemon_root_;
  Harness embedded_;  // the embedded engine, to compare with
  Harness client_;    // the client's own root: only its scan indexes
  std::unique_ptr<Kilnd> kilnd_;
};

void KilndTest::MakeBusyboxTar(const std::string& tar) {
  std::string dir = tar + ".d";
  exec::MakeBusyboxRootfs(dir);
  ASSERT_EQ(system(("tar -C " + dir + " -cf " + tar + " .").c_str()), 0);
}

TEST_F(KilndTest, TheSocketIsOwnerOnly) {
  struct stat st;
  ASSERT_EQ(stat(kilnd_->socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  KilnRun w = Remote({"debug", "workers"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_TRUE(absl::StartsWith(w.out, "kiln linux/")) << w.out;
  // A second daemon on the same socket is refused, the first keeps it.
  Kilnd second(TempDir("other-root"));
  EXPECT_FALSE(second.Start({"--addr", kilnd_->addr()}));
  EXPECT_TRUE(absl::StrContains(second.Log(), "another daemon is listening")) << second.Log();
  EXPECT_EQ(Remote({"debug", "workers"}).exit_code, 0);
}

// The daemon's image store, through the client.
TEST_F(KilndTest, ImagesThroughTheDaemon) {
  KilnRun ls = Remote({"image", "ls"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_TRUE(absl::StrContains(ls.out, "docker.io/library/busybox:latest")) << ls.out;
  std::string out = TempDir("out");
  KilnRun exp = Remote({"image", "export", "busybox", out + "/bb.oci.tar"});
  ASSERT_EQ(exp.exit_code, 0) << exp.err;
  // The export imports elsewhere as the same image (the manifest digest
  // the daemon lists).
  KilnRun back = embedded_.Run({"image", "import", out + "/bb.oci.tar", "roundtrip"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  std::string digest = back.out.substr(back.out.find(' ') + 1, 19);
  EXPECT_TRUE(absl::StartsWith(digest, "sha256:")) << back.out;
  EXPECT_TRUE(absl::StrContains(ls.out, digest)) << ls.out << back.out;
  KilnRun missing = Remote({"image", "export", "nothere", out + "/x.tar"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(access((out + "/x.tar").c_str(), F_OK), 0);
  ASSERT_EQ(Remote({"image", "rm", "busybox"}).exit_code, 0);
  ls = Remote({"image", "ls"});
  EXPECT_FALSE(absl::StrContains(ls.out, "busybox")) << ls.out;
}

// RUN --mount=type=ssh: the client's agent (here a private one holding a
// key file) reaches the step through the Solve stream, as it does embedded.
TEST_F(KilndTest, SshAgentIsForwardedThroughTheDaemon) {
  if (system("command -v ssh-agent >/dev/null && command -v ssh-keygen >/dev/null") != 0) {
    GTEST_SKIP() << "ssh-agent/ssh-keygen not installed (Debian's openssh-client)";
  }
  std::string ctx = TempDir("ctx"), keys = TempDir("keys");
  ASSERT_EQ(system(("cp " + Runfile("tests/agent_probe") + " " + ctx + "/agent_probe").c_str()), 0);
  ASSERT_EQ(system(("ssh-keygen -q -t ed25519 -N '' -C kilnd-key -f " + keys + "/id").c_str()), 0);
  WriteFile(ctx + "/Dockerfile",
            "FROM busybox AS probe\n"
            "COPY agent_probe /\n"
            "RUN --mount=type=ssh,uid=1000 /agent_probe > /probe && "
            "stat -c '%a %u' $SSH_AUTH_SOCK > /sock\n"
            "FROM scratch\n"
            "COPY --from=probe /probe /sock /\n");
  for (bool remote : {false, true}) {
    std::string out = TempDir("out");
    std::vector<std::string> a = {"build", "--ssh", "default=" + keys + "/id", "-o", out, ctx};
    KilnRun r = remote ? Remote(a) : embedded_.Run(a);
    ASSERT_EQ(r.exit_code, 0) << (remote ? "kilnd: " : "embedded: ") << r.err;
    EXPECT_EQ(ReadFile(out + "/probe"), "identities: 1\nkilnd-key\n") << remote;
    EXPECT_EQ(ReadFile(out + "/sock"), "600 1000\n") << remote;
  }
  // Without --ssh, the step's required agent is missing: an error naming
  // it, before anything runs.
  WriteFile(ctx + "/Dockerfile", "FROM busybox\nRUN --mount=type=ssh,required=true echo never\n");
  KilnRun missing = Remote({"build", ctx});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(missing.err, "ssh agent \"default\" was not forwarded"))
      << missing.err;
  EXPECT_EQ(Remote({"debug", "workers"}).exit_code, 0) << "kilnd stays healthy";
}

// Every build feature, the same files both ways.
TEST_F(KilndTest, ABuildGivesTheSameOutputsAsTheEmbeddedEngine) {
  std::string ctx = TempDir("ctx"), named = TempDir("named"), out = TempDir("out");
  WriteFile(ctx + "/Dockerfile",
            "FROM busybox AS base\n"
            "ARG GREETING=hello\n"
            "COPY app/ /app/\n"
            "COPY --from=extra note.txt /app/note.txt\n"
            "RUN --mount=type=secret,id=token cat /run/secrets/token | wc -c > /app/token-length\n"
            "RUN echo \"$GREETING\" > /app/greeting && ls /app > /app/listing\n"
            "FROM scratch\n"
            "COPY --from=base /app /\n");
  ASSERT_EQ(mkdir((ctx + "/app").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((ctx + "/app/sub").c_str(), 0750), 0);
  WriteFile(ctx + "/app/a.txt", "a\n");
  WriteFile(ctx + "/app/sub/b.sh", "#!/bin/sh\n");
  chmod((ctx + "/app/sub/b.sh").c_str(), 0755);
  ASSERT_EQ(symlink("a.txt", (ctx + "/app/link").c_str()), 0);
  WriteFile(ctx + "/app/ignored.log", "not sent\n");
  WriteFile(ctx + "/.dockerignore", "**/*.log\n");
  WriteFile(named + "/note.txt", "from a named context\n");
  WriteFile(out + "/token", "s3cret-value");
  setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
  std::vector<std::string> args = {"--build-arg",     "GREETING=hi",
                                   "--build-context", "extra=" + named,
                                   "--secret",        "id=token,src=" + out + "/token"};
  auto build = [&](bool remote, const std::string& tag) {
    std::vector<std::string> a = {"build", "--progress", "rawjson"};
    a.insert(a.end(), args.begin(), args.end());
    for (const std::string& o :
         {"type=local,dest=" + out + "/" + tag + "-dir",
          "type=tar,dest=" + out + "/" + tag + ".tar",
          "type=oci,dest=" + out + "/" + tag + "-oci.tar,name=example.com/app:1"}) {
      a.push_back("-o");
      a.push_back(o);
    }
    a.push_back(ctx);
    return remote ? Remote(a) : embedded_.Run(a);
  };
  KilnRun e = build(false, "embedded");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  KilnRun r = build(true, "remote");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  unsetenv("SOURCE_DATE_EPOCH");

  EXPECT_EQ(ReadFile(out + "/remote-dir/greeting"), "hi\n");
  EXPECT_EQ(ReadFile(out + "/remote-dir/note.txt"), "from a named context\n");
  EXPECT_EQ(ReadFile(out + "/remote-dir/token-length"), "12\n");
  EXPECT_EQ(ReadFile(out + "/remote-dir/listing"),
            "a.txt\ngreeting\nlink\nlisting\nnote.txt\nsub\ntoken-length\n");  // no ignored.log
  EXPECT_EQ(ReadFile(out + "/remote.tar"), ReadFile(out + "/embedded.tar"));
  EXPECT_EQ(ReadFile(out + "/remote-oci.tar"), ReadFile(out + "/embedded-oci.tar"));
  std::string list = "find . -mindepth 1 -printf '%p %y %m %s %T@ %l\\n' | sort";
  auto listing = [&](const std::string& dir) {
    std::string file = dir + ".list";
    EXPECT_EQ(system(("cd " + dir + " && " + list + " > " + file).c_str()), 0);
    return ReadFile(file);
  };
  EXPECT_EQ(listing(out + "/remote-dir"), listing(out + "/embedded-dir"));
  EXPECT_FALSE(absl::StrContains(r.err, "s3cret")) << "the secret stays out of the progress";
  EXPECT_EQ(system(("grep -rq s3cret " + daemon_root_).c_str()) == 0, false)
      << "the secret is nowhere in kilnd's root";

  // Unchanged: all cached, no file sent.
  std::vector<std::string> rebuild = {"build", "--progress", "rawjson"};
  rebuild.insert(rebuild.end(), args.begin(), args.end());
  rebuild.push_back(ctx);
  KilnRun again = Remote(rebuild);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.Ran(), 0) << again.err;
  EXPECT_FALSE(absl::StrContains(again.err, "transferred 1")) << again.err;

  // Without SOURCE_DATE_EPOCH, copied files keep their nanosecond mtimes
  // through the daemon's mirror and the output's trip back.
  WriteFile(ctx + "/Dockerfile", "FROM scratch\nCOPY app/ /\n");
  ASSERT_EQ(embedded_.Run({"build", "-o", out + "/e2", ctx}).exit_code, 0);
  ASSERT_EQ(Remote({"build", "-o", out + "/r2", ctx}).exit_code, 0);
  EXPECT_EQ(listing(out + "/r2"), listing(out + "/e2"));
  EXPECT_FALSE(absl::StrContains(listing(out + "/r2"), ".0000000000 ")) << listing(out + "/r2");

  // A failing build: its error, exit 1, no output written.
  WriteFile(ctx + "/Dockerfile", "FROM busybox\nRUN exit 3\n");
  KilnRun bad = Remote({"build", "-o", "type=tar,dest=" + out + "/bad.tar", ctx});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(bad.err, "exit code: 3") ||
              absl::StrContains(bad.err, "exit status 3"))
      << bad.err;
  EXPECT_NE(access((out + "/bad.tar").c_str(), F_OK), 0);
  // Bad input: the client's own checks, the daemon's errors, both named.
  bad = Remote({"build", "-o", "type=nope,dest=x", ctx});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(bad.err, "unknown output type")) << bad.err;
  WriteFile(ctx + "/Dockerfile", "FROM busybox\nRNU true\n");
  bad = Remote({"build", ctx});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(bad.err, "Dockerfile:2")) << bad.err;
}

// Two clients at once, a step both need: it runs once.
TEST_F(KilndTest, ConcurrentBuildsShareAStep) {
  std::string a = TempDir("a"), b = TempDir("b"), out = TempDir("out");
  const std::string shared = "FROM busybox\nRUN sleep 2 && date +%s%N > /stamp\n";
  WriteFile(a + "/Dockerfile", shared + "RUN echo a > /who\n");
  WriteFile(b + "/Dockerfile", shared + "RUN echo b > /who\n");
  pid_t pa = RemoteBuildAsync(a, out + "/a.log", {"-o", out + "/a"});
  pid_t pb = RemoteBuildAsync(b, out + "/b.log", {"-o", out + "/b"});
  ASSERT_EQ(WaitFor(pa, std::chrono::seconds(120)), 0) << ReadFile(out + "/a.log");
  ASSERT_EQ(WaitFor(pb, std::chrono::seconds(120)), 0) << ReadFile(out + "/b.log");
  std::string stamp = ReadFile(out + "/a/stamp");
  EXPECT_FALSE(stamp.empty());
  EXPECT_EQ(ReadFile(out + "/b/stamp"), stamp) << "the shared step ran once";
  EXPECT_EQ(ReadFile(out + "/a/who"), "a\n");
  EXPECT_EQ(ReadFile(out + "/b/who"), "b\n");
  // One build ran it; the other waited for it (shared) or, when it came
  // late, found it in the cache.
  int ran = 0;
  for (const std::string& log : {out + "/a.log", out + "/b.log"}) {
    for (const Step& s : ParseSteps(ReadFile(log))) {
      if (absl::StrContains(s.name, "sleep 2") && !s.cached) ++ran;
    }
  }
  EXPECT_EQ(ran, 1) << ReadFile(out + "/a.log") << ReadFile(out + "/b.log");
}

// A client that goes away cancels its build: its processes are killed, its
// mounts released, and the daemon goes on serving.
TEST_F(KilndTest, AClientKilledMidBuildCancelsIt) {
  std::string ctx = TempDir("ctx"), out = TempDir("out");
  WriteFile(ctx + "/Dockerfile", "FROM busybox\nRUN sleep 313\n");
  pid_t client = RemoteBuildAsync(ctx, out + "/log");
  ASSERT_TRUE(Eventually([] { return CountProcesses("^sleep 313") == 1; }))
      << ReadFile(out + "/log") << kilnd_->Log();
  kill(-client, SIGKILL);  // its process group: kiln and the kiln-gateway it runs
  WaitFor(client, std::chrono::seconds(10));
  EXPECT_TRUE(Eventually([] { return CountProcesses("^sleep 313") == 0; }))
      << "the step's process was not killed";
  EXPECT_TRUE(Eventually([&] { return !MountsUnder(daemon_root_); }))
      << "mounts left under " << daemon_root_;
  EXPECT_TRUE(Eventually([&] { return CountProcesses("[r]unc --root " + daemon_root_) == 0; }));
  WriteFile(ctx + "/Dockerfile", "FROM busybox\nRUN echo after > /after\n");
  KilnRun r = Remote({"build", "-o", out + "/after", ctx});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(out + "/after/after"), "after\n");
}

// SIGTERM cancels running builds and exits; a restarted daemon has its cache.
TEST_F(KilndTest, SigtermCancelsBuildsAndARestartKeepsTheCache) {
  std::string ctx = TempDir("ctx"), slow = TempDir("slow"), out = TempDir("out");
  WriteFile(ctx + "/Dockerfile", "FROM busybox\nRUN echo kept > /kept\n");
  KilnRun first = Remote({"build", "--progress", "rawjson", ctx});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.Ran() > 0, true);
  WriteFile(slow + "/Dockerfile", "FROM busybox\nRUN sleep 317\n");
  pid_t client = RemoteBuildAsync(slow, out + "/log");
  ASSERT_TRUE(Eventually([] { return CountProcesses("^sleep 317") == 1; }))
      << ReadFile(out + "/log");
  EXPECT_EQ(kilnd_->Stop(SIGTERM), 0) << kilnd_->Log();
  EXPECT_TRUE(absl::StrContains(kilnd_->Log(), "cancelling 1 build")) << kilnd_->Log();
  EXPECT_EQ(WaitFor(client, std::chrono::seconds(30)), 1);
  EXPECT_TRUE(absl::StrContains(ReadFile(out + "/log"), "cancelled")) << ReadFile(out + "/log");
  EXPECT_EQ(CountProcesses("^sleep 317"), 0);
  EXPECT_FALSE(MountsUnder(daemon_root_));
  EXPECT_NE(access(kilnd_->socket().c_str(), F_OK), 0) << "the socket is removed";
  KilnRun down = Remote({"debug", "workers"});
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(down.err, "cannot reach kilnd at " + kilnd_->addr())) << down.err;

  ASSERT_TRUE(kilnd_->Start()) << kilnd_->Log();
  KilnRun again = Remote({"build", "--progress", "rawjson", ctx});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.Ran(), 0) << "the cache survived the restart\n" << again.err;
  KilnRun du = Remote({"du"});
  ASSERT_EQ(du.exit_code, 0) << du.err;
  EXPECT_TRUE(absl::StrContains(du.out, "RUN echo kept")) << du.out;
  KilnRun prune = Remote({"prune", "--all"});
  ASSERT_EQ(prune.exit_code, 0) << prune.err;
  EXPECT_TRUE(absl::StartsWith(prune.out, "Removed ")) << prune.out;
  KilnRun after = Remote({"build", "--progress", "rawjson", ctx});
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_TRUE(after.RanStep("RUN echo kept")) << "pruned through the daemon";
}

// The second build of an unchanged 10,000-file context sends no contents.
TEST_F(KilndTest, AnUnchangedContextIsNotSentAgain) {
  std::string ctx = TempDir("ctx");
  for (int d = 0; d < 100; ++d) {
    std::string sub = absl::StrCat(ctx, "/d", d);
    ASSERT_EQ(mkdir(sub.c_str(), 0755), 0);
    for (int f = 0; f < 100; ++f) WriteFile(absl::StrCat(sub, "/f", f), absl::StrCat(d, f, "\n"));
  }
  WriteFile(ctx + "/Dockerfile", "FROM busybox\nCOPY . /ctx\nRUN ls /ctx/d99 | wc -l\n");
  KilnRun cold = Remote({"build", "--progress", "rawjson", ctx});
  ASSERT_EQ(cold.exit_code, 0) << cold.err;
  EXPECT_TRUE(absl::StrContains(cold.err, "transferred 10001 changed files")) << cold.err;
  KilnRun warm = Remote({"build", "--progress", "rawjson", ctx});
  ASSERT_EQ(warm.exit_code, 0) << warm.err;
  EXPECT_TRUE(absl::StrContains(warm.err, "transferred 0 changed files (0 bytes) of 10101"))
      << warm.err;
  EXPECT_EQ(warm.Ran(), 0) << warm.err;
  WriteFile(ctx + "/d7/f7", "changed\n");
  KilnRun one = Remote({"build", "--progress", "rawjson", ctx});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_TRUE(absl::StrContains(one.err, "transferred 1 changed files (8 bytes)")) << one.err;
}

// A file bigger than the daemon reads ahead (8 MiB) travels in parts, and
// comes back whole.
TEST_F(KilndTest, ABigFileTravelsInParts) {
  std::string ctx = TempDir("ctx"), out = TempDir("out");
  std::string big(20 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  WriteFile(ctx + "/big.bin", big);
  WriteFile(ctx + "/Dockerfile", "FROM scratch\nCOPY big.bin /\n");
  KilnRun r = Remote({"build", "--progress", "rawjson", "-o", out + "/o", ctx});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Only big.bin: the context is narrowed to what the build reads (its
  // Dockerfile stays behind).
  EXPECT_TRUE(absl::StrContains(r.err, "transferred 1 changed files (20971520 bytes) of 1 entries"))
      << r.err;
  EXPECT_TRUE(ReadFile(out + "/o/big.bin") == big);
}

// samples/dsl through `# syntax=`, with the frontend image in kilnd's store.
TEST_F(KilndTest, TheDslSampleThroughTheDaemon) {
  KilnRun r =
      Remote({"image", "import", "--rootfs", "samples/dsl/dsl-frontend.tar", "kiln/dsl-frontend"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string ex = TempDir("dsl"), out = TempDir("out");
  ASSERT_EQ(system(("cp -rL samples/dsl/example/. " + ex + " && chmod -R u+w " + ex).c_str()), 0);
  r = Remote({"build", "--progress", "plain", "-f", ex + "/build.kb", "-o", out, ex});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(out + "/greeting"), "hello from kb, version 1.2.0\n");
  EXPECT_EQ(ReadFile(out + "/parts/one.txt"), "part one built from 1.2.0\n");
  WriteFile(ex + "/build.kb", "# syntax=kiln/dsl-frontend\nfrom busybox\nrnu true\n");
  r = Remote({"build", "-f", ex + "/build.kb", ex});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(
      absl::StrContains(r.err, "build.kb:3: unknown command \"rnu\" (did you mean \"run\"?)"))
      << r.err;
}

// TCP: mutual TLS, or refused; --insecure says what it gives away.
TEST_F(KilndTest, TcpNeedsMutualTls) {
  std::string d = TempDir("tls");
  std::string script = Runfile("tests/make_certs.sh");
  ASSERT_EQ(system(("sh " + script + " " + d + " > " + d + "/log 2>&1").c_str()), 0)
      << ReadFile(d + "/log");
  Kilnd plain(TempDir("tcp-root"));
  EXPECT_FALSE(plain.Start({"--addr", "tcp://127.0.0.1:0"}));
  EXPECT_TRUE(absl::StrContains(plain.Log(), "TCP needs mutual TLS")) << plain.Log();

  Kilnd tls(TempDir("tls-root"));
  ASSERT_TRUE(tls.Start({"--addr", "tcp://127.0.0.1:0", "--tlscert", d + "/server.pem", "--tlskey",
                         d + "/server-key.pem", "--tlscacert", d + "/ca.pem"}))
      << tls.Log();
  std::string log = tls.Log();
  size_t at = log.find("listening on tcp://127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << log;
  std::string addr = log.substr(at + 13, log.find(' ', at + 13) - at - 13);
  KilnRun ok =
      client_.Run({"--addr", addr, "--tlscacert", d + "/ca.pem", "--tlscert", d + "/client.pem",
                   "--tlskey", d + "/client-key.pem", "debug", "workers"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(absl::StartsWith(ok.out, "kiln linux/")) << ok.out;
  // Without a client certificate, or with one another CA signed: refused.
  KilnRun anon = client_.Run({"--addr", addr, "debug", "workers"});
  EXPECT_EQ(anon.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(anon.err, "cannot reach kilnd")) << anon.err;
  KilnRun rogue =
      client_.Run({"--addr", addr, "--tlscacert", d + "/ca.pem", "--tlscert", d + "/rogue.pem",
                   "--tlskey", d + "/rogue-key.pem", "debug", "workers"});
  EXPECT_EQ(rogue.exit_code, 1) << rogue.out;
  KilnRun half = client_.Run({"--addr", addr, "--tlscacert", d + "/ca.pem", "debug", "workers"});
  EXPECT_EQ(half.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(half.err, "TLS needs all of")) << half.err;
}

}  // namespace
}  // namespace kiln::testing
