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

// ssh agents for the ssh mount tests (Debian's openssh-client).
class SshTest : public ExecTest {
 protected:
  void SetUp() override {
    ExecTest::SetUp();
    if (IsSkipped()) return;
    if (system("command -v ssh-agent >/dev/null && command -v ssh-keygen >/dev/null") != 0) {
      GTEST_SKIP() << "ssh-agent/ssh-keygen not installed (Debian's openssh-client; .ci/setup "
                      "installs it)";
    }
    const char* srcdir = std::getenv("TEST_SRCDIR");
    std::string probe = std::string(srcdir ? srcdir : ".") + "/kiln/tests/agent_probe";
    ASSERT_EQ(system(("cp " + probe + " " + rootfs_ + "/agent_probe").c_str()), 0) << probe;
    // Socket paths must fit in 108 bytes: /tmp, not TEST_TMPDIR.
    char tmpl[] = "/tmp/kiln-sshtest-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    keys_ = tmpl;
  }
  void TearDown() override {
    for (const std::string& pid : agents_) (void)!system(("kill " + pid).c_str());
    if (!keys_.empty()) (void)!system(("rm -rf " + keys_).c_str());
  }
  // A new key pair; returns the private key's path.
  std::string Key(const std::string& comment) {
    std::string key = keys_ + "/" + comment;
    EXPECT_EQ(system(("ssh-keygen -q -t ed25519 -N '' -C " + comment + " -f " + key).c_str()), 0);
    return key;
  }
  // An ssh-agent of the test's own holding `key`; returns its socket.
  std::string Agent(const std::string& key) {
    std::string sock = keys_ + "/agent-" + std::to_string(agents_.size()) + ".sock";
    FILE* f = popen(("ssh-agent -s -a " + sock).c_str(), "r");
    std::string out;
    char buf[256];
    for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
    pclose(f);
    size_t at = out.find("SSH_AGENT_PID=");
    EXPECT_NE(at, std::string::npos) << out;
    if (at == std::string::npos) return sock;
    agents_.push_back(out.substr(at + 14, out.find(';', at) - at - 14));
    EXPECT_EQ(system(("SSH_AUTH_SOCK=" + sock + " ssh-add -q " + key + " </dev/null").c_str()), 0);
    return sock;
  }
  // Lists the forwarded agent's identities into /probe, and the socket's
  // mode and owner into /sock.
  pb::Definition ProbeStep(bool optional) {
    llb::RunOptions run;
    run.args = {"/bin/sh", "-c",
                "/agent_probe > /probe || true; stat -c '%a %u' $SSH_AUTH_SOCK > /sock || true"};
    llb::Mount m;
    m.target = "/run/buildkit/ssh_agent.0";
    m.ssh = llb::SshMount{"", 1000, 0, 0600, optional};
    run.mounts = {m};
    auto def = llb::Marshal(llb::Local("context").Run(run).Root());
    EXPECT_TRUE(def.ok()) << def.status();
    return *def;
  }
  KilnRun BuildProbe(bool optional, const std::string& out, std::vector<std::string> flags) {
    std::vector<std::string> args = {rootfs_, "--output", "type=local,dest=" + out};
    args.insert(args.end(), flags.begin(), flags.end());
    return h_.Build(ProbeStep(optional), args);
  }
  std::string keys_;
  std::vector<std::string> agents_;
};

TEST_F(SshTest, KeyFileGetsAPrivateAgentForTheBuildOnly) {
  std::string key = Key("kiln-test-key");
  std::string out = TempDir("out");
  KilnRun r = BuildProbe(false, out, {"--ssh", "default=" + key});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(out + "/probe"), "identities: 1\nkiln-test-key\n");
  EXPECT_EQ(ReadFile(out + "/sock"), "600 1000\n");
  EXPECT_NE(access((out + "/run/buildkit/ssh_agent.0").c_str(), F_OK), 0)
      << "the agent socket's mount point is in the result";
  std::string private_key = ReadFile(key);
  ASSERT_FALSE(private_key.empty());
  EXPECT_FALSE(absl::StrContains(r.err, private_key));
}

TEST_F(SshTest, AgentFromTheEnvironmentAndMissingOrOptionalAgents) {
  std::string sock = Agent(Key("from-env"));
  setenv("SSH_AUTH_SOCK", sock.c_str(), 1);
  std::string out = TempDir("out");
  KilnRun r = BuildProbe(false, out, {"--ssh", "default"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(out + "/probe"), "identities: 1\nfrom-env\n");
  // The same agent named by its socket, under another id, is not the
  // mount's ("default").
  KilnRun other = BuildProbe(false, TempDir("out"), {"--ssh", "work=" + sock});
  EXPECT_NE(other.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(other.err, "ssh agent \"default\" was not forwarded")) << other.err;
  EXPECT_EQ(other.Ran(), 0);
  unsetenv("SSH_AUTH_SOCK");
  // Optional: the step runs without an agent.
  std::string opt_out = TempDir("out");
  KilnRun optional = BuildProbe(true, opt_out, {});
  ASSERT_EQ(optional.exit_code, 0) << optional.err;
  EXPECT_TRUE(absl::StartsWith(ReadFile(opt_out + "/probe"), "cannot connect"))
      << ReadFile(opt_out + "/probe");
  KilnRun bad = BuildProbe(false, TempDir("out"), {"--ssh", "default"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(bad.err, "--ssh default: SSH_AUTH_SOCK is not set")) << bad.err;
}

}  // namespace
}  // namespace kiln::testing
