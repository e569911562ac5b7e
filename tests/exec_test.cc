// End to end: exec steps in real runc containers through the kiln binary.
// The root filesystem is a busybox tree shared as the build context (the
// image store comes next).
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "gateway/ops/exec/busybox_rootfs.h"
#include "gtest/gtest.h"
#include "sdk/llb/llb.h"
#include "tests/harness.h"

namespace kiln::testing {
namespace {

namespace llb = kiln::llb;

class ExecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = exec::WhyNoContainers();
    if (!why.empty()) GTEST_SKIP() << why;
    rootfs_ = exec::MakeBusyboxRootfs(TempDir("rootfs"));
  }
  llb::State Run(const std::string& script, const std::string& user = "") {
    llb::RunOptions run;
    run.args = {"/bin/sh", "-c", script};
    if (!user.empty()) run.user = user;
    return llb::Local("context").Run(run).Root();
  }
  KilnRun Build(const llb::State& s, const std::string& out) {
    auto def = llb::Marshal(s);
    EXPECT_TRUE(def.ok()) << def.status();
    return h_.Build(*def, {rootfs_, "--output", "type=local,dest=" + out});
  }
  Harness h_;
  std::string rootfs_;
};

TEST_F(ExecTest, CommandRunsInAContainerAndIsCached) {
  std::string out = TempDir("out");
  llb::State s =
      Run("echo hello > /tmp/greeting; id -u > /tmp/uid; hostname > /tmp/host", "nobody");
  KilnRun r = Build(s, out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(out + "/tmp/greeting"), "hello\n");
  EXPECT_EQ(ReadFile(out + "/tmp/uid"), "65534\n");
  EXPECT_EQ(ReadFile(out + "/tmp/host"), "buildkitsandbox\n");
  EXPECT_NE(access((out + "/etc/hosts").c_str(), F_OK), 0) << "/etc/hosts leaked into the result";
  KilnRun again = Build(s, TempDir("out"));
  EXPECT_EQ(again.Ran(), 0) << again.err;
}

TEST_F(ExecTest, FailingCommandNamesExitCodeAndOutput) {
  KilnRun r = Build(Run("echo about to fail >&2; exit 7"), TempDir("out"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(r.err, "exit code: 7")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "about to fail")) << r.err;
}

TEST_F(ExecTest, DeletedFileIsGoneFromTheResult) {
  std::string out = TempDir("out");
  llb::State s = Run("touch /tmp/x").Run({{"/bin/rm", "/tmp/x"}}).Root();
  KilnRun r = Build(s, out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(access((out + "/tmp/x").c_str(), F_OK), 0);
  EXPECT_EQ(access((out + "/bin/sh").c_str(), F_OK), 0);
}

TEST_F(ExecTest, CacheMountPersistsAcrossProcessesButNotInTheResult) {
  auto step = [](const std::string& tag) {
    llb::RunOptions run;
    run.args = {"/bin/sh", "-c", "echo " + tag + " >> /cache/log; cp /cache/log /result"};
    llb::Mount cache_mount;
    cache_mount.target = "/cache";
    cache_mount.cache = llb::CacheMount{"e2e"};
    run.mounts = {cache_mount};
    return llb::Local("context").Run(run).Root();
  };
  std::string out1 = TempDir("out"), out2 = TempDir("out"), out3 = TempDir("out");
  ASSERT_EQ(Build(step("one"), out1).exit_code, 0);
  EXPECT_EQ(ReadFile(out1 + "/result"), "one\n");
  EXPECT_NE(access((out1 + "/cache/log").c_str(), F_OK), 0) << "cache mount content leaked";
  KilnRun second = Build(step("two"), out2);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(ReadFile(out2 + "/result"), "one\ntwo\n");
  ASSERT_EQ(h_.Run({"prune", "--all"}).exit_code, 0);
  ASSERT_EQ(Build(step("three"), out3).exit_code, 0);
  EXPECT_EQ(ReadFile(out3 + "/result"), "three\n");
}

TEST_F(ExecTest, SecretsReachTheStepAndNothingElse) {
  const std::string value = "s3cr3t-7f9d2c";
  std::string secret_file = TempDir("secret") + "/token";
  WriteFile(secret_file, value);
  setenv("KILN_TEST_SECRET", value.c_str(), 1);
  llb::RunOptions run;
  run.args = {"/bin/sh", "-c",
              "stat -c %a /run/secrets/token > /mode; "
              "[ \"$(cat /run/secrets/token)\" = \"$TOKEN_ENV\" ] && echo same > /check; "
              "echo done"};
  llb::Mount secret;
  secret.target = "/run/secrets/token";
  secret.secret = llb::SecretMount{"token"};
  run.mounts = {secret};
  run.secret_env = {llb::SecretEnv{"envtoken", "TOKEN_ENV"}};
  auto def = llb::Marshal(llb::Local("context").Run(run).Root());
  ASSERT_TRUE(def.ok()) << def.status();
  std::string out = TempDir("out");
  KilnRun r = h_.Build(
      *def, {rootfs_, "--output", "type=local,dest=" + out, "--secret",
             "id=token,src=" + secret_file, "--secret", "id=envtoken,env=KILN_TEST_SECRET"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(out + "/mode"), "400\n");
  EXPECT_EQ(ReadFile(out + "/check"), "same\n");
  EXPECT_NE(access((out + "/run/secrets/token").c_str(), F_OK), 0) << "secret in the result";
  EXPECT_FALSE(absl::StrContains(r.err, value)) << "secret in the progress output";
  std::string grep = "grep -rqa '" + value + "' " + h_.root() + " " + out;
  EXPECT_NE(system(grep.c_str()), 0) << "secret value found under the cache root or output";

  KilnRun missing = h_.Build(*def, {rootfs_});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(missing.err, "secret \"token\" was not given")) << missing.err;
  EXPECT_EQ(missing.Ran(), 0);
}

TEST_F(ExecTest, ImportedBaseImageRunsByShortName) {
  std::string tar = TempDir("img") + "/busybox.tar";
  ASSERT_EQ(system(("tar -C " + rootfs_ + " -cf " + tar + " .").c_str()), 0);
  KilnRun imported = h_.Run({"image", "import", "--rootfs", tar, "busybox"});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_TRUE(absl::StrContains(imported.out, "docker.io/library/busybox:latest sha256:"));
  EXPECT_TRUE(absl::StrContains(h_.Run({"image", "ls"}).out, "docker.io/library/busybox:latest"));

  llb::RunOptions run;
  run.args = {"/bin/sh", "-c", "echo from-image > /greeting"};
  auto def = llb::Marshal(llb::Image("busybox").Run(run).Root());
  ASSERT_TRUE(def.ok());
  std::string out = TempDir("out");
  KilnRun r = h_.Build(*def, {"--output", "type=local,dest=" + out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(out + "/greeting"), "from-image\n");

  ASSERT_EQ(h_.Run({"image", "rm", "busybox"}).exit_code, 0);
  KilnRun gone = h_.Build(*def, {});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(gone.err, "kiln image import")) << gone.err;
}

}  // namespace
}  // namespace kiln::testing
