#include "sdk/llb/merge_diff.h"

#include "gtest/gtest.h"
#include "sdk/llb/llb.h"
#include "sdk/llb/testing.h"

namespace kiln::llb {
namespace {

using llb_testing::DecodedDefinition;

DecodedDefinition MustDecode(const State& s) {
  absl::StatusOr<DecodedDefinition> g = llb_testing::MarshalAndDecode(s);
  EXPECT_TRUE(g.ok()) << g.status();
  return g.ok() ? *g : DecodedDefinition{};
}

State File(const char* path) { return Scratch().File(Mkfile(path, 0644, path)); }

TEST(MergeTest, EachLayerIsAnInputInOrder) {
  State a = File("/a"), b = File("/b");
  DecodedDefinition g = MustDecode(Merge({a, b, a}));
  const pb::Op& op = g.Target();
  ASSERT_TRUE(op.has_merge());
  ASSERT_EQ(op.inputs_size(), 3);
  ASSERT_EQ(op.merge().inputs_size(), 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(op.merge().inputs(i).input(), i);
  EXPECT_EQ(op.inputs(0).digest(), op.inputs(2).digest());
  EXPECT_EQ(g.InputOp(op, 1).file().actions(0).mkfile().path(), "/b");
  EXPECT_FALSE(op.has_platform());
  EXPECT_TRUE(g.Metadata(g.digests[g.ops.size() - 2]).caps().at("mergeop"));
  EXPECT_EQ(g.ops.size(), 4u);  // a, b, merge, terminal
}

TEST(MergeTest, ScratchLayersAreDropped) {
  State a = File("/a").AddEnv("FROM", "a");
  EXPECT_TRUE(Merge({}).IsScratch());
  EXPECT_TRUE(Merge({Scratch(), Scratch()}).IsScratch());
  State one = Merge({Scratch(), a});
  EXPECT_EQ(one.Env(), a.Env());
  EXPECT_EQ(MustDecode(one).Target().file().actions(0).mkfile().path(), "/a");
  EXPECT_EQ(MustDecode(Merge({a, Scratch(), File("/b")})).Target().inputs_size(), 2);
  EXPECT_EQ(Merge({a, File("/b")}).Env(), a.Env());
}

TEST(DiffTest, LowerThenUpper) {
  State lower = File("/base");
  State upper = lower.File(Mkfile("/new", 0644, "n"));
  DecodedDefinition g = MustDecode(Diff(lower, upper));
  const pb::Op& op = g.Target();
  ASSERT_TRUE(op.has_diff());
  EXPECT_EQ(op.diff().lower().input(), 0);
  EXPECT_EQ(op.diff().upper().input(), 1);
  EXPECT_EQ(op.inputs_size(), 2);
  EXPECT_FALSE(op.has_platform());
}

TEST(DiffTest, ScratchSidesFollowGo) {
  State s = File("/x");
  EXPECT_TRUE(Diff(Scratch(), Scratch()).IsScratch());
  EXPECT_EQ(MustDecode(Diff(Scratch(), s)).Target().file().actions(0).mkfile().path(), "/x");
  DecodedDefinition g = MustDecode(Diff(s, Scratch()));
  const pb::Op& op = g.Target();
  EXPECT_EQ(op.inputs_size(), 1);
  EXPECT_EQ(op.diff().lower().input(), 0);
  EXPECT_EQ(op.diff().upper().input(), -1);
}

}  // namespace
}  // namespace kiln::llb
