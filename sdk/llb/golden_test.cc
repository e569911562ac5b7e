// Pinned digests. A change here means every cache key built from such graphs
// changes, and that graphs from BuildKit's Go client no longer match: update
// the pins only for a deliberate, understood change of the encoding.
//
// Graphs are marshaled for linux/amd64 explicitly so the pins hold on any
// host.
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "sdk/base/digest.h"
#include "sdk/llb/llb.h"
#include "sdk/llb/testing.h"

namespace kiln::llb {
namespace {

using llb_testing::DecodedDefinition;

MarshalOptions Amd64() {
  MarshalOptions o;
  o.platform = Platform{"linux", "amd64"};
  return o;
}

// The digests of all ops, terminal last.
std::vector<std::string> Digests(const State& s) {
  absl::StatusOr<DecodedDefinition> g = llb_testing::MarshalAndDecode(s, Amd64());
  EXPECT_TRUE(g.ok()) << g.status();
  return g.ok() ? g->digests : std::vector<std::string>{};
}

std::string OpHex(const State& s, int i) {
  absl::StatusOr<pb::Definition> def = Marshal(s, Amd64());
  EXPECT_TRUE(def.ok()) << def.status();
  return def.ok() ? absl::BytesToHexString(def->def(i)) : "";
}

// Exact bytes of an image source op, written out from the proto field
// numbers by hand: source{identifier}, platform{amd64, linux}, and the empty
// constraints message that Go's llb always sets.
TEST(GoldenTest, ImageOpBytesMatchHandEncoding) {
  std::string want = absl::StrCat(
      "1a31", "0a2f", absl::BytesToHexString("docker-image://docker.io/library/busybox:latest"),
      "520e", "0a05", absl::BytesToHexString("amd64"), "1205", absl::BytesToHexString("linux"),
      "5a00");
  EXPECT_EQ(OpHex(Image("busybox"), 0), want);
}

// Digests printed by BuildKit itself (moby/buildkit#5, `buildctl dump`) for
// ops of that era, which had no platform or constraints: our schema and
// serializer give the same bytes for the same message.
TEST(GoldenTest, MatchesDigestsPublishedByBuildKit) {
  pb::Op source;
  source.mutable_source()->set_identifier("docker-image://docker.io/library/busybox:latest");
  std::string source_bytes = *SerializeDeterministic(source);
  EXPECT_EQ(DigestOf(source_bytes),
            "sha256:74ecb5d790c33a213ba00f8f43d62947df1d4dea72f5ec13353a9b943f469f0f");
  pb::Op exec;
  pb::Input* in = exec.add_inputs();
  in->set_digest(DigestOf(source_bytes));
  pb::Meta* meta = exec.mutable_exec()->mutable_meta();
  meta->add_args("/bin/sleep");
  meta->add_args("1");
  meta->set_cwd("/");
  exec.mutable_exec()->add_mounts()->set_dest("/");
  EXPECT_EQ(DigestOf(*SerializeDeterministic(exec)),
            "sha256:1de5701b93648843bf2cf6ebf982b4f63ea55dcb9259e73a5bd6737505660d06");
}

TEST(GoldenTest, ImageRunWithMounts) {
  RunOptions run;
  run.shlex = "sh -c 'echo hi > /out/hi'";
  run.mounts.push_back({"/out"});
  Mount cache{"/var/cache"};
  cache.cache = CacheMount{"apt", pb::LOCKED};
  run.mounts.push_back(cache);
  State img = Image("busybox").AddEnv("PATH", "/bin").Dir("/work");
  EXPECT_EQ(Digests(img.Run(run).GetMount("/out")),
            (std::vector<std::string>{
                "sha256:08a03f3ffe5fba421a6403c31e153425ced631d108868f30e04985f99d69326e",
                "sha256:eff808c41df8ed9f48f642129b62545bb7a5793cd28db94a6e148d76d5a706e1",
                "sha256:eee4817b2d80356326c0944496d878cff23c51e535552257f03874de04d79d1b"}));
}

TEST(GoldenTest, LocalWithPatterns) {
  LocalOptions o;
  o.include_patterns = {"src/**", "go.mod"};
  o.exclude_patterns = {"**/*_test.go"};
  o.shared_key_hint = "ctx";
  EXPECT_EQ(Digests(Local("context", o)),
            (std::vector<std::string>{
                "sha256:e93caf98fb0f33029e922b50b23935b675c209ef9aea16ff8c425a9ec2f5b828",
                "sha256:35b378460d8c5c0d647b3918473223c2a7ddb8c4026abaf16b73aa454be48c9f"}));
}

TEST(GoldenTest, FileOpChain) {
  MkdirOptions parents;
  parents.make_parents = true;
  CopyOptions copy;
  copy.owner = Owner::Ids(1000, 1000);
  copy.create_dest_path = true;
  State out = Scratch().Dir("/app").File(Mkdir("bin", 0755, parents)
                                             .Mkfile("bin/run", 0755, "#!/bin/sh\necho run\n")
                                             .Copy(Local("ctx"), "config/", "etc/", copy)
                                             .Symlink("bin/run", "/app/start")
                                             .Rm("tmp", RmOptions{true, false}));
  EXPECT_EQ(Digests(out),
            (std::vector<std::string>{
                "sha256:be533bc478a125dba4bdcca27bff8c9010dc1d1b1037502dd7eec4dd62a2ee1e",
                "sha256:c71b2b24d187e1578b3d99f0ace8c61a5774aea38b831a4a8e245e823b18d61d",
                "sha256:7fcb386f88cb3e1abdb7cb36ab60d59b2c52e051061fd433a02f90a87e83c33a"}));
}

State Branch(const char* name) {
  return Scratch().File(Mkfile(std::string("/") + name, 0644, name));
}

TEST(GoldenTest, Merge) {
  EXPECT_EQ(Digests(Merge({Branch("a"), Branch("b"), Branch("c")})),
            (std::vector<std::string>{
                "sha256:74ee2dc745b5bbd2e4d2c38f99d9bc79e96f002bd3e4bfeac824b54f9b15e859",
                "sha256:7c5f7596a43c2b58280f55920b00203b5558b7cb24f3ac7aac1d0657bcffa885",
                "sha256:83914ffcb5fc32500f380c470d647b30271a1f6ac692d3edf04f1c72c703999e",
                "sha256:76a42340fbc064d625ddb5de0bad02cf2c1eaf75c85a813d370f6e77f98ee07a",
                "sha256:8d68415ec4249f2c13d87452d5b25061f93eb8fa2699c1ead3f3753168568f28"}));
}

TEST(GoldenTest, Diff) {
  State lower = Branch("base");
  State upper = lower.File(Mkdir("/extra", 0700));
  EXPECT_EQ(Digests(Diff(lower, upper)),
            (std::vector<std::string>{
                "sha256:7e9c1f6b29dd5579109402fa7c6ae9065bfff7fcd1e8b178e92e6c6e169b4851",
                "sha256:aa8e76a00a215bd9f1a702d1206c7fc4c0302ee285c8e9244f883bd3f382a6c3",
                "sha256:1bf408c1a13be2f87278f0244e50ce17c7552c5c1ee5164aa68549cb34ea35d6",
                "sha256:c6710ce435e9be01c7c877088deac5685ff3f7da296d42c79239d1a3d8c19c58"}));
}

TEST(GoldenTest, Http) {
  HttpOptions o;
  o.checksum = "sha256:" + std::string(64, 'e');
  o.filename = "tool.tgz";
  o.perm = 0644;
  EXPECT_EQ(Digests(Http("https://example.com/tool.tgz", o)),
            (std::vector<std::string>{
                "sha256:5eca24366e8741a2c27106726be0a3ad3c3aeb7c9c42c63cef2b609be9dc8d4a",
                "sha256:59cec9a988e8cc46acae989b1ca2ce8318abd1ea9880a0ffd5eed3510cee3aeb"}));
}

TEST(GoldenTest, Git) {
  GitOptions o;
  o.keep_git_dir = true;
  EXPECT_EQ(Digests(Git("https://github.com/moby/buildkit.git", "v0.12.0", o)),
            (std::vector<std::string>{
                "sha256:8c41696f80fdde5cdaaa817f6ac8a31bd40823428fca157af9ecb7c14eae3e31",
                "sha256:79893f366d7c46bf0089eaef42ca164531b489a23c9499dcf5aab890d190b489"}));
}

}  // namespace
}  // namespace kiln::llb
