// Whole-graph marshaling: order, deduplication, the terminal op, metadata,
// source maps, errors and determinism.
#include "sdk/llb/marshal.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sdk/base/digest.h"
#include "sdk/llb/llb.h"
#include "sdk/llb/testing.h"

namespace kiln::llb {
namespace {

using llb_testing::DecodedDefinition;

DecodedDefinition MustDecode(const State& s, const MarshalOptions& o = {}) {
  absl::StatusOr<DecodedDefinition> g = llb_testing::MarshalAndDecode(s, o);
  EXPECT_TRUE(g.ok()) << g.status();
  return g.ok() ? *g : DecodedDefinition{};
}

std::string Bytes(const State& s, const MarshalOptions& o = {}) {
  absl::StatusOr<pb::Definition> def = Marshal(s, o);
  EXPECT_TRUE(def.ok()) << def.status();
  if (!def.ok()) return "";
  absl::StatusOr<std::string> bytes = SerializeDeterministic(*def);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.value_or("");
}

TEST(MarshalTest, DependenciesComeFirstAndTerminalLast) {
  State img = Image("busybox");
  State out = img.File(Mkdir("/x", 0755));
  DecodedDefinition g = MustDecode(out);
  ASSERT_EQ(g.ops.size(), 3u);
  EXPECT_TRUE(g.ops[0].has_source());
  EXPECT_TRUE(g.ops[1].has_file());
  const pb::Op& terminal = g.Terminal();
  EXPECT_EQ(terminal.op_case(), pb::Op::OP_NOT_SET);
  ASSERT_EQ(terminal.inputs_size(), 1);
  EXPECT_EQ(terminal.inputs(0).digest(), g.digests[1]);
  EXPECT_FALSE(terminal.has_platform());
  EXPECT_FALSE(terminal.has_constraints());
  EXPECT_EQ(g.ops[1].inputs(0).digest(), g.digests[0]);
}

TEST(MarshalTest, IdenticalOpsAppearOnce) {
  State a = Image("busybox").File(Mkdir("/d", 0755));
  State b = Image("busybox").File(Mkdir("/d", 0755));  // built separately
  DecodedDefinition g = MustDecode(Merge({a, b, Image("docker.io/library/busybox:latest")}));
  // busybox, mkdir, merge, terminal
  ASSERT_EQ(g.ops.size(), 4u);
  EXPECT_EQ(g.Target().inputs(0).digest(), g.Target().inputs(1).digest());
  EXPECT_EQ(g.definition.metadata_size(), 4);
}

TEST(MarshalTest, DigestIsSha256OfTheOpBytes) {
  absl::StatusOr<pb::Definition> def = Marshal(Image("busybox"));
  ASSERT_TRUE(def.ok());
  for (const std::string& op : def->def()) {
    EXPECT_EQ(def->metadata().count(DigestOf(op)), 1u);
  }
}

TEST(MarshalTest, MetadataCarriesNamesCachePolicyAndCaps) {
  OpOptions named;
  named.custom_name = "make dir";
  named.ignore_cache = true;
  named.description = {{"com.example.step", "1"}};
  named.progress_group = ProgressGroup{"pg", "Group", true};
  named.export_cache = false;
  named.caps = {"custom.cap"};
  DecodedDefinition g = MustDecode(Scratch().File(Mkdir("/x", 0755), named));
  const pb::OpMetadata& md = g.Metadata(g.digests[0]);
  EXPECT_TRUE(md.ignore_cache());
  EXPECT_EQ(md.description().at("llb.customname"), "make dir");
  EXPECT_EQ(md.description().at("com.example.step"), "1");
  EXPECT_EQ(md.progress_group().id(), "pg");
  EXPECT_TRUE(md.progress_group().weak());
  EXPECT_TRUE(md.has_export_cache());
  EXPECT_FALSE(md.export_cache().value());
  EXPECT_TRUE(md.caps().at("custom.cap"));
  const pb::OpMetadata& term = g.Metadata(g.digests[1]);
  for (const char* cap :
       {"constraints", "platform", "meta.ignorecache", "meta.description", "meta.exportcache"}) {
    EXPECT_TRUE(term.caps().count(cap)) << cap;
  }
}

TEST(MarshalTest, PlainGraphDeclaresOnlyBaseTerminalCaps) {
  DecodedDefinition g = MustDecode(Scratch().File(Mkdir("/x", 0755)));
  const auto& caps = g.Metadata(g.digests[1]).caps();
  EXPECT_EQ(caps.size(), 2u);
  EXPECT_TRUE(caps.count("constraints") && caps.count("platform"));
}

TEST(MarshalTest, WorkerConstraintsArePartOfTheOp) {
  OpOptions o;
  o.worker_constraints = {"labels.gpu==true"};
  ImageOptions io;
  io.op = o;
  DecodedDefinition g = MustDecode(Image("busybox", io));
  ASSERT_EQ(g.ops[0].constraints().filter_size(), 1);
  EXPECT_NE(g.digests[0], MustDecode(Image("busybox")).digests[0]);
}

TEST(MarshalTest, PlatformDefaultsToHostAndCanBeOverridden) {
  EXPECT_EQ(MustDecode(Image("busybox")).ops[0].platform().architecture(),
            Platform::Host().architecture);
  MarshalOptions o;
  o.platform = Platform{"linux", "s390x"};
  EXPECT_EQ(MustDecode(Image("busybox"), o).ops[0].platform().architecture(), "s390x");
  RunOptions run;
  run.args = {"true"};
  State arm = Image("busybox").WithPlatform({"linux", "arm64"});
  EXPECT_EQ(MustDecode(arm.Run(run).Root(), o).Target().platform().architecture(), "arm64");
}

TEST(MarshalTest, SourceLocationsFillDefinitionSource) {
  auto file = std::make_shared<SourceMap>();
  file->filename = "Buildfile";
  file->language = "Dockerfile";
  file->data = "FROM x\nRUN y\n";
  auto same_file = std::make_shared<SourceMap>(*file);
  OpOptions at1, at2;
  at1.source_locations.push_back({file, {SourceRange(1, 0, 1, 6)}});
  at2.source_locations.push_back({same_file, {SourceRange(2, 0, 2, 5)}});
  State a = Scratch().File(Mkdir("/a", 0755), at1);
  State b = a.File(Mkdir("/b", 0755), at2);
  DecodedDefinition g = MustDecode(b);
  const pb::Source& src = g.definition.source();
  ASSERT_EQ(src.infos_size(), 1);
  EXPECT_EQ(src.infos(0).filename(), "Buildfile");
  EXPECT_EQ(src.infos(0).data(), file->data);
  ASSERT_EQ(src.locations().size(), 2u);
  const pb::Locations& la = src.locations().at(g.digests[0]);
  ASSERT_EQ(la.locations_size(), 1);
  EXPECT_EQ(la.locations(0).sourceindex(), 0);
  EXPECT_EQ(la.locations(0).ranges(0).start().line(), 1);
  EXPECT_EQ(src.locations().at(g.digests[1]).locations(0).ranges(0).end().character(), 5);
}

TEST(MarshalTest, FirstErrorInDependencyOrderIsReported) {
  RunOptions no_args;
  State broken = Image("").Run(no_args).Root();
  absl::Status st = Marshal(broken).status();
  ASSERT_TRUE(absl::IsInvalidArgument(st)) << st;
  EXPECT_NE(st.message().find("Image"), absl::string_view::npos) << st;
}

TEST(MarshalTest, SameGraphGivesSameBytes) {
  const auto build = [](bool reversed) {
    OpOptions o;
    std::vector<std::pair<std::string, std::string>> kv = {{"z", "1"}, {"a", "2"}, {"m", "3"}};
    if (reversed) std::reverse(kv.begin(), kv.end());
    for (const auto& [k, v] : kv) o.description[k] = v;
    LocalOptions lo;
    lo.exclude_patterns = {".git"};
    State ctx = Local("ctx", lo);
    RunOptions run;
    run.shlex = "make all";
    run.mounts.push_back({"/src", ctx});
    run.op = o;
    State built = Image("gcc").Run(run).GetMount("/src");
    return Merge({built.File(Mkfile("/stamp", 0644, "x")), ctx.File(Rm("/tmp"))});
  };
  std::string first = Bytes(build(false));
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, Bytes(build(false)));
  EXPECT_EQ(first, Bytes(build(true)));
}

TEST(MarshalTest, DeepChainsDoNotExhaustTheStack) {
  State s = Scratch();
  for (int i = 0; i < 100000; ++i) s = s.File(Rm("/d" + std::to_string(i)));
  absl::StatusOr<pb::Definition> def = Marshal(s);
  ASSERT_TRUE(def.ok()) << def.status();
  EXPECT_EQ(def->def_size(), 100001);
  s = State();  // frees the chain
}

}  // namespace
}  // namespace kiln::llb
