// Runs real containers: needs root, runc and Debian's busybox-static.
#include "gateway/ops/exec/runc.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gateway/ops/exec/busybox_rootfs.h"
#include "gtest/gtest.h"

namespace kiln::exec {
namespace {

std::string TempRoot() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t ? t : "/tmp";
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Spit(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

struct Result {
  absl::StatusOr<int> status;
  std::string out, err;
};

class RuncExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Exists("/bin/busybox"))
      GTEST_SKIP() << "needs /bin/busybox (apt-get install busybox-static)";
    base_ = absl::StrCat(TempRoot(), "/runc_test_", counter_++);
    ::mkdir(base_.c_str(), 0755);
    absl::StatusOr<std::unique_ptr<RuncExecutor>> e =
        RuncExecutor::Create({"runc", base_ + "/state"});
    if (!e.ok()) GTEST_SKIP() << "needs runc: " << e.status();
    executor_ = std::move(*e);
    rootfs_ = MakeBusyboxRootfs(base_ + "/rootfs");
  }

  Spec ShellSpec(const std::string& script) {
    Spec spec;
    spec.args = {"sh", "-c", script};
    spec.env = {"PATH=/bin"};
    spec.rootfs = rootfs_;
    return spec;
  }

  Result Run(const Spec& spec, const CancelFn& cancelled = nullptr) {
    Result r;
    std::mutex mu;
    r.status = executor_->Run(
        spec,
        [&](int stream, std::string_view data) {
          std::lock_guard<std::mutex> lock(mu);
          (stream == 1 ? r.out : r.err).append(data);
        },
        cancelled);
    return r;
  }

  static int counter_;
  std::string base_, rootfs_;
  std::unique_ptr<RuncExecutor> executor_;
};

int RuncExecutorTest::counter_ = 0;

TEST_F(RuncExecutorTest, EchoOutputIsStreamed) {
  Spec spec = ShellSpec("echo hello; echo oops >&2");
  Result r = Run(spec);
  ASSERT_TRUE(r.status.ok()) << r.status.status();
  EXPECT_EQ(*r.status, 0);
  EXPECT_EQ(r.out, "hello\n");
  EXPECT_EQ(r.err, "oops\n");
}

TEST_F(RuncExecutorTest, OutputArrivesBeforeTheProcessEnds) {
  absl::Time first;
  Spec spec = ShellSpec("echo first; sleep 1; echo second");
  absl::StatusOr<int> status = executor_->Run(
      spec,
      [&](int, std::string_view data) {
        if (data.find("first") != std::string_view::npos) first = absl::Now();
      },
      nullptr);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_GT(absl::Now() - first, absl::Milliseconds(700));
}

// A frontend image's process talks over its stdin and stdout; here a
// socket whose other end the test holds.
TEST_F(RuncExecutorTest, StdioCanBeASocket) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  std::thread peer([fd = sv[0]] {
    const char ping[] = "ping\n";
    ASSERT_EQ(::write(fd, ping, 5), 5);
    ::shutdown(fd, SHUT_WR);
  });
  Spec spec = ShellSpec("read line; echo \"got $line\"; echo diag >&2");
  spec.stdio_fd = sv[1];
  Result r = Run(spec);
  peer.join();
  ::close(sv[1]);
  ASSERT_TRUE(r.status.ok()) << r.status.status();
  EXPECT_EQ(*r.status, 0);
  EXPECT_EQ(r.out, "") << "stdout went to the socket";
  EXPECT_EQ(r.err, "diag\n");
  char buf[64] = {};
  ssize_t n = ::read(sv[0], buf, sizeof buf - 1);
  ::close(sv[0]);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "got ping\n");
}

TEST_F(RuncExecutorTest, ExitCodeIsAResult) {
  Result r = Run(ShellSpec("exit 3"));
  ASSERT_TRUE(r.status.ok()) << r.status.status();
  EXPECT_EQ(*r.status, 3);
}

TEST_F(RuncExecutorTest, FilesWrittenStayInTheRootfs) {
  Result r = Run(ShellSpec("echo data > /out"));
  ASSERT_TRUE(r.status.ok()) << r.status.status();
  EXPECT_EQ(Slurp(rootfs_ + "/out"), "data\n");
}

TEST_F(RuncExecutorTest, ReadonlyRootfsIsNotWritable) {
  Spec spec = ShellSpec("cat /etc/passwd >/dev/null && touch /x");
  spec.readonly_rootfs = true;
  Result r = Run(spec);
  ASSERT_TRUE(r.status.ok()) << r.status.status();
  EXPECT_NE(*r.status, 0);
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
  EXPECT_FALSE(Exists(rootfs_ + "/x"));
}

TEST_F(RuncExecutorTest, EnvAndCreatedWorkingDirectory) {
  Spec spec = ShellSpec("echo $FOO; pwd");
  spec.env.push_back("FOO=bar baz");
  spec.cwd = "/work/dir";
  Result r = Run(spec);
  ASSERT_TRUE(r.status.ok()) << r.status.status();
  EXPECT_EQ(r.out, "bar baz\n/work/dir\n");
  EXPECT_TRUE(Exists(rootfs_ + "/work/dir"));
}

TEST_F(RuncExecutorTest, UserByNameGetsIdsAndGroups) {
  Spec spec = ShellSpec("id -u; id -g; id -G; touch /home/n/f");
  spec.user = "nobody";
  spec.cwd = "/home/n";
  Result r = Run(spec);
  ASSERT_TRUE(r.status.ok()) << r.status.status();
  EXPECT_EQ(*r.status, 0) << r.err;
  EXPECT_EQ(r.out, "65534\n65534\n65534 50\n");
  struct stat st;
  ASSERT_EQ(::stat((rootfs_ + "/home/n").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
}

TEST_F(RuncExecutorTest, UserByUidAndGid) {
  Spec spec = ShellSpec("id -u; id -g");
  spec.user = "1234:5678";
  Result r = Run(spec);
  ASSERT_TRUE(r.status.ok()) << r.status.status();
  EXPECT_EQ(r.out, "1234\n5678\n");
}

TEST_F(RuncExecutorTest, UnknownUserIsInvalidArgument) {
  Spec spec = ShellSpec("true");
  spec.user = "nosuch";
  Result r = Run(spec);
  EXPECT_EQ(r.status.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.status().message().find("unknown user nosuch"), std::string::npos);
}

TEST_F(RuncExecutorTest, Hostname) {
  Result r = Run(ShellSpec("hostname"));
  ASSERT_TRUE(r.status.ok()) << r.status.status();
  EXPECT_EQ(r.out, "buildkitsandbox\n");
  Spec spec = ShellSpec("hostname");
  spec.hostname = "builder";
  r = Run(spec);
  ASSERT_TRUE(r.status.ok()) << r.status.status();
  EXPECT_EQ(r.out, "builder\n");
}

TEST_F(RuncExecutorTest, ReadonlyBindIsReadableNotWritable) {
  std::string src = base_ + "/ro";
  ::mkdir(src.c_str(), 0755);
  Spit(src + "/in", "input\n");
  Spec spec = ShellSpec("cat /mnt/ro/in; touch /mnt/ro/new");
  spec.mounts.push_back({Mount::Kind::kBind, "/mnt/ro", src, true, 0});
  Result r = Run(spec);
  ASSERT_TRUE(r.status.ok()) << r.status.status();
  EXPECT_NE(*r.status, 0);
  EXPECT_EQ(r.out, "input\n");
  EXPECT_FALSE(Exists(src + "/new"));
  EXPECT_FALSE(Exists(rootfs_ + "/mnt")) << "mount stubs stay behind";
}

TEST_F(RuncExecutorTest, WritableBindReceivesFiles) {
  std::string src = base_ + "/rw";
  ::mkdir(src.c_str(), 0755);
  Spec spec = ShellSpec("echo made > /out/f");
  spec.mounts.push_back({Mount::Kind::kBind, "/out", src, false, 0});
  Result r = Run(spec);
  ASSERT_TRUE(r.status.ok()) << r.status.status();
  EXPECT_EQ(*r.status, 0) << r.err;
  EXPECT_EQ(Slurp(src + "/f"), "made\n");
  EXPECT_FALSE(Exists(rootfs_ + "/out"));
}

TEST_F(RuncExecutorTest, TmpfsLeavesNothingInTheRootfs) {
  Spec spec = ShellSpec("echo x > /scratch/f && grep ' /scratch ' /proc/mounts");
  spec.mounts.push_back({Mount::Kind::kTmpfs, "/scratch", "", false, 1 << 20});
  Result r = Run(spec);
  ASSERT_TRUE(r.status.ok()) << r.status.status();
  EXPECT_EQ(*r.status, 0) << r.err;
  EXPECT_NE(r.out.find("tmpfs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("size=1024k"), std::string::npos) << r.out;
  EXPECT_FALSE(Exists(rootfs_ + "/scratch"));
}

TEST_F(RuncExecutorTest, EtcHostsIsMountedWithoutStubsLeft) {
  ASSERT_FALSE(Exists(rootfs_ + "/etc/hosts"));
  Result r = Run(ShellSpec("cat /etc/hosts; test -f /etc/resolv.conf"));
  ASSERT_TRUE(r.status.ok()) << r.status.status();
  EXPECT_EQ(*r.status, 0) << r.err;
  EXPECT_NE(r.out.find("127.0.0.1 localhost buildkitsandbox"), std::string::npos) << r.out;
  EXPECT_FALSE(Exists(rootfs_ + "/etc/hosts"));
  EXPECT_FALSE(Exists(rootfs_ + "/etc/resolv.conf"));
  EXPECT_TRUE(Exists(rootfs_ + "/etc/passwd"));
}

// Interfaces listed in /proc/net/dev, past its two header lines.
int CountInterfaces(const std::string& net_dev) {
  std::vector<std::string> lines = absl::StrSplit(net_dev, '\n', absl::SkipEmpty());
  return lines.size() > 2 ? static_cast<int>(lines.size()) - 2 : 0;
}

TEST_F(RuncExecutorTest, NetworkNoneHasOnlyLoopbackUp) {
  Result r = Run(ShellSpec("cat /proc/net/dev; ip link show lo"));
  ASSERT_TRUE(r.status.ok()) << r.status.status();
  EXPECT_EQ(CountInterfaces(r.out.substr(0, r.out.find("1: lo"))), 1) << r.out;
  EXPECT_NE(r.out.find("lo:"), std::string::npos);
  EXPECT_NE(r.out.find(",UP"), std::string::npos) << "runc brings lo up: " << r.out;
}

TEST_F(RuncExecutorTest, NetworkHostSeesHostInterfaces) {
  if (CountInterfaces(Slurp("/proc/net/dev")) < 2) GTEST_SKIP() << "host has only lo";
  Spec spec = ShellSpec("cat /proc/net/dev");
  spec.network = pb::NetMode::HOST;
  Result r = Run(spec);
  ASSERT_TRUE(r.status.ok()) << r.status.status();
  EXPECT_GE(CountInterfaces(r.out), 2) << r.out;
}

TEST_F(RuncExecutorTest, MissingCommandIsAnErrorNamingIt) {
  Spec spec = ShellSpec("");
  spec.args = {"nosuchcmd", "arg"};
  Result r = Run(spec);
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.status().message().find("nosuchcmd"), std::string::npos) << r.status.status();
  EXPECT_NE(r.status.status().message().find("not found"), std::string::npos) << r.status.status();
}

TEST_F(RuncExecutorTest, CancelKillsTheContainer) {
  absl::Time start = absl::Now();
  Result r =
      Run(ShellSpec("sleep 30"), [&] { return absl::Now() - start > absl::Milliseconds(300); });
  EXPECT_EQ(r.status.status().code(), absl::StatusCode::kCancelled) << r.status.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_EQ(Shell(absl::StrCat("runc --root ", executor_->runc_root(), " list -q")), "");
  EXPECT_EQ(Shell(absl::StrCat("ls ", base_, "/state/bundles")), "");
}

TEST_F(RuncExecutorTest, ConcurrentRuns) {
  std::string other = MakeBusyboxRootfs(base_ + "/rootfs2");
  Result a, b;
  absl::Time start = absl::Now();
  std::thread t([&] {
    Spec spec = ShellSpec("sleep 2; echo a");
    spec.rootfs = other;
    a = Run(spec);
  });
  b = Run(ShellSpec("sleep 2; echo b"));
  t.join();
  ASSERT_TRUE(a.status.ok()) << a.status.status();
  ASSERT_TRUE(b.status.ok()) << b.status.status();
  EXPECT_EQ(a.out, "a\n");
  EXPECT_EQ(b.out, "b\n");
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(3500)) << "runs were serialized";
}

TEST(RuncExecutorCreateTest, MissingRuncIsFailedPrecondition) {
  absl::StatusOr<std::unique_ptr<RuncExecutor>> e =
      RuncExecutor::Create({"/nonexistent/runc", TempRoot() + "/state_missing"});
  EXPECT_EQ(e.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(e.status().message().find("install the runc package"), std::string::npos);
}

}  // namespace
}  // namespace kiln::exec
