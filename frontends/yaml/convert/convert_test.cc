#include "frontends/yaml/convert/convert.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sdk/llb/testing.h"

namespace kiln::yamlconvert {
namespace {

using Json = nlohmann::json;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int resolves = 0;

// The fake image store: busybox (one layer, an Env and a WorkingDir).
absl::StatusOr<frontend::ResolvedImage> FakeResolve(const std::string& ref) {
  ++resolves;
  absl::StatusOr<std::string> normalized = llb::NormalizeImageRef(ref);
  if (!normalized.ok()) return normalized.status();
  if (*normalized == "docker.io/library/busybox:latest") {
    return frontend::ResolvedImage{
        *normalized, "sha256:" + std::string(64, 'b'),
        R"({"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin","HOME=/root"],)"
        R"("WorkingDir":"/srv"},"rootfs":{"type":"layers","diff_ids":["sha256:aa"]},)"
        R"("history":[{"created_by":"base"}]})"};
  }
  return absl::NotFoundError("image " + *normalized + " is not in kiln's image store");
}

ConvertOptions Options() {
  ConvertOptions o;
  o.platform = {"linux", "amd64"};
  o.resolve_image = FakeResolve;
  return o;
}

struct Out {
  llb_testing::DecodedDefinition graph;
  Json config;
};

absl::StatusOr<Out> ConvertText(const std::string& text, ConvertOptions o = Options(),
                                std::map<std::string, std::string> args = {}) {
  yamlspec::ReadOptions ro;
  ro.build_args = args;
  absl::StatusOr<yamlspec::Spec> spec = yamlspec::Read(text, ro);
  if (!spec.ok()) return spec.status();
  o.text = text;
  absl::StatusOr<Converted> c = Convert(*spec, o);
  if (!c.ok()) return c.status();
  absl::StatusOr<llb_testing::DecodedDefinition> g = llb_testing::MarshalAndDecode(c->state);
  if (!g.ok()) return g.status();
  return Out{*g, Json::parse(c->image_config)};
}

Out Must(const std::string& text, ConvertOptions o = Options()) {
  absl::StatusOr<Out> out = ConvertText(text, o);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : Out{};
}

std::vector<const pb::Op*> Execs(const llb_testing::DecodedDefinition& g) {
  std::vector<const pb::Op*> out;
  for (const pb::Op& op : g.ops) {
    if (op.has_exec()) out.push_back(&op);
  }
  return out;
}

std::vector<std::string> Strings(const google::protobuf::RepeatedPtrField<std::string>& r) {
  return std::vector<std::string>(r.begin(), r.end());
}

const char kHead[] = "version: 1\nstages:\n";

// The sample's LLB, pinned: a change to what the sample builds (or to how
// LLB is marshaled) shows up here first. Regenerate by running this test
// and copying the digest it prints.
TEST(ConvertTest, TheSampleGivesItsGoldenDefinition) {
  std::string text = Slurp("samples/yaml/kiln.yaml");
  ASSERT_FALSE(text.empty());
  Out a = Must(text);
  Out b = Must(text);
  ASSERT_FALSE(a.graph.digests.empty());
  EXPECT_EQ(a.graph.digests, b.graph.digests) << "conversion is deterministic";
  absl::StatusOr<std::string> bytes_a = llb::SerializeDeterministic(a.graph.definition);
  absl::StatusOr<std::string> bytes_b = llb::SerializeDeterministic(b.graph.definition);
  ASSERT_TRUE(bytes_a.ok() && bytes_b.ok());
  EXPECT_EQ(*bytes_a, *bytes_b);
  EXPECT_EQ(a.graph.digests.back(),
            "sha256:db22d74c7f45c7b0a86ef717c754002f2ba25ee44ca492f9ee2c4fd34c01769d");
  ConvertOptions o = Options();
  o.target = "test";
  Out t = Must(text, o);
  EXPECT_EQ(t.graph.digests.back(),
            "sha256:79222cf5fa44fb86fd588ff38ab7d229fd7c33581281f94c362f7404327b46ff");
}

TEST(ConvertTest, RunStepsBecomeExecsWithTheirOwnSettings) {
  Out out = Must(std::string(kHead) +
                 "  a:\n    from: busybox\n    env: {LANG: C}\n    user: \"1:1\"\n    steps:\n"
                 "      - run: echo hi > /hello\n"
                 "        env: {A: b}\n        workdir: sub\n        user: \"1000\"\n"
                 "        network: none\n"
                 "        mounts:\n"
                 "          - {type: cache, target: /root/.cache, id: deps, sharing: locked}\n"
                 "          - {type: bind, target: ctx, from: context, source: sub}\n"
                 "          - {type: tmpfs, target: /scratch, size: 64m}\n"
                 "          - {type: secret, target: /run/secrets/token, id: token, required: "
                 "true}\n"
                 "      - run: [ls, -l]\n");
  auto execs = Execs(out.graph);
  ASSERT_EQ(execs.size(), 2u);
  const pb::ExecOp& first = execs[0]->exec();
  EXPECT_EQ(Strings(first.meta().args()),
            (std::vector<std::string>{"/bin/sh", "-c", "echo hi > /hello"}));
  EXPECT_EQ(Strings(first.meta().env()),
            (std::vector<std::string>{"PATH=/bin", "HOME=/root", "LANG=C", "A=b"}));
  EXPECT_EQ(first.meta().cwd(), "/srv/sub");
  EXPECT_EQ(first.meta().user(), "1000");
  EXPECT_EQ(first.network(), pb::NONE);
  std::map<std::string, const pb::Mount*> mounts;
  for (const pb::Mount& m : first.mounts()) mounts[m.dest()] = &m;
  ASSERT_EQ(mounts.count("/root/.cache"), 1u);
  EXPECT_EQ(mounts["/root/.cache"]->mounttype(), pb::CACHE);
  EXPECT_EQ(mounts["/root/.cache"]->cacheopt().id(), "/deps");
  EXPECT_EQ(mounts["/root/.cache"]->cacheopt().sharing(), pb::LOCKED);
  ASSERT_EQ(mounts.count("/srv/sub/ctx"), 1u) << "relative targets follow the step's workdir";
  EXPECT_TRUE(mounts["/srv/sub/ctx"]->readonly());
  EXPECT_EQ(mounts["/srv/sub/ctx"]->selector(), "/sub");
  ASSERT_EQ(mounts.count("/scratch"), 1u);
  EXPECT_EQ(mounts["/scratch"]->mounttype(), pb::TMPFS);
  EXPECT_EQ(mounts["/scratch"]->tmpfsopt().size(), 64 << 20);
  ASSERT_EQ(mounts.count("/run/secrets/token"), 1u);
  EXPECT_EQ(mounts["/run/secrets/token"]->secretopt().id(), "token");
  EXPECT_FALSE(mounts["/run/secrets/token"]->secretopt().optional());
  // The step's env, workdir and user are its own.
  const pb::ExecOp& second = execs[1]->exec();
  EXPECT_EQ(Strings(second.meta().args()), (std::vector<std::string>{"ls", "-l"}));
  EXPECT_EQ(Strings(second.meta().env()),
            (std::vector<std::string>{"PATH=/bin", "HOME=/root", "LANG=C"}));
  EXPECT_EQ(second.meta().cwd(), "/srv");
  EXPECT_EQ(second.meta().user(), "1:1");
  EXPECT_EQ(second.network(), pb::NetMode::UNSET);
}

TEST(ConvertTest, FileStepsAreFileOps) {
  Out out =
      Must(std::string(kHead) +
           "  a:\n    from: scratch\n    workdir: /w\n    steps:\n"
           "      - mkdir: d\n        mode: \"0700\"\n        owner: \"1:2\"\n"
           "      - file: /etc/app.conf\n        content: \"k=v\\n\"\n        mode: \"0600\"\n"
           "      - rm: /tmp/junk\n        allow_not_found: true\n"
           "      - symlink: /usr/bin/app\n        target: /w/app\n");
  std::vector<std::string> kinds;
  for (const pb::Op& op : out.graph.ops) {
    if (!op.has_file()) continue;
    for (const pb::FileAction& a : op.file().actions()) {
      if (a.has_mkdir()) kinds.push_back("mkdir " + a.mkdir().path());
      if (a.has_mkfile()) {
        kinds.push_back("mkfile " + a.mkfile().path() + " " + a.mkfile().data());
        EXPECT_EQ(a.mkfile().mode(), 0600);
      }
      if (a.has_rm()) {
        kinds.push_back("rm " + a.rm().path());
        EXPECT_TRUE(a.rm().allownotfound());
      }
      if (a.has_symlink()) {
        kinds.push_back("symlink " + a.symlink().newpath() + " " + a.symlink().oldpath());
      }
    }
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"mkdir /w", "mkdir /w/d", "mkdir /etc",
                                             "mkfile /etc/app.conf k=v\n", "rm /tmp/junk",
                                             "symlink /usr/bin/app /w/app"}));
}

TEST(ConvertTest, TheImageBlockSetsTheConfig) {
  Out out = Must(std::string(kHead) +
                 "  a:\n    from: busybox\n    image:\n"
                 "      entrypoint: [/app]\n      cmd: serve\n      env: {MODE: prod}\n"
                 "      labels: {team: build}\n      expose: [\"8080\", 53/udp, 9000-9001]\n"
                 "      volumes: [/data]\n      user: \"1000\"\n      workdir: data\n"
                 "      stopsignal: SIGTERM\n");
  const Json& c = out.config["config"];
  EXPECT_EQ(c["Entrypoint"], Json({"/app"}));
  EXPECT_EQ(c["Cmd"], Json({"/bin/sh", "-c", "serve"}));
  EXPECT_EQ(c["Env"], Json({"PATH=/bin", "HOME=/root", "MODE=prod"}));
  EXPECT_EQ(c["Labels"], Json({{"team", "build"}}));
  EXPECT_EQ(c["ExposedPorts"], Json({{"8080/tcp", Json::object()},
                                     {"53/udp", Json::object()},
                                     {"9000/tcp", Json::object()},
                                     {"9001/tcp", Json::object()}}));
  EXPECT_EQ(c["Volumes"], Json({{"/data", Json::object()}}));
  EXPECT_EQ(c["User"], "1000");
  EXPECT_EQ(c["WorkingDir"], "/srv/data");
  EXPECT_EQ(c["StopSignal"], "SIGTERM");
  EXPECT_EQ(out.config["architecture"], "amd64");
  EXPECT_EQ(out.config["history"].size(), 10u);  // the base's and one per field
  EXPECT_EQ(out.config["history"][1]["comment"], "kiln.yaml.v0");
  EXPECT_TRUE(out.config["history"][1]["empty_layer"].get<bool>());
  absl::StatusOr<Out> bad = ConvertText(std::string(kHead) +
                                        "  a:\n    from: scratch\n    image:\n"
                                        "      expose: [\"80/icmp\"]\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "bad port \"80/icmp\""));
  for (const char* port : {"0", "0-2", "8080:80"}) {
    absl::StatusOr<Out> refused = ConvertText(std::string(kHead) +
                                              "  a:\n    from: scratch\n    image:\n"
                                              "      expose: [\"" +
                                              port + "\"]\n");
    ASSERT_FALSE(refused.ok()) << port;
    EXPECT_TRUE(absl::StrContains(refused.status().message(), "1 to 65535")) << refused.status();
  }
}

TEST(ConvertTest, OnlyTheStagesTheTargetNeedsAreConverted) {
  std::string text = std::string(kHead) +
                     "  a:\n    from: busybox\n    steps: [{run: echo a > /a}]\n"
                     "  broken:\n    from: missing-image\n"
                     "  final:\n    from: scratch\n"
                     "    steps: [{copy: /a, from: a, to: /a}]\n";
  resolves = 0;
  Out out = Must(text);
  EXPECT_EQ(Execs(out.graph).size(), 1u);
  EXPECT_EQ(resolves, 1) << "busybox only";
  ConvertOptions o = Options();
  o.target = "broken";
  absl::StatusOr<Out> broken = ConvertText(text, o);
  ASSERT_FALSE(broken.ok());
  EXPECT_TRUE(absl::StartsWith(broken.status().message(), "kiln.yaml:7:11: image "))
      << broken.status();
  o.target = "fnial";
  absl::StatusOr<Out> typo = ConvertText(text, o);
  ASSERT_FALSE(typo.ok());
  EXPECT_TRUE(absl::StrContains(typo.status().message(), "did you mean final?")) << typo.status();
}

TEST(ConvertTest, ProxyArgsReachTheProcessButNotTheCacheKey) {
  std::string text = std::string(kHead) + "  a:\n    from: busybox\n    steps: [{run: wget x}]\n";
  Out plain = Must(text);
  ConvertOptions o = Options();
  o.build_args = {{"HTTP_PROXY", "http://127.0.0.1:3128"}};
  Out proxied = Must(text, o);
  auto execs = Execs(proxied.graph);
  ASSERT_EQ(execs.size(), 1u);
  EXPECT_EQ(execs[0]->exec().meta().proxy_env().http_proxy(), "http://127.0.0.1:3128");
  for (const std::string& e : Strings(execs[0]->exec().meta().env())) {
    EXPECT_FALSE(absl::StrContains(e, "3128")) << e;
  }
}

TEST(ConvertTest, EveryGoodTestdataSpecConverts) {
  for (const char* name : {"minimal", "every-key"}) {
    std::string text = Slurp(absl::StrCat("frontends/yaml/testdata/good/", name, ".yaml"));
    ASSERT_FALSE(text.empty()) << name;
    absl::StatusOr<Out> out = ConvertText(text, Options(), {{"NOVALUE", "given"}});
    EXPECT_TRUE(out.ok()) << name << ": " << out.status();
  }
}

// Random and truncated specs that read must convert or fail cleanly.
TEST(ConvertTest, TruncatedSpecsConvertOrFailCleanly) {
  std::string text = Slurp("samples/yaml/kiln.yaml");
  for (size_t n = 0; n <= text.size(); n += 3) {
    yamlspec::ReadOptions ro;
    absl::StatusOr<yamlspec::Spec> spec = yamlspec::Read(text.substr(0, n), ro);
    if (!spec.ok()) continue;
    ConvertOptions o = Options();
    absl::StatusOr<Converted> c = Convert(*spec, o);
    if (!c.ok()) {
      EXPECT_TRUE(absl::StartsWith(c.status().message(), "kiln.yaml")) << c.status();
      continue;
    }
    EXPECT_TRUE(llb::Marshal(c->state).ok());
  }
}

}  // namespace
}  // namespace kiln::yamlconvert
