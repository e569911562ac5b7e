// Exec and image ops through the real solver, snapshotter and index, with a
// fake executor standing in for runc and a memory image store.
#include "gateway/ops/ops.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/cache/cache.h"
#include "gateway/ops/exec/fake_executor.h"
#include "gateway/ops/ssh_agent.h"
#include "gateway/solver/solver.h"
#include "gtest/gtest.h"
#include "sdk/llb/llb.h"

namespace kiln::ops {
namespace {

namespace llb = kiln::llb;

std::string TempDir(const std::string& name) {
  static int n = 0;
  const char* t = std::getenv("TEST_TMPDIR");
  std::string d = absl::StrCat(t ? t : "/tmp", "/", name, "-", n++);
  mkdir(d.c_str(), 0755);
  return d;
}

void Write(const std::string& path, const std::string& data) { std::ofstream(path) << data; }

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class OpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = cache::Cache::Open({TempDir("root"), "auto"});
    ASSERT_TRUE(c.ok()) << c.status();
    cache_ = std::move(*c);
  }

  // Solves `target` with `executor` and returns the result's files at a
  // mounted view (kept until the next call).
  absl::StatusOr<std::string> Solve(const llb::State& target, exec::Executor* executor,
                                    progress::Sink* sink = nullptr,
                                    std::map<std::string, std::string> secrets = {},
                                    const std::map<std::string, std::string>& ssh = {}) {
    OpsOptions o;
    o.state_dir = TempDir("locals");
    o.executor = executor;
    o.images = &images_;
    o.cache_mounts = cache_->cache_mounts();
    resolver_ = NewOpResolver(o);
    solver::Solver solver(cache_->index(), cache_->snapshotter(), resolver_.get(), {});
    auto def = llb::Marshal(target);
    if (!def.ok()) return def.status();
    auto graph = solver::LoadDefinition(*def);
    if (!graph.ok()) return graph.status();
    LocalSession session({}, std::move(secrets), ssh);
    solver::SolveOptions so;
    so.session = &session;
    so.progress = sink;
    auto r = solver.Solve(*graph, so);
    if (!r.ok()) return r.status();
    auto view = cache_->snapshotter()->View(r->chain);
    if (!view.ok()) return view.status();
    view_ = std::move(*view);
    return view_->path();
  }

  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<solver::OpResolver> resolver_;
  std::unique_ptr<cache::Mount> view_;
  image::MemoryStore images_;
};

llb::State Base() { return llb::Scratch().File(llb::Mkfile("/a", 0644, "a\n")); }

TEST_F(OpsTest, CommandWritesIntoTheRootAndIsCached) {
  exec::FakeExecutor fake([](const exec::Spec& s, const exec::OutputFn& out) {
    Write(s.rootfs + "/b", Read(s.rootfs + "/a") + "built\n");
    out(1, "compiling\n");
    return 0;
  });
  llb::RunOptions run;
  run.args = {"make", "all"};
  run.env = {{"MODE", "prod"}};
  run.cwd = "/src";
  run.user = "1000:1000";
  run.hostname = "builder";
  run.network = pb::NetMode::NONE;
  progress::RecordingSink sink;
  auto root = Solve(Base().Run(run).Root(), &fake, &sink);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(Read(*root + "/b"), "a\nbuilt\n");
  std::vector<exec::Spec> specs = fake.specs();
  ASSERT_EQ(specs.size(), 1u);
  const exec::Spec& spec = specs[0];
  EXPECT_EQ(spec.args, (std::vector<std::string>{"make", "all"}));
  EXPECT_TRUE(std::find(spec.env.begin(), spec.env.end(), "MODE=prod") != spec.env.end());
  EXPECT_EQ(spec.cwd, "/src");
  EXPECT_EQ(spec.user, "1000:1000");
  EXPECT_EQ(spec.hostname, "builder");
  EXPECT_EQ(spec.network, pb::NetMode::NONE);
  bool logged = false;
  for (const progress::Event& e : sink.events()) {
    logged = logged || (e.kind == progress::Event::Kind::kLog && e.data == "compiling\n");
  }
  EXPECT_TRUE(logged);

  auto again = Solve(Base().Run(run).Root(), &fake);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(fake.specs().size(), 1u);  // cached: the command did not run again
}

TEST_F(OpsTest, FailingCommandReportsExitCodeArgsAndLastOutput) {
  exec::FakeExecutor fake([](const exec::Spec&, const exec::OutputFn& out) {
    out(2, "step 1\nerror: no such target\n");
    return 3;
  });
  llb::RunOptions run;
  run.args = {"make", "missing"};
  auto root = Solve(Base().Run(run).Root(), &fake);
  ASSERT_FALSE(root.ok());
  std::string msg(root.status().message());
  EXPECT_TRUE(absl::StrContains(msg, "\"make missing\" did not complete successfully")) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "exit code: 3")) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "error: no such target")) << msg;
}

TEST_F(OpsTest, ValidExitCodesAreHonoured) {
  exec::FakeExecutor fake([](const exec::Spec&, const exec::OutputFn&) { return 1; });
  llb::RunOptions run;
  run.args = {"grep", "x"};
  run.valid_exit_codes = std::vector<int32_t>{0, 1};
  EXPECT_TRUE(Solve(Base().Run(run).Root(), &fake).ok());
}

TEST_F(OpsTest, ReadonlySelectorMountAndWritableOutputMount) {
  llb::State src = llb::Scratch().File(
      llb::Mkdir("/sub", 0755).Mkfile("/sub/input", 0644, "in\n").Mkfile("/other", 0644, "x"));
  exec::FakeExecutor fake([](const exec::Spec& s, const exec::OutputFn&) {
    for (const exec::Mount& m : s.mounts) {
      if (m.dest == "/out") Write(m.source + "/copied", Read(s.mounts[0].source + "/input"));
    }
    return 0;
  });
  llb::RunOptions run;
  run.args = {"cp", "/in/input", "/out/copied"};
  llb::Mount in;
  in.target = "/in";
  in.source = src;
  in.selector = "/sub";
  in.readonly = true;
  llb::Mount out;
  out.target = "/out";
  out.source = llb::Scratch();
  llb::Mount tmp;
  tmp.target = "/tmp";
  tmp.tmpfs = llb::TmpfsMount{};
  run.mounts = {in, out, tmp};
  llb::ExecState e = Base().Run(run);
  auto out_root = Solve(e.GetMount("/out"), &fake);
  ASSERT_TRUE(out_root.ok()) << out_root.status();
  EXPECT_EQ(Read(*out_root + "/copied"), "in\n");
  std::vector<exec::Spec> specs = fake.specs();
  const exec::Spec& spec = specs[0];
  ASSERT_EQ(spec.mounts.size(), 3u);
  EXPECT_TRUE(spec.mounts[0].readonly);
  EXPECT_EQ(spec.mounts[2].kind, exec::Mount::Kind::kTmpfs);
  // A change elsewhere in the read-only input does not re-run the step.
  llb::State src2 = llb::Scratch().File(
      llb::Mkdir("/sub", 0755).Mkfile("/sub/input", 0644, "in\n").Mkfile("/other", 0644, "y"));
  run.mounts[0].source = src2;
  ASSERT_TRUE(Solve(Base().Run(run).GetMount("/out"), &fake).ok());
  EXPECT_EQ(fake.specs().size(), 1u);
}

TEST_F(OpsTest, WithoutAnExecutorTheErrorSaysSo) {
  llb::RunOptions run;
  run.args = {"true"};
  auto root = Solve(Base().Run(run).Root(), nullptr);
  ASSERT_FALSE(root.ok());
  EXPECT_TRUE(absl::StrContains(root.status().message(), "container executor")) << root.status();
}

TEST_F(OpsTest, CacheMountPersistsIsSeededAndStaysOutOfTheResult) {
  // Each run appends to /cache/log and copies it into the root.
  exec::FakeExecutor fake([](const exec::Spec& s, const exec::OutputFn&) {
    for (const exec::Mount& m : s.mounts) {
      if (m.dest != "/cache") continue;
      Write(m.source + "/log", Read(m.source + "/log") + "run\n");
      Write(s.rootfs + "/seen", Read(m.source + "/log"));
    }
    return 0;
  });
  auto run_with_cache = [](const std::string& tag) {
    llb::RunOptions run;
    run.args = {"build", tag};
    llb::Mount cache_mount;
    cache_mount.target = "/cache";
    cache_mount.source = llb::Scratch().File(llb::Mkfile("/log", 0644, "seed\n"));
    cache_mount.cache = llb::CacheMount{"deps", pb::LOCKED};
    run.mounts = {cache_mount};
    return Base().Run(run).Root();
  };
  auto first = Solve(run_with_cache("1"), &fake);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(Read(*first + "/seen"), "seed\nrun\n");
  EXPECT_EQ(Read(*first + "/cache/log"), "");       // the mount is not in the result
  auto second = Solve(run_with_cache("2"), &fake);  // another step, same mount id
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(Read(*second + "/seen"), "seed\nrun\nrun\n");
}

TEST_F(OpsTest, SecretIsAReadOnlyFileOnlyWhileTheStepRuns) {
  std::string seen_path;
  exec::FakeExecutor fake([&](const exec::Spec& s, const exec::OutputFn&) {
    for (const exec::Mount& m : s.mounts) {
      if (m.dest != "/run/secrets/token") continue;
      EXPECT_TRUE(m.readonly);
      seen_path = m.source;
      Write(s.rootfs + "/length", std::to_string(Read(m.source).size()));
    }
    return 0;
  });
  llb::RunOptions run;
  run.args = {"true"};
  llb::Mount secret;
  secret.target = "/run/secrets/token";
  secret.secret = llb::SecretMount{"token"};
  run.mounts = {secret};
  auto root = Solve(Base().Run(run).Root(), &fake, nullptr, {{"token", "hunter2"}});
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(Read(*root + "/length"), "7");
  EXPECT_FALSE(seen_path.empty());
  EXPECT_FALSE(std::ifstream(seen_path).good()) << "secret file left behind";

  exec::FakeExecutor never;
  auto missing = Solve(Base().Run(run).Root(), &never);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(never.specs().empty());
}

TEST_F(OpsTest, SshMountReachesTheAgentOnlyWhileTheStepRuns) {
  // An "agent" answering one connection with what it read, reversed.
  char dir[] = "/tmp/kiln-ops-ssh-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string agent_path = std::string(dir) + "/agent.sock";
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, agent_path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  std::thread agent([listener] {
    int c = accept(listener, nullptr, nullptr);
    if (c < 0) return;
    char buf[64];
    std::string got;
    for (ssize_t n; (n = read(c, buf, sizeof buf)) > 0;) got.append(buf, n);
    std::string reply(got.rbegin(), got.rend());
    (void)!write(c, reply.data(), reply.size());
    close(c);
  });

  std::string socket_seen;
  exec::FakeExecutor fake([&](const exec::Spec& s, const exec::OutputFn&) {
    for (const exec::Mount& m : s.mounts) {
      if (m.dest != "/run/ssh") continue;
      socket_seen = m.source;
      auto c = ConnectUnix(m.source);
      if (!c.ok()) return 1;
      SendAll(*c, "ping");
      shutdown(*c, SHUT_WR);
      std::string reply;
      char buf[64];
      for (ssize_t n; (n = read(*c, buf, sizeof buf)) > 0;) reply.append(buf, n);
      close(*c);
      Write(s.rootfs + "/reply", reply);
    }
    return 0;
  });
  llb::RunOptions run;
  run.args = {"true"};
  llb::Mount ssh;
  ssh.target = "/run/ssh";
  ssh.ssh = llb::SshMount{};  // id "" is the agent "default", as in BuildKit
  run.mounts = {ssh};
  auto root = Solve(Base().Run(run).Root(), &fake, nullptr, {}, {{"default", agent_path}});
  agent.join();
  close(listener);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(Read(*root + "/reply"), "gnip");
  ASSERT_FALSE(socket_seen.empty());
  EXPECT_NE(socket_seen, agent_path) << "the step gets its own socket, not the agent's";
  EXPECT_NE(access(socket_seen.c_str(), F_OK), 0) << "the step's socket outlived it";
  (void)!system(("rm -rf " + std::string(dir)).c_str());

  // Required and not forwarded: an error before anything runs.
  exec::FakeExecutor never;
  auto missing = Solve(Base().Run(run).Root(), &never);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "ssh agent \"default\""))
      << missing.status();
  EXPECT_TRUE(never.specs().empty());
  // Optional: the step runs without the mount.
  ssh.ssh->optional = true;
  run.mounts = {ssh};
  exec::FakeExecutor without;
  auto optional = Solve(Base().Run(run).Root(), &without);
  ASSERT_TRUE(optional.ok()) << optional.status();
  ASSERT_EQ(without.specs().size(), 1u);
  for (const exec::Mount& m : without.specs()[0].mounts) EXPECT_NE(m.dest, "/run/ssh");
}

TEST_F(OpsTest, ImageSourceComesFromTheStoreAndIsKeyedByDigest) {
  // An "image": a layer the store has unpacked.
  auto active = cache_->snapshotter()->Prepare({});
  ASSERT_TRUE(active.ok());
  Write((*active)->path() + "/etc-release", "busybox\n");
  auto layer = (*active)->Commit();
  ASSERT_TRUE(layer.ok());
  images_.Add({"docker.io/library/busybox:latest", "sha256:1111", layer->chain, "{}"});
  exec::FakeExecutor fake([](const exec::Spec& s, const exec::OutputFn&) {
    Write(s.rootfs + "/seen", Read(s.rootfs + "/etc-release"));
    return 0;
  });
  llb::RunOptions run;
  run.args = {"cat", "/etc-release"};
  auto root = Solve(llb::Image("busybox").Run(run).Root(), &fake);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(Read(*root + "/seen"), "busybox\n");
  ASSERT_TRUE(Solve(llb::Image("busybox").Run(run).Root(), &fake).ok());
  EXPECT_EQ(fake.specs().size(), 1u);
  // The tag moves to another manifest: what stands on it runs again.
  images_.Add({"docker.io/library/busybox:latest", "sha256:2222", layer->chain, "{}"});
  ASSERT_TRUE(Solve(llb::Image("busybox").Run(run).Root(), &fake).ok());
  EXPECT_EQ(fake.specs().size(), 2u);
}

TEST_F(OpsTest, UnknownImageNamesTheReferenceAndHowToImportIt) {
  auto root = Solve(llb::Image("alpine:3.20"), nullptr);
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(root.status().message(), "docker.io/library/alpine:3.20"));
  EXPECT_TRUE(absl::StrContains(root.status().message(), "kiln image import")) << root.status();
}

}  // namespace
}  // namespace kiln::ops
