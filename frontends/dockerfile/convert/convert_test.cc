#include "frontends/dockerfile/convert/convert.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "sdk/llb/testing.h"

namespace kiln::dockerfile {
namespace {

using Json = nlohmann::json;

// Images the fake registry knows: busybox (one layer, an Env and a
// WorkingDir) and "parent" (with ONBUILD triggers).
absl::StatusOr<frontend::ResolvedImage> FakeResolve(const std::string& ref) {
  absl::StatusOr<std::string> normalized = llb::NormalizeImageRef(ref);
  if (!normalized.ok()) return normalized.status();
  std::string norm = *normalized;
  if (norm == "docker.io/library/busybox:latest") {
    return frontend::ResolvedImage{
        norm, "sha256:" + std::string(64, 'b'),
        R"({"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin","HOME=/root"],)"
        R"("WorkingDir":"/srv"},"rootfs":{"type":"layers","diff_ids":["sha256:aa"]},)"
        R"("history":[{"created_by":"base"}]})"};
  }
  if (norm == "docker.io/library/parent:latest") {
    return frontend::ResolvedImage{norm, "sha256:" + std::string(64, 'c'),
                                   R"({"config":{"OnBuild":["RUN echo triggered > /t"]},)"
                                   R"("rootfs":{"type":"layers","diff_ids":["sha256:cc"]}})"};
  }
  return absl::NotFoundError("image " + norm + " is not in kiln's image store");
}

ConvertOptions Options() {
  ConvertOptions o;
  o.platform = {"linux", "amd64"};
  o.resolve_image = FakeResolve;
  return o;
}

struct Out {
  Converted converted;
  llb_testing::DecodedDefinition graph;
  Json config;
};

Out MustConvert(const std::string& text, ConvertOptions o = Options()) {
  absl::StatusOr<Converted> c = Convert(text, o);
  EXPECT_TRUE(c.ok()) << c.status();
  if (!c.ok()) return {};
  absl::StatusOr<llb_testing::DecodedDefinition> g = llb_testing::MarshalAndDecode(c->state);
  EXPECT_TRUE(g.ok()) << g.status();
  return {*c, g.ok() ? *g : llb_testing::DecodedDefinition{}, Json::parse(c->image_config)};
}

std::vector<const pb::Op*> Execs(const llb_testing::DecodedDefinition& g) {
  std::vector<const pb::Op*> out;
  for (const pb::Op& op : g.ops) {
    if (op.has_exec()) out.push_back(&op);
  }
  return out;
}

std::string Error(const std::string& text, ConvertOptions o = Options()) {
  absl::StatusOr<Converted> c = Convert(text, o);
  EXPECT_FALSE(c.ok());
  return c.ok() ? "" : std::string(c.status().message());
}

TEST(ConvertTest, RunUsesTheShellTheEnvAndTheWorkdirOfTheImage) {
  Out out = MustConvert("FROM busybox\nENV A=1\nRUN echo $A\n");
  auto execs = Execs(out.graph);
  ASSERT_EQ(execs.size(), 1u);
  const pb::Meta& meta = execs[0]->exec().meta();
  EXPECT_EQ(std::vector<std::string>(meta.args().begin(), meta.args().end()),
            (std::vector<std::string>{"/bin/sh", "-c", "echo $A"}));
  EXPECT_EQ(meta.cwd(), "/srv");
  std::vector<std::string> env(meta.env().begin(), meta.env().end());
  EXPECT_EQ(env, (std::vector<std::string>{"PATH=/bin", "HOME=/root", "A=1"}));
  EXPECT_EQ(out.config["config"]["Env"], Json({"PATH=/bin", "HOME=/root", "A=1"}));
  // The base image is pinned by digest.
  bool pinned = false;
  for (const pb::Op& op : out.graph.ops) {
    if (op.has_source() && absl::StrContains(op.source().identifier(), "@sha256:bbbb")) {
      pinned = true;
    }
  }
  EXPECT_TRUE(pinned);
}

TEST(ConvertTest, OnlyTheStagesTheTargetNeedsAreConverted) {
  std::string df =
      "FROM busybox AS a\nRUN echo a > /a\n"
      "FROM missing-image AS broken\nRUN false\n"
      "FROM busybox AS final\nCOPY --from=a /a /a\n";
  Out out = MustConvert(df);  // "missing-image" is never resolved
  EXPECT_EQ(Execs(out.graph).size(), 1u);
  ConvertOptions o = Options();
  o.target = "broken";
  EXPECT_TRUE(absl::StrContains(Error(df, o), "missing-image")) << Error(df, o);
  o.target = "fnial";
  EXPECT_TRUE(absl::StrContains(Error(df, o), "did you mean final?")) << Error(df, o);
}

TEST(ConvertTest, CopyFromAStageByIndexAndAnImage) {
  Out out = MustConvert(
      "FROM scratch\nCOPY a /a\nFROM scratch\nCOPY --from=0 /a /b\nCOPY --from=busybox /bin "
      "/bin\n");
  int copies = 0;
  for (const pb::Op& op : out.graph.ops) {
    if (op.has_file()) copies += op.file().actions_size();
  }
  EXPECT_EQ(copies, 3);
  EXPECT_EQ(out.config["config"]["WorkingDir"], "/");
}

TEST(ConvertTest, ArgsFollowBuildKitScoping) {
  std::string df =
      "ARG V=global\nARG IMG=busybox\nFROM $IMG\nRUN echo $V > /none\n"
      "ARG V\nRUN echo $V > /v\nARG W=w-$V\nRUN echo $W\n";
  Out out = MustConvert(df);
  auto execs = Execs(out.graph);
  ASSERT_EQ(execs.size(), 3u);
  auto env = [&](int i) {
    return std::vector<std::string>(execs[i]->exec().meta().env().begin(),
                                    execs[i]->exec().meta().env().end());
  };
  // Before `ARG V` in the stage, V is not set; after it, the global value.
  for (const std::string& e : env(0)) EXPECT_FALSE(absl::StartsWith(e, "V=")) << e;
  EXPECT_NE(std::find(env(1).begin(), env(1).end(), "V=global"), env(1).end());
  EXPECT_NE(std::find(env(2).begin(), env(2).end(), "W=w-global"), env(2).end());
  // ARGs never reach the image config.
  for (const Json& e : out.config["config"]["Env"]) {
    EXPECT_FALSE(absl::StartsWith(e.get<std::string>(), "V=")) << e;
  }
  ConvertOptions o = Options();
  o.build_args = {{"V", "given"}};
  Out given = MustConvert(df, o);
  auto g = Execs(given.graph);
  ASSERT_EQ(g.size(), 3u);
  std::vector<std::string> e(g[1]->exec().meta().env().begin(), g[1]->exec().meta().env().end());
  EXPECT_NE(std::find(e.begin(), e.end(), "V=given"), e.end());
  // The history says which args a RUN saw, as BuildKit writes it.
  std::string last = given.config["history"].back()["created_by"];
  EXPECT_EQ(last, "RUN |2 V=given W=w-given /bin/sh -c echo $W # buildkit");
}

TEST(ConvertTest, ImageConfigInstructions) {
  Out out = MustConvert(
      "FROM busybox\nLABEL a=1 \"b c\"=\"d e\"\nEXPOSE 80 53/udp 8000-8001\nVOLUME [\"/data\"]\n"
      "USER 1000:1000\nSTOPSIGNAL SIGINT\nENTRYPOINT [\"/bin/app\"]\nCMD run --flag\n"
      "HEALTHCHECK --interval=30s --retries=3 CMD wget -q localhost\nSHELL [\"/bin/ash\", \"-c\"]\n"
      "ONBUILD RUN echo hi\nMAINTAINER me\n");
  const Json& c = out.config["config"];
  EXPECT_EQ(c["Labels"], Json({{"a", "1"}, {"b c", "d e"}}));
  EXPECT_EQ(c["ExposedPorts"], Json({{"80/tcp", Json::object()},
                                     {"53/udp", Json::object()},
                                     {"8000/tcp", Json::object()},
                                     {"8001/tcp", Json::object()}}));
  EXPECT_EQ(c["Volumes"], Json({{"/data", Json::object()}}));
  EXPECT_EQ(c["User"], "1000:1000");
  EXPECT_EQ(c["StopSignal"], "SIGINT");
  EXPECT_EQ(c["Entrypoint"], Json({"/bin/app"}));
  EXPECT_EQ(c["Cmd"], Json({"/bin/sh", "-c", "run --flag"}));
  EXPECT_EQ(c["Healthcheck"], Json({{"Test", {"CMD-SHELL", "wget -q localhost"}},
                                    {"Interval", 30000000000LL},
                                    {"Retries", 3}}));
  EXPECT_EQ(c["Shell"], Json({"/bin/ash", "-c"}));
  EXPECT_EQ(c["OnBuild"], Json({"RUN echo hi"}));
  EXPECT_EQ(out.config["author"], "me");
  // The base's entry, then one per instruction but ONBUILD.
  EXPECT_EQ(out.config["history"].size(), 1u + 10u);
}

TEST(ConvertTest, EntrypointClearsAnInheritedCmd) {
  Out out = MustConvert("FROM busybox AS a\nCMD [\"x\"]\nFROM a\nENTRYPOINT [\"e\"]\n");
  EXPECT_FALSE(out.config["config"].contains("Cmd"));
  Out kept = MustConvert("FROM busybox\nCMD [\"x\"]\nENTRYPOINT [\"e\"]\n");
  EXPECT_EQ(kept.config["config"]["Cmd"], Json({"x"}));
}

TEST(ConvertTest, OnbuildTriggersRunInTheChild) {
  Out out = MustConvert("FROM parent\nRUN echo child\n");
  auto execs = Execs(out.graph);
  ASSERT_EQ(execs.size(), 2u);
  EXPECT_FALSE(out.config["config"].contains("OnBuild"));
  Out stage = MustConvert("FROM busybox AS p\nONBUILD RUN echo t\nFROM p\n");
  EXPECT_EQ(Execs(stage.graph).size(), 1u);
}

TEST(ConvertTest, RunMountsBecomeExecMounts) {
  Out out = MustConvert(
      "FROM busybox AS src\nFROM busybox\n"
      "RUN --mount=type=cache,target=/root/.cache,sharing=locked "
      "--mount=type=tmpfs,target=/tmp,size=64m --mount=type=secret,id=tok "
      "--mount=type=bind,from=src,source=/etc,target=/mnt/etc true\n");
  auto execs = Execs(out.graph);
  ASSERT_EQ(execs.size(), 1u);
  bool cache = false, tmpfs = false, secret = false, bind = false;
  for (const pb::Mount& m : execs[0]->exec().mounts()) {
    if (m.mounttype() == pb::CACHE) {
      cache = m.cacheopt().id() == "//root/.cache" && m.cacheopt().sharing() == pb::LOCKED;
    }
    if (m.mounttype() == pb::TMPFS) tmpfs = m.tmpfsopt().size() == 64 << 20;
    if (m.mounttype() == pb::SECRET) {
      secret =
          m.dest() == "/run/secrets/tok" && m.secretopt().id() == "tok" && m.secretopt().optional();
    }
    if (m.mounttype() == pb::BIND && m.dest() == "/mnt/etc") {
      bind = m.readonly() && m.selector() == "/etc";
    }
  }
  EXPECT_TRUE(cache && tmpfs && secret && bind) << cache << tmpfs << secret << bind;
  EXPECT_EQ(execs[0]->exec().network(), pb::UNSET);
  Out none = MustConvert("FROM busybox\nRUN --network=none true\n");
  EXPECT_EQ(Execs(none.graph)[0]->exec().network(), pb::NONE);
  {
    // force-network-mode: absent and "default" inherit it, as in BuildKit.
    ConvertOptions o = Options();
    o.default_network = pb::NONE;
    Out forced = MustConvert(
        "FROM busybox\nRUN true\nRUN --network=default true\nRUN --network=host true\n", o);
    std::vector<const pb::Op*> e = Execs(forced.graph);
    ASSERT_EQ(e.size(), 3u);
    EXPECT_EQ(e[0]->exec().network(), pb::NONE);
    EXPECT_EQ(e[1]->exec().network(), pb::NONE);
    EXPECT_EQ(e[2]->exec().network(), pb::HOST);
    EXPECT_EQ(Convert("FROM busybox\nRUN --network=bridge true\n", Options()).status().message(),
              "Dockerfile:2: unsupported network mode \"bridge\" (want default, none or host)\n"
              "  2 | RUN --network=bridge true");
  }
}

TEST(ConvertTest, HeredocsInRunAndCopy) {
  Out out = MustConvert(
      "FROM busybox\nRUN <<EOF\necho one\necho two\nEOF\nCOPY <<A <<B /dir/\nalpha\nA\nbeta\nB\n");
  auto execs = Execs(out.graph);
  ASSERT_EQ(execs.size(), 1u);
  EXPECT_EQ(execs[0]->exec().meta().args(2), "echo one\necho two\n");
  std::vector<std::string> files;
  for (const pb::Op& op : out.graph.ops) {
    for (const pb::FileAction& a : op.file().actions()) {
      if (a.has_mkfile()) files.push_back(a.mkfile().path() + ":" + a.mkfile().data());
    }
  }
  EXPECT_EQ(files.size(), 2u);
  Out script = MustConvert("FROM busybox\nRUN <<EOF\n#!/bin/ash\necho hi\nEOF\n");
  EXPECT_EQ(Execs(script.graph)[0]->exec().meta().args(2), "/dev/pipes/EOF");
}

TEST(ConvertTest, WorkdirIsCreatedAndRelativePathsResolve) {
  Out out = MustConvert("FROM busybox\nWORKDIR a\nWORKDIR ../b/c\nCOPY x .\n");
  EXPECT_EQ(out.config["config"]["WorkingDir"], "/srv/b/c");
  std::vector<std::string> dests;
  for (const pb::Op& op : out.graph.ops) {
    for (const pb::FileAction& a : op.file().actions()) {
      if (a.has_mkdir()) dests.push_back(a.mkdir().path());
      if (a.has_copy()) dests.push_back(a.copy().dest());
    }
  }
  EXPECT_EQ(dests, (std::vector<std::string>{"/srv/a", "/srv/b/c", "/srv/b/c/"}));
}

TEST(ConvertTest, ConversionIsDeterministic) {
  std::string df =
      "FROM busybox\nLABEL z=1 a=2 m=3\nENV B=1 A=2\nEXPOSE 9 8 7\nRUN --mount=type=cache,"
      "target=/c true\nCOPY . /app\n";
  ConvertOptions o = Options();
  o.build_args = {{"Z", "1"}, {"A", "2"}};
  absl::StatusOr<Converted> a = Convert(df, o), b = Convert(df, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->image_config, b->image_config);
  auto da = llb::Marshal(a->state), db = llb::Marshal(b->state);
  ASSERT_TRUE(da.ok() && db.ok());
  EXPECT_EQ(*llb::SerializeDeterministic(*da), *llb::SerializeDeterministic(*db));
}

TEST(ConvertTest, ErrorsNameTheFileAndLineAndShowIt) {
  std::string e = Error("FROM busybox\nRUNN echo hi\n");
  EXPECT_TRUE(absl::StartsWith(e, "Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)"))
      << e;
  EXPECT_TRUE(absl::StrContains(e, "2 | RUNN echo hi")) << e;
  EXPECT_TRUE(absl::StartsWith(Error("FROM busybox\nCOPY --form=a x y\n"),
                               "Dockerfile:2: unknown flag: --form (did you mean --from?)"));
  EXPECT_TRUE(
      absl::StrContains(Error("FROM nope\n"), "Dockerfile:1: image docker.io/library/nope"));
  EXPECT_TRUE(absl::StrContains(Error("FROM busybox\nRUN --mount=type=bogus true\n"),
                                "unsupported mount type"));
  EXPECT_TRUE(
      absl::StrContains(Error("FROM busybox\nRUN --security=insecure true\n"), "entitlement"));
  EXPECT_TRUE(
      absl::StrContains(Error("FROM busybox\nCOPY --chmod=9999 a b\n"), "invalid chmod parameter"));
  EXPECT_TRUE(absl::StrContains(Error("ENV A=1\nFROM busybox\n"), "before the first FROM"));
  EXPECT_TRUE(absl::StrContains(
      Error("FROM busybox\nCOPY --from=later a b\nFROM busybox AS later\nCOPY --from=0 a b\n"),
      "Dockerfile:2:"));
  EXPECT_TRUE(absl::StrContains(Error("FROM busybox\nSTOPSIGNAL SIGNOPE\n"), "Invalid signal"));
}

TEST(ConvertTest, ProxyBuildArgsReachRunButNotTheEnvOrImage) {
  ConvertOptions o = Options();
  o.build_args = {{"HTTP_PROXY", "http://proxy:3128"}, {"no_proxy", "localhost"}};
  Out out = MustConvert("FROM busybox\nRUN true\n", o);
  const pb::Meta& meta = Execs(out.graph)[0]->exec().meta();
  EXPECT_EQ(meta.proxy_env().http_proxy(), "http://proxy:3128");
  EXPECT_EQ(meta.proxy_env().no_proxy(), "localhost");
  for (const std::string& e : meta.env()) EXPECT_FALSE(absl::StrContains(e, "proxy")) << e;
  EXPECT_FALSE(absl::StrContains(out.converted.image_config, "proxy"));
}

TEST(ConvertTest, OnlyTheNativePlatform) {
  MustConvert("FROM --platform=$BUILDPLATFORM busybox\nFROM --platform=linux/amd64 busybox\n");
  EXPECT_TRUE(absl::StrContains(Error("FROM --platform=linux/arm64 busybox\n"),
                                "Dockerfile:1: platform linux/arm64: kiln builds for the native "
                                "platform (linux/amd64) only"));
  ConvertOptions o = Options();
  o.target_platform = "linux/s390x";
  EXPECT_TRUE(absl::StrContains(Error("FROM busybox\n", o), "native platform"));
  o.target_platform = "linux/amd64";
  MustConvert("FROM busybox\n", o);
}

TEST(ConvertTest, BaseImageConfigsOfTheWrongShapeAreErrors) {
  for (const char* config :
       {R"({"config":{"WorkingDir":5},"rootfs":{"diff_ids":["sha256:aa"]}})",
        R"({"config":{"Env":"PATH=/bin"},"rootfs":{"diff_ids":["sha256:aa"]}})",
        R"({"config":{"OnBuild":[7]},"rootfs":{"diff_ids":"x"}})", R"({"config":[]})", R"([1,2])",
        R"(not json)"}) {
    ConvertOptions o = Options();
    o.resolve_image = [config](const std::string& ref) -> absl::StatusOr<frontend::ResolvedImage> {
      return frontend::ResolvedImage{ref, "sha256:" + std::string(64, 'd'), config};
    };
    absl::StatusOr<Converted> c =
        Convert("FROM odd\nWORKDIR x\nENV A=1\nUSER u\nCMD x\nRUN true\n", o);
    if (!c.ok()) {
      EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << config << c.status();
    }
  }
}

TEST(ConvertTest, EveryPrefixAndEveryLineDeletionConvertsOrFailsCleanly) {
  std::string df =
      "ARG B=busybox\nFROM $B AS base\nENV A=1 B=\"2 3\"\nWORKDIR /w\nCOPY --chmod=644 a b/\n"
      "RUN --mount=type=cache,target=/c <<EOF\necho $A\nEOF\nFROM base\nCOPY --from=base /w /x\n"
      "HEALTHCHECK --interval=1s CMD true\nEXPOSE 80/udp\nONBUILD RUN x\nUSER 1:2\n";
  std::vector<std::string> lines = absl::StrSplit(df, '\n');
  std::vector<std::string> inputs;
  for (size_t i = 0; i <= df.size(); ++i) inputs.push_back(df.substr(0, i));
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<std::string> rest = lines;
    rest.erase(rest.begin() + i);
    inputs.push_back(absl::StrJoin(rest, "\n"));
  }
  for (const std::string& in : inputs) {
    absl::StatusOr<Converted> c = Convert(in, Options());
    if (c.ok()) {
      EXPECT_TRUE(llb::Marshal(c->state).ok()) << in;
    } else {
      EXPECT_TRUE(absl::StartsWith(c.status().message(), "Dockerfile")) << in << c.status();
    }
  }
}

TEST(ConvertTest, WarningsForWhatBuildKitLints) {
  Out out = MustConvert("FROM busybox AS Build\nCMD echo hi\n");
  ASSERT_EQ(out.converted.warnings.size(), 2u);
  EXPECT_TRUE(absl::StartsWith(out.converted.warnings[0], "Dockerfile:1: StageNameCasing"));
  EXPECT_TRUE(absl::StartsWith(out.converted.warnings[1], "Dockerfile:2: JSONArgsRecommended"));
}

// BuildKit's lint rules beyond the first ones, with its messages.
TEST(ConvertTest, MoreLintRules) {
  auto warnings = [](const std::string& text) {
    Out out = MustConvert(text);
    return absl::StrJoin(out.converted.warnings, "\n");
  };
  EXPECT_EQ(warnings("FROM busybox as base\nRUN true\n"),
            "Dockerfile:1: FromAsCasing: 'as' and 'FROM' keywords' casing do not match");
  EXPECT_EQ(warnings("from busybox AS base\nrun true\n"),
            "Dockerfile:1: FromAsCasing: 'AS' and 'from' keywords' casing do not match");
  EXPECT_EQ(warnings("FROM busybox\nrun true\nRUN true\nCopy a b\n"),
            "Dockerfile:2: ConsistentInstructionCasing: Command 'run' should match the case of "
            "the command majority (uppercase)\n"
            "Dockerfile:4: ConsistentInstructionCasing: Command 'Copy' should match the case of "
            "the command majority (uppercase)");
  EXPECT_EQ(warnings("from busybox\nrun true\nRUN true\n"),
            "Dockerfile:3: ConsistentInstructionCasing: Command 'RUN' should match the case of "
            "the command majority (lowercase)");
  EXPECT_EQ(warnings("FROM busybox AS scratch\nRUN true\n"),
            "Dockerfile:1: ReservedStageName: Stage name should not use the same name as "
            "reserved stage \"scratch\"");
  EXPECT_EQ(warnings("FROM busybox\nMAINTAINER me\n"),
            "Dockerfile:2: MaintainerDeprecated: Maintainer instruction is deprecated in favor "
            "of using label");
  EXPECT_EQ(warnings("FROM busybox\nWORKDIR /x\nWORKDIR y\n"), "");
  EXPECT_EQ(warnings("FROM busybox\nWORKDIR app\nWORKDIR sub\n"),
            "Dockerfile:2: WorkdirRelativePath: Relative workdir \"app\" can have unexpected "
            "results if the base image changes");
  EXPECT_EQ(warnings("FROM busybox\nARG API_TOKEN GPG_KEY_FILE PUBLIC_KEY Keyboard\n"
                     "ENV db_password=x MY_SECRET_VALUE=y AUTH=z\n"),
            "Dockerfile:2: SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for "
            "sensitive data (ARG \"API_TOKEN\")\n"
            "Dockerfile:3: SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for "
            "sensitive data (ENV \"db_password\")\n"
            "Dockerfile:3: SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for "
            "sensitive data (ENV \"MY_SECRET_VALUE\")\n"
            "Dockerfile:3: SecretsUsedInArgOrEnv: Do not use ARG or ENV instructions for "
            "sensitive data (ENV \"AUTH\")");
  {
    Out out = MustConvert("FROM busybox\nEXPOSE 127.0.0.1:8080:80/udp 443\n");
    EXPECT_EQ(absl::StrJoin(out.converted.warnings, "\n"),
              "Dockerfile:2: ExposeInvalidFormat: EXPOSE instruction should not define an IP "
              "address or host-port mapping, found '127.0.0.1:8080:80/udp'");
    EXPECT_EQ(out.config["config"]["ExposedPorts"].dump(), R"({"443/tcp":{},"80/udp":{}})");
  }
  EXPECT_EQ(warnings("FROM busybox\nEXPOSE 80/TCP 443\n"),
            "Dockerfile:2: ExposeProtoCasing: Defined protocol '80/TCP' in EXPOSE instruction "
            "should be lowercase");
  EXPECT_EQ(warnings("ARG VERSION=1\nFROM busybox$VERSOIN\n"),
            "Dockerfile:2: UndefinedArgInFrom: FROM argument 'VERSOIN' is not declared (did you "
            "mean VERSION?)");
  EXPECT_EQ(warnings("ARG TAG\nFROM busybox${TAG:+:}$TAG\n"), "");  // declared, unset
  // InvalidDefaultArgInFrom looks at the defaults alone, whatever the build
  // arguments say.
  {
    ConvertOptions o = Options();
    o.build_args = {{"TAG", "1.36"}, {"BASE", "busybox"}};
    Out out = MustConvert("ARG TAG\nARG BASE\nFROM busybox:${TAG}\nFROM $BASE\n", o);
    EXPECT_EQ(absl::StrJoin(out.converted.warnings, "\n"),
              "Dockerfile:3: InvalidDefaultArgInFrom: Default value for ARG busybox:${TAG} "
              "results in empty or invalid base image name\n"
              "Dockerfile:4: InvalidDefaultArgInFrom: Default value for ARG $BASE results in "
              "empty or invalid base image name");
  }
  EXPECT_EQ(warnings("ARG TAG=1.36\nFROM busybox:${TAG}\nFROM scratch\n"), "");
  {
    // CopyIgnoredFile: sources from the context that .dockerignore drops.
    ConvertOptions o = Options();
    o.context_excludes = {"*.log", "secret/", "!keep.log"};
    Out out = MustConvert(
        "FROM busybox AS other\n"
        "FROM busybox\n"
        "COPY app.log keep.log ./secret/key.pem src/ /dst/\n"
        "ADD build.log /dst/\n"
        "COPY --from=other app.log /x\n",
        o);
    EXPECT_EQ(absl::StrJoin(out.converted.warnings, "\n"),
              "Dockerfile:3: CopyIgnoredFile: Attempting to Copy file \"app.log\" that is "
              "excluded by .dockerignore\n"
              "Dockerfile:3: CopyIgnoredFile: Attempting to Copy file \"secret/key.pem\" that is "
              "excluded by .dockerignore\n"
              "Dockerfile:4: CopyIgnoredFile: Attempting to Add file \"build.log\" that is "
              "excluded by .dockerignore");
  }
  EXPECT_EQ(warnings("FROM --platform=$TARGETPLATFORM busybox\n"),
            "Dockerfile:1: RedundantTargetPlatform: Setting platform to predefined "
            "$TARGETPLATFORM in FROM is redundant as this is the default behavior");
  EXPECT_EQ(warnings("FROM --platform=$BUILDPLATFORM busybox\n"), "");
  std::string native = llb::Platform::Host().ToString();
  EXPECT_EQ(warnings("FROM --platform=" + native + " busybox\n"),
            "Dockerfile:1: FromPlatformFlagConstDisallowed: FROM --platform flag should not use "
            "constant value \"" +
                native + "\"");
  EXPECT_EQ(warnings("FROM --platform=" + native + " busybox AS build-" +
                     llb::Platform::Host().architecture + "\n"),
            "");
  EXPECT_EQ(warnings("FROM busybox\nENV FOO=bar\nENV A=$FOOO\n"),
            "Dockerfile:3: UndefinedVar: Usage of undefined variable '$FOOO' (did you mean "
            "$FOO?)");
  EXPECT_EQ(warnings("FROM busybox\nARG DECLARED\nENV A=$DECLARED\nRUN echo $NOPE\n"), "");
  // A clean file stays quiet.
  EXPECT_EQ(warnings("FROM busybox AS base\nWORKDIR /app\nARG VERSION\nEXPOSE 80/tcp\n"
                     "RUN true\n"),
            "");
}

TEST(ConvertTest, NamedContextsReplaceImagesAndStages) {
  ConvertOptions o = Options();
  o.named_contexts = {{"alpine", "docker-image://busybox"}, {"deps", "local:deps-dir"}};
  Out out = MustConvert("FROM alpine\nCOPY --from=deps / /deps\n", o);
  bool local = false, image = false;
  for (const pb::Op& op : out.graph.ops) {
    if (!op.has_source()) continue;
    local |= op.source().identifier() == "local://deps-dir";
    image |= absl::StartsWith(op.source().identifier(),
                              "docker-image://docker.io/library/busybox:latest@");
  }
  EXPECT_TRUE(local && image) << local << image;
}

TEST(ConvertTest, CheckDirectiveSkipsAndFailsOnLintRules) {
  const std::string body = "FROM busybox AS Build\nCMD echo hi\n";
  Out plain = MustConvert(body);
  EXPECT_EQ(plain.converted.warnings.size(), 2u);  // StageNameCasing, JSONArgsRecommended

  Out skipped = MustConvert("# check=skip=JSONArgsRecommended\n" + body);
  ASSERT_EQ(skipped.converted.warnings.size(), 1u);
  EXPECT_TRUE(absl::StrContains(skipped.converted.warnings[0], "StageNameCasing"));
  EXPECT_TRUE(MustConvert("# check=skip=all\n" + body).converted.warnings.empty());

  std::string err = Error("# check=error=true\n" + body);
  EXPECT_TRUE(absl::StartsWith(err,
                               "Dockerfile:1: lint violation found for rules: "
                               "JSONArgsRecommended, StageNameCasing"))
      << err;
  // Both options at once, and rule names are case-sensitive.
  EXPECT_TRUE(
      Convert("# check=skip=StageNameCasing,JSONArgsRecommended;error=true\n" + body, Options())
          .ok());
  EXPECT_FALSE(
      Convert("# check=skip=stagenamecasing,JSONArgsRecommended;error=true\n" + body, Options())
          .ok());
  // The build arg replaces the directive.
  ConvertOptions o = Options();
  o.build_args["BUILDKIT_DOCKERFILE_CHECK"] = "skip=all";
  absl::StatusOr<Converted> overridden = Convert("# check=error=true\n" + body, o);
  ASSERT_TRUE(overridden.ok()) << overridden.status();
  EXPECT_TRUE(overridden->warnings.empty());
  EXPECT_TRUE(absl::StrContains(Error("# check=bogus=1\n" + body), "unknown option \"bogus\""));
  EXPECT_TRUE(absl::StrContains(Error("# check=error=yes\n" + body), "want true or false"));
}

// The context source follows exactly the paths the build reads, as BuildKit
// sets local.followpaths: COPY/ADD sources and RUN mounts without from=,
// in the stages the target needs.
TEST(ConvertTest, TheContextFollowsThePathsTheBuildReads) {
  auto follow = [](const std::string& text) {
    Out out = MustConvert(text);
    for (const pb::Op& op : out.graph.ops) {
      if (op.has_source() && op.source().identifier() == "local://context") {
        auto it = op.source().attrs().find("local.followpaths");
        return it == op.source().attrs().end() ? std::string("(none)") : it->second;
      }
    }
    return std::string("(no context)");
  };
  EXPECT_EQ(follow("FROM busybox AS unused\n"
                   "COPY never /\n"
                   "FROM busybox\n"
                   "ARG DIR=src\n"
                   "COPY $DIR/a.txt ./b /dst/\n"
                   "COPY --parents x/./y/z /p/\n"
                   "ADD https://example.com/f.tgz /f\n"
                   "COPY <<EOF /doc\nhi\nEOF\n"
                   "RUN --mount=type=bind,source=tools,target=/t true\n"),
            R"(["/b","/src/a.txt","/tools","/x/y/z"])");
  // A cache mount without from= counts as reading the whole context (as in
  // BuildKit): nothing is narrowed then.
  EXPECT_EQ(follow("FROM busybox\nCOPY a /\nRUN --mount=type=cache,target=/c true\n"),
            R"(["/","/a"])");
  EXPECT_EQ(follow("FROM busybox\nCOPY --from=busybox /bin/sh /\n"), "(no context)");
}

// ADD of a git URL: --checksum pins the commit (the engine checks it),
// --keep-git-dir keeps .git.
TEST(ConvertTest, AddGitTakesChecksumAndKeepGitDir) {
  Out out = MustConvert(
      "FROM busybox\n"
      "ADD --checksum=0123abc --keep-git-dir https://example.com/repo.git#main /src\n");
  const pb::SourceOp* git = nullptr;
  for (const pb::Op& op : out.graph.ops) {
    if (op.has_source() && absl::StartsWith(op.source().identifier(), "git://")) {
      git = &op.source();
    }
  }
  ASSERT_NE(git, nullptr);
  EXPECT_EQ(git->identifier(), "git://example.com/repo.git#main");
  EXPECT_EQ(git->attrs().at("git.checksum"), "0123abc");
  EXPECT_EQ(git->attrs().at("git.keepgitdir"), "true");
}

}  // namespace
}  // namespace kiln::dockerfile
