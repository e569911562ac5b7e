#include "cmd/kilnd/config.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"

namespace kiln::kilnd {
namespace {

TEST(ConfigTest, FileThenFlags) {
  Config c;
  ASSERT_TRUE(ApplyConfigFile("k.yaml",
                              "root: /srv/kiln\n"
                              "addr: [unix:///tmp/a.sock, tcp://127.0.0.1:7451]\n"
                              "max-parallelism: 3\n"
                              "tls: {cert: c.pem, key: k.pem, ca: ca.pem}\n",
                              &c)
                  .ok());
  EXPECT_EQ(c.root, "/srv/kiln");
  EXPECT_EQ(c.addrs, (std::vector<std::string>{"unix:///tmp/a.sock", "tcp://127.0.0.1:7451"}));
  EXPECT_EQ(c.max_parallelism, 3);
  EXPECT_EQ(c.tls_ca, "ca.pem");
  auto listen = ParseListen(c);
  ASSERT_TRUE(listen.ok()) << listen.status();
  ASSERT_EQ(listen->size(), 2u);
  EXPECT_TRUE((*listen)[0].unix_socket);
  EXPECT_EQ((*listen)[0].path, "/tmp/a.sock");
  EXPECT_EQ((*listen)[1].target, "127.0.0.1:7451");

  // A config file named on the command line; flags win, --addr replaces.
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string file = std::string(tmp ? tmp : "/tmp") + "/kilnd.yaml";
  std::ofstream(file) << "root: /from/file\nmax-parallelism: 2\naddr: unix:///x/y.sock\n";
  Config d;
  ASSERT_TRUE(
      ApplyFlags({"--max-parallelism", "5", "--config", file, "--addr=unix:///z.sock"}, &d).ok());
  EXPECT_EQ(d.root, "/from/file");
  EXPECT_EQ(d.max_parallelism, 5);
  EXPECT_EQ(d.addrs, std::vector<std::string>{"unix:///z.sock"});
}

TEST(ConfigTest, ErrorsNameThePlace) {
  Config c;
  absl::Status st = ApplyConfigFile("k.yaml", "root: /a\nmax-paralelism: 2\n", &c);
  EXPECT_EQ(st.message(),
            "k.yaml:2:1: unknown key \"max-paralelism\" (did you mean \"max-parallelism\"?)");
  st = ApplyConfigFile("k.yaml", "max-parallelism: none\n", &c);
  EXPECT_EQ(st.message(), "k.yaml:1:18: max-parallelism: want a positive number, not \"none\"");
  st = ApplyConfigFile("k.yaml", "tls: {cert: a, chain: b}\n", &c);
  EXPECT_EQ(st.message(), "k.yaml:1:16: unknown key \"chain\" in tls");
  st = ApplyConfigFile("k.yaml", "addr: {a: b}\n", &c);
  EXPECT_EQ(st.message(), "k.yaml:1:7: addr: want an address or a list of them");
  st = ApplyConfigFile("k.yaml", "root: [\n", &c);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.message().substr(0, 7), "k.yaml:");
  EXPECT_EQ(ApplyFlags({"--config", "/nonexistent/kilnd.yaml"}, &c).message(),
            "--config /nonexistent/kilnd.yaml: cannot read it");
  EXPECT_EQ(ApplyFlags({"--adr", "unix:///a"}, &c).message(),
            "unknown flag --adr (did you mean --addr?) (see kilnd --help)");
}

TEST(ConfigTest, TcpNeedsMutualTlsOrInsecure) {
  Config c;
  c.addrs = {"tcp://127.0.0.1:7451"};
  auto l = ParseListen(c);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("TCP needs mutual TLS"), std::string::npos);
  c.tls_cert = "c.pem";
  l = ParseListen(c);
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("together"), std::string::npos);
  c.tls_key = "k.pem";
  c.tls_ca = "ca.pem";
  EXPECT_TRUE(ParseListen(c).ok());
  Config insecure;
  insecure.addrs = {"tcp://[::1]:0"};
  insecure.insecure = true;
  l = ParseListen(insecure);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ((*l)[0].target, "[::1]:0");
  Config bad;
  bad.addrs = {"unix://relative.sock"};
  EXPECT_FALSE(ParseListen(bad).ok());
  bad.addrs = {"http://x"};
  EXPECT_FALSE(ParseListen(bad).ok());
  Config none;
  l = ParseListen(none);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l)[0].path, "/run/kiln/kilnd.sock");
}

}  // namespace
}  // namespace kiln::kilnd
