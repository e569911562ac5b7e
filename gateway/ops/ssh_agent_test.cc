#include "gateway/ops/ssh_agent.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace kiln::ops {
namespace {

// Under /tmp: socket paths must fit in 108 bytes, TEST_TMPDIR's may not.
std::string TempDir() {
  std::string t = "/tmp/kiln-agent-test-XXXXXX";
  EXPECT_NE(mkdtemp(t.data()), nullptr);
  return t;
}

int Listen(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << path;
  EXPECT_EQ(listen(fd, 4), 0);
  return fd;
}

std::string ReadToEnd(int fd) {
  std::string out;
  char buf[256];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, n);
  return out;
}

// An "agent" that answers each of `conns` connections, once its client has
// finished writing, with "got:" and what it read.
class EchoAgent {
 public:
  explicit EchoAgent(int conns) : path_(TempDir() + "/agent.sock"), fd_(Listen(path_)) {
    thread_ = std::thread([this, conns] {
      for (int i = 0; i < conns; ++i) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        std::string got = ReadToEnd(c);
        std::string reply = "got:" + got;
        EXPECT_EQ(write(c, reply.data(), reply.size()), static_cast<ssize_t>(reply.size()));
        close(c);
      }
    });
  }
  ~EchoAgent() {
    thread_.join();
    close(fd_);
    unlink(path_.c_str());
    rmdir(path_.substr(0, path_.rfind('/')).c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_;
  std::thread thread_;
};

pb::SSHOpt Opt(uint32_t mode) {
  pb::SSHOpt opt;
  opt.set_id("default");
  opt.set_uid(getuid());
  opt.set_gid(getgid());
  opt.set_mode(mode);
  return opt;
}

TEST(AgentSocketsTest, ForwardsEachConnectionWithHalfCloses) {
  EchoAgent agent(2);
  std::string sock;
  {
    AgentSockets sockets;
    auto path = sockets.Add(Opt(0640), std::make_shared<UnixSshAgent>(agent.path()));
    ASSERT_TRUE(path.ok()) << path.status();
    sock = *path;
    struct stat st;
    ASSERT_EQ(stat(sock.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(st.st_uid, getuid());
    ASSERT_TRUE(sockets.Start().ok());
    for (const std::string msg : {"hello", "again"}) {
      auto c = ConnectUnix(sock);
      ASSERT_TRUE(c.ok()) << c.status();
      ASSERT_TRUE(SendAll(*c, msg));
      shutdown(*c, SHUT_WR);  // the agent answers only after this end arrives
      EXPECT_EQ(ReadToEnd(*c), "got:" + msg);
      close(*c);
    }
  }
  EXPECT_NE(access(sock.c_str(), F_OK), 0) << "the socket outlived the step";
}

TEST(AgentSocketsTest, AnUnreachableAgentHangsUpAndIsLogged) {
  std::string logged;
  std::atomic<bool> done{false};
  AgentSockets sockets;
  std::string dir = TempDir();
  auto path = sockets.Add(Opt(0600), std::make_shared<UnixSshAgent>(dir + "/none.sock"));
  ASSERT_TRUE(path.ok()) << path.status();
  ASSERT_TRUE(sockets
                  .Start([&](const std::string& line) {
                    logged = line;
                    done = true;
                  })
                  .ok());
  auto c = ConnectUnix(*path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(ReadToEnd(*c), "");
  close(*c);
  for (int i = 0; i < 500 && !done; ++i) usleep(2000);
  EXPECT_NE(logged.find("cannot reach the ssh agent"), std::string::npos) << logged;
  rmdir(dir.c_str());
}

TEST(AgentSocketsTest, EndingTheStepCutsOpenConnections) {
  // An agent that accepts and never answers.
  std::string dir = TempDir();
  std::string agent_path = dir + "/mute.sock";
  int agent_fd = Listen(agent_path);
  auto sockets = std::make_unique<AgentSockets>();
  auto path = sockets->Add(Opt(0600), std::make_shared<UnixSshAgent>(agent_path));
  ASSERT_TRUE(path.ok()) << path.status();
  ASSERT_TRUE(sockets->Start().ok());
  auto c = ConnectUnix(*path);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(SendAll(*c, "waiting"));
  int upstream = accept(agent_fd, nullptr, nullptr);  // the forwarded connection
  ASSERT_GE(upstream, 0);
  sockets.reset();  // must not wait for the agent
  EXPECT_EQ(ReadToEnd(*c), "");
  close(*c);
  close(upstream);
  close(agent_fd);
  unlink(agent_path.c_str());
  rmdir(dir.c_str());
}

TEST(ConnectUnixTest, NamesThePath) {
  auto c = ConnectUnix("/nonexistent/agent.sock");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/nonexistent/agent.sock"), std::string::npos) << c.status();
  EXPECT_FALSE(ConnectUnix(std::string(200, 'x')).ok());
}

}  // namespace
}  // namespace kiln::ops
