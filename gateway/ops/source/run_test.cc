#include "gateway/ops/source/run.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace kiln::ops {
namespace {

RunOptions Sh(const std::string& script) {
  RunOptions o;
  o.argv = {"sh", "-c", script};
  o.env = {"PATH=/usr/bin:/bin"};
  return o;
}

TEST(RunProcessTest, CapturesOutputAndExitCode) {
  absl::StatusOr<RunResult> r = RunProcess(Sh("echo out; echo err >&2; exit 3"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->stdout_data, "out\n");
  EXPECT_EQ(r->stderr_data, "err\n");
}

TEST(RunProcessTest, ChildSeesOnlyTheGivenEnvironment) {
  RunOptions o;
  o.argv = {"env"};
  o.env = {"PATH=/usr/bin:/bin", "ONLY=this"};
  absl::StatusOr<RunResult> r = RunProcess(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stdout_data, "PATH=/usr/bin:/bin\nONLY=this\n");
}

TEST(RunProcessTest, RunsInWorkingDirectoryWithUmask) {
  RunOptions o = Sh("pwd; umask");
  o.cwd = "/usr";
  o.umask = 027;
  absl::StatusOr<RunResult> r = RunProcess(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stdout_data, "/usr\n0027\n");
}

TEST(RunProcessTest, MissingProgramIsNotFound) {
  RunOptions o;
  o.argv = {"kiln-no-such-program"};
  EXPECT_EQ(RunProcess(o).status().code(), absl::StatusCode::kNotFound);
}

TEST(RunProcessTest, ExecFailureIsInternal) {
  RunOptions o;
  o.argv = {"/etc/passwd"};  // exists, not executable
  EXPECT_EQ(RunProcess(o).status().code(), absl::StatusCode::kInternal);
}

TEST(RunProcessTest, DeadlineKillsWholeProcessGroup) {
  // The background sleep keeps stdout open; only a group kill ends this.
  RunOptions o = Sh("echo started >&2; sleep 30 & sleep 30");
  o.timeout = absl::Milliseconds(300);
  absl::Time start = absl::Now();
  absl::StatusOr<RunResult> r = RunProcess(o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(r.status().message().find("started"), std::string::npos) << r.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(RunProcessTest, CancelKillsChild) {
  std::atomic<int> polls{0};
  RunOptions o = Sh("sleep 30");
  o.cancelled = [&] { return ++polls > 3; };
  absl::Time start = absl::Now();
  EXPECT_EQ(RunProcess(o).status().code(), absl::StatusCode::kCancelled);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(FindProgramTest, LooksInPathUnlessGivenAPath) {
  std::optional<std::string> sh = FindProgram("sh");
  ASSERT_TRUE(sh.has_value());
  EXPECT_EQ(sh->front(), '/');
  EXPECT_EQ(::access(sh->c_str(), X_OK), 0);
  EXPECT_EQ(FindProgram("./relative/tool"), "./relative/tool");
  EXPECT_EQ(FindProgram("kiln-no-such-program"), std::nullopt);
}

TEST(RunProcessTest, AlreadyCancelledRunsNothing) {
  // A child this quick used to exit before the first look at `cancelled`.
  std::string marker = std::string(std::getenv("TEST_TMPDIR")) + "/ran";
  RunOptions o = Sh("touch " + marker);
  o.cancelled = [] { return true; };
  EXPECT_EQ(RunProcess(o).status().code(), absl::StatusCode::kCancelled);
  EXPECT_NE(::access(marker.c_str(), F_OK), 0) << "the child ran";
}

TEST(RunProcessTest, DescriptorsDoNotLeakIntoChild) {
  int fd = ::open("/dev/null", O_RDONLY);  // deliberately without O_CLOEXEC
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::dup2(fd, 57), 57);
  absl::StatusOr<RunResult> r = RunProcess(Sh("test -e /proc/self/fd/57 && echo leaked; true"));
  ::close(57);
  ::close(fd);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stdout_data, "");
}

TEST(RunProcessTest, OutputIsCappedKeepingTheTail) {
  RunOptions o = Sh("i=0; while [ $i -lt 2000 ]; do echo line$i; i=$((i+1)); done; echo END");
  o.max_output_bytes = 100;
  absl::StatusOr<RunResult> r = RunProcess(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stdout_data.size(), 100u);
  EXPECT_EQ(r->stdout_data.substr(96), "END\n");
}

TEST(TailLinesTest, KeepsLastNonEmptyLines) {
  EXPECT_EQ(TailLines("a\n\nb\n  c  \n\nd\n", 2), "c\nd");
  EXPECT_EQ(TailLines("", 3), "");
}

}  // namespace
}  // namespace kiln::ops
