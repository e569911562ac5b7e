// The ExecOp that State::Run produces: meta from the state, mounts and their
// input and output numbering.
#include "sdk/llb/exec.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sdk/llb/llb.h"
#include "sdk/llb/testing.h"

namespace kiln::llb {
namespace {

using Strings = std::vector<std::string>;
using llb_testing::DecodedDefinition;

DecodedDefinition MustDecode(const State& s) {
  absl::StatusOr<DecodedDefinition> g = llb_testing::MarshalAndDecode(s);
  EXPECT_TRUE(g.ok()) << g.status();
  return g.ok() ? *g : DecodedDefinition{};
}

Strings ToStrings(const google::protobuf::RepeatedPtrField<std::string>& r) {
  return Strings(r.begin(), r.end());
}

RunOptions Args(Strings args) {
  RunOptions o;
  o.args = std::move(args);
  return o;
}

TEST(ExecTest, MetaComesFromStateAndOptions) {
  State base = Image("busybox").AddEnv("PATH", "/bin").AddEnv("A", "1").Dir("/w").User("u");
  RunOptions o = Args({"sh", "-c", "true"});
  o.env = {{"A", "2"}, {"B", "3"}};
  o.cwd = "sub";
  o.hostname = "box";
  DecodedDefinition g = MustDecode(base.Run(o).Root());
  const pb::Op& op = g.Target();
  ASSERT_TRUE(op.has_exec());
  const pb::Meta& meta = op.exec().meta();
  EXPECT_EQ(ToStrings(meta.args()), (Strings{"sh", "-c", "true"}));
  EXPECT_EQ(ToStrings(meta.env()), (Strings{"PATH=/bin", "A=2", "B=3"}));
  EXPECT_EQ(meta.cwd(), "/w/sub");
  EXPECT_EQ(meta.user(), "u");
  EXPECT_EQ(meta.hostname(), "box");
  EXPECT_TRUE(meta.removemountstubsrecursive());
  EXPECT_TRUE(op.has_platform());
  EXPECT_TRUE(op.has_constraints());
  EXPECT_TRUE(g.Metadata(g.digests[1]).caps().at("exec.meta.base"));
}

TEST(ExecTest, ShlexSplitsTheCommand) {
  RunOptions o;
  o.shlex = "echo 'a b' c";
  DecodedDefinition g = MustDecode(Image("busybox").Run(o).Root());
  EXPECT_EQ(ToStrings(g.Target().exec().meta().args()), (Strings{"echo", "a b", "c"}));
}

TEST(ExecTest, RootMountUsesTheStateAsInputZero) {
  DecodedDefinition g = MustDecode(Image("busybox").Run(Args({"true"})).Root());
  const pb::Op& op = g.Target();
  ASSERT_EQ(op.inputs_size(), 1);
  EXPECT_EQ(op.inputs(0).digest(), g.digests[0]);
  ASSERT_EQ(op.exec().mounts_size(), 1);
  const pb::Mount& root = op.exec().mounts(0);
  EXPECT_EQ(root.dest(), "/");
  EXPECT_EQ(root.input(), 0);
  EXPECT_EQ(root.output(), 0);
  EXPECT_FALSE(root.readonly());
  EXPECT_EQ(g.Terminal().inputs(0).index(), 0);
}

TEST(ExecTest, OutputsAreNumberedInTargetOrder) {
  State src = Local("src");
  RunOptions o = Args({"make"});
  o.mounts.push_back({"/z-out"});
  o.mounts.push_back({"/src", src});
  Mount ro{"/ro", src};
  ro.readonly = true;
  o.mounts.push_back(ro);
  Mount cache{"/cache"};
  cache.cache = CacheMount{"go", pb::LOCKED};
  o.mounts.push_back(cache);
  Mount tmp{"/tmp"};
  tmp.tmpfs = TmpfsMount{1 << 20};
  o.mounts.push_back(tmp);
  ExecState exec = Image("busybox").Run(o);
  DecodedDefinition g = MustDecode(exec.GetMount("/z-out"));
  const pb::ExecOp& e = g.Target().exec();
  ASSERT_EQ(e.mounts_size(), 6);
  Strings dests;
  for (const pb::Mount& m : e.mounts()) dests.push_back(m.dest());
  EXPECT_EQ(dests, (Strings{"/", "/cache", "/ro", "/src", "/tmp", "/z-out"}));
  // Outputs: "/" 0, "/src" 1, "/z-out" 2; the others none.
  EXPECT_EQ(e.mounts(0).output(), 0);
  EXPECT_EQ(e.mounts(1).output(), -1);
  EXPECT_EQ(e.mounts(2).output(), -1);
  EXPECT_EQ(e.mounts(3).output(), 1);
  EXPECT_EQ(e.mounts(4).output(), -1);
  EXPECT_EQ(e.mounts(5).output(), 2);
  EXPECT_EQ(g.Terminal().inputs(0).index(), 2);
  // Inputs: busybox 0, src 1 (shared by /ro and /src); scratch mounts -1.
  EXPECT_EQ(g.Target().inputs_size(), 2);
  EXPECT_EQ(e.mounts(0).input(), 0);
  EXPECT_EQ(e.mounts(1).input(), -1);
  EXPECT_EQ(e.mounts(2).input(), 1);
  EXPECT_EQ(e.mounts(3).input(), 1);
  EXPECT_EQ(e.mounts(5).input(), -1);
  EXPECT_EQ(e.mounts(1).mounttype(), pb::CACHE);
  EXPECT_EQ(e.mounts(1).cacheopt().id(), "go");
  EXPECT_EQ(e.mounts(1).cacheopt().sharing(), pb::LOCKED);
  EXPECT_TRUE(e.mounts(2).readonly());
  EXPECT_EQ(e.mounts(4).mounttype(), pb::TMPFS);
  EXPECT_EQ(e.mounts(4).tmpfsopt().size(), 1 << 20);
  EXPECT_EQ(g.InputOp(g.Target(), 1).source().identifier(), "local://src");
}

TEST(ExecTest, GetMountOfReadonlyMountIsItsSource) {
  RunOptions o = Args({"true"});
  Mount ro{"/ro", Local("ctx")};
  ro.readonly = true;
  o.mounts.push_back(ro);
  DecodedDefinition g = MustDecode(Image("busybox").Run(o).GetMount("/ro"));
  EXPECT_EQ(g.Target().source().identifier(), "local://ctx");
}

TEST(ExecTest, MountsWithoutOutputCannotBeUsed) {
  RunOptions o = Args({"true"});
  Mount cache{"/cache"};
  cache.cache = CacheMount{"c"};
  o.mounts.push_back(cache);
  Mount secret{"/run/secrets/token"};
  secret.secret = SecretMount{"token"};
  o.mounts.push_back(secret);
  ExecState exec = Image("busybox").Run(o);
  for (const char* target : {"/cache", "/run/secrets/token", "/nope"}) {
    absl::Status st = Marshal(exec.GetMount(target)).status();
    EXPECT_TRUE(absl::IsInvalidArgument(st)) << target << ": " << st;
    EXPECT_NE(st.message().find(target), absl::string_view::npos) << st;
  }
}

TEST(ExecTest, SecretAndSshMountsFollowTheSortedMounts) {
  RunOptions o = Args({"true"});
  Mount secret{"/run/secrets/npm"};
  secret.secret = SecretMount{"npmrc", 1, 2, 0440, true};
  o.mounts.push_back(secret);
  Mount ssh;
  ssh.ssh = SshMount{};
  o.mounts.push_back(ssh);
  o.mounts.push_back({"/a"});
  o.secret_env.push_back({"token", "TOKEN"});
  DecodedDefinition g = MustDecode(Image("busybox").Run(o).Root());
  const pb::ExecOp& e = g.Target().exec();
  ASSERT_EQ(e.mounts_size(), 4);
  EXPECT_EQ(e.mounts(1).dest(), "/a");
  const pb::Mount& s = e.mounts(2);
  EXPECT_EQ(s.mounttype(), pb::SECRET);
  EXPECT_EQ(s.input(), -1);
  EXPECT_EQ(s.output(), 0);  // unset, exactly as BuildKit writes it
  EXPECT_EQ(s.secretopt().id(), "npmrc");
  EXPECT_EQ(s.secretopt().mode(), 0440u);
  EXPECT_TRUE(s.secretopt().optional());
  const pb::Mount& a = e.mounts(3);
  EXPECT_EQ(a.mounttype(), pb::SSH);
  EXPECT_EQ(a.dest(), "/run/buildkit/ssh_agent.0");
  EXPECT_EQ(a.sshopt().mode(), 0600u);
  EXPECT_EQ(e.meta().env(e.meta().env_size() - 1), "SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0");
  ASSERT_EQ(e.secretenv_size(), 1);
  EXPECT_EQ(e.secretenv(0).name(), "TOKEN");
  const auto& caps = g.Metadata(g.digests[1]).caps();
  EXPECT_TRUE(caps.count("exec.mount.secret") && caps.count("exec.mount.ssh") &&
              caps.count("exec.secretenv"));
}

TEST(ExecTest, NetworkAndSecurityComeFromStateUnlessOverridden) {
  State base = Image("busybox").Network(pb::HOST);
  RunOptions o = Args({"true"});
  o.security = pb::INSECURE;
  DecodedDefinition g = MustDecode(base.Run(o).Root());
  EXPECT_EQ(g.Target().exec().network(), pb::HOST);
  EXPECT_EQ(g.Target().exec().security(), pb::INSECURE);
  const auto& caps = g.Metadata(g.digests[1]).caps();
  EXPECT_TRUE(caps.count("exec.meta.network") && caps.count("exec.meta.security"));
}

TEST(ExecTest, ReadonlyRootfsReturnsTheInputAsRoot) {
  RunOptions o = Args({"true"});
  o.readonly_rootfs = true;
  o.mounts.push_back({"/out"});
  ExecState exec = Image("busybox").Run(o);
  DecodedDefinition root = MustDecode(exec.Root());
  EXPECT_TRUE(root.Target().has_source());
  DecodedDefinition out = MustDecode(exec.GetMount("/out"));
  EXPECT_TRUE(out.Target().exec().mounts(0).readonly());
  EXPECT_EQ(out.Target().exec().mounts(0).output(), -1);
  EXPECT_EQ(out.Terminal().inputs(0).index(), 0);
}

TEST(ExecTest, InvalidRunsFailAtMarshal) {
  State img = Image("busybox");
  std::vector<RunOptions> bad(6);
  bad[1].shlex = "echo 'unclosed";
  bad[2] = Args({"true"});
  bad[2].mounts = {Mount{"/x"}, Mount{"/x"}};
  bad[3] = Args({"true"});
  Mount tmp{"/t", img};
  tmp.tmpfs = TmpfsMount{};
  bad[3].mounts = {tmp};
  bad[4] = Args({"true"});
  Mount two{"/t"};
  two.tmpfs = TmpfsMount{};
  two.cache = CacheMount{"c"};
  bad[4].mounts = {two};
  bad[5] = Args({"true"});
  bad[5].shlex = "also";
  for (const RunOptions& o : bad) {
    absl::Status st = Marshal(img.Run(o).Root()).status();
    EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  }
}

}  // namespace
}  // namespace kiln::llb
