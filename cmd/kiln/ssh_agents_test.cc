#include "cmd/kiln/ssh_agents.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "gateway/ops/ssh_agent.h"
#include "gtest/gtest.h"

namespace kiln::cli {
namespace {

bool HaveOpenSsh() {
  return system("command -v ssh-agent >/dev/null && command -v ssh-keygen >/dev/null") == 0;
}

class SshAgentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Socket paths must fit in 108 bytes: /tmp, not TEST_TMPDIR.
    char tmpl[] = "/tmp/kiln-sshagents-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)!system(("rm -rf " + dir_).c_str()); }
  std::string Key(const std::string& comment) {
    std::string key = dir_ + "/" + comment;
    EXPECT_EQ(system(("ssh-keygen -q -t ed25519 -N '' -C " + comment + " -f " + key).c_str()), 0);
    return key;
  }
  // `ssh-add -l` against the agent at `sock`.
  static std::string List(const std::string& sock) {
    FILE* f = popen(("SSH_AUTH_SOCK=" + sock + " ssh-add -l 2>&1").c_str(), "r");
    std::string out;
    char buf[512];
    for (size_t n; (n = fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
    pclose(f);
    return out;
  }
  std::string dir_;
};

TEST_F(SshAgentsTest, KeyFilesGetAPrivateAgentUntilStop) {
  if (!HaveOpenSsh()) GTEST_SKIP() << "ssh-agent/ssh-keygen not installed (openssh-client)";
  std::string one = Key("one"), two = Key("two");
  SshAgents agents;
  ASSERT_TRUE(agents.Add("work=" + one + "," + two).ok());
  std::string sock = agents.sockets().at("work");
  std::string listed = List(sock);
  EXPECT_NE(listed.find(" one "), std::string::npos) << listed;
  EXPECT_NE(listed.find(" two "), std::string::npos) << listed;
  agents.Stop();
  EXPECT_TRUE(agents.sockets().empty());
  EXPECT_NE(access(sock.c_str(), F_OK), 0) << "the private agent's socket outlived Stop";
  EXPECT_FALSE(ops::ConnectUnix(sock).ok());
}

TEST_F(SshAgentsTest, SocketsAndTheEnvironment) {
  if (!HaveOpenSsh()) GTEST_SKIP() << "ssh-agent/ssh-keygen not installed (openssh-client)";
  std::string sock = dir_ + "/agent.sock";
  ASSERT_EQ(system(("ssh-agent -a " + sock + " > " + dir_ + "/agent.env").c_str()), 0);
  setenv("SSH_AUTH_SOCK", sock.c_str(), 1);
  SshAgents agents;
  ASSERT_TRUE(agents.Add("default").ok());
  ASSERT_TRUE(agents.Add("other").ok());
  ASSERT_TRUE(agents.Add("named=" + sock).ok());
  EXPECT_EQ(agents.sockets().at("default"), sock);
  EXPECT_EQ(agents.sockets().at("other"), sock);
  EXPECT_EQ(agents.sockets().at("named"), sock);
  agents.Stop();
  EXPECT_EQ(access(sock.c_str(), F_OK), 0) << "Stop only stops kiln's own agents";
  (void)!system((". " + dir_ + "/agent.env >/dev/null; kill $SSH_AGENT_PID").c_str());
  unsetenv("SSH_AUTH_SOCK");
}

TEST_F(SshAgentsTest, BadSpecsSayWhy) {
  unsetenv("SSH_AUTH_SOCK");
  struct Case {
    std::string spec, want;
  };
  std::string file = dir_ + "/not-a-key";
  FILE* f = fopen(file.c_str(), "w");
  fputs("garbage\n", f);
  fclose(f);
  for (const Case& c : {
           Case{"", "want default, ID, ID=SOCKET or ID=KEY"},
           Case{"a,b=x", "want default, ID, ID=SOCKET or ID=KEY"},
           Case{"default", "SSH_AUTH_SOCK is not set"},
           Case{"x=", "an empty path"},
           Case{"x=/nonexistent/key", "/nonexistent/key: No such file or directory"},
           Case{"x=" + dir_, "is neither a socket nor a key file"},
       }) {
    SshAgents agents;
    absl::Status st = agents.Add(c.spec);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << c.spec;
    EXPECT_NE(st.message().find("--ssh " + c.spec + ": "), std::string::npos) << st;
    EXPECT_NE(st.message().find(c.want), std::string::npos) << st;
  }
  if (!HaveOpenSsh()) return;
  SshAgents agents;
  absl::Status st = agents.Add("x=" + file);
  EXPECT_NE(st.message().find("ssh-add could not load the key"), std::string::npos) << st;
  std::string key = Key("k");
  ASSERT_TRUE(agents.Add("x=" + key).ok());
  EXPECT_NE(agents.Add("x=" + key).message().find("\"x\" is given twice"), std::string::npos);
}

}  // namespace
}  // namespace kiln::cli
