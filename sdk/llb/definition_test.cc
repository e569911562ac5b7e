#include "sdk/llb/definition.h"

#include "gtest/gtest.h"
#include "sdk/base/digest.h"
#include "sdk/llb/llb.h"
#include "sdk/llb/testing.h"

namespace kiln::llb {
namespace {

State Sample() {
  OpOptions named;
  named.custom_name = "make the file";
  State base = Image("busybox").Dir("/src");
  RunOptions run;
  run.shlex = "echo hi > /out";
  State built = base.Run(run).Root();
  State file = Scratch().File(Mkfile("/a", 0644, "a"), named);
  return Merge({built, file});
}

TEST(FromDefinitionTest, RemarshalingGivesTheSameDefinition) {
  absl::StatusOr<pb::Definition> def = Marshal(Sample());
  ASSERT_TRUE(def.ok()) << def.status();
  absl::StatusOr<pb::Definition> again = Marshal(FromDefinition(*def));
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->def_size(), def->def_size());
  for (int i = 0; i < def->def_size(); ++i) EXPECT_EQ(again->def(i), def->def(i)) << i;
  for (const auto& [digest, md] : def->metadata()) {
    ASSERT_EQ(again->metadata().count(digest), 1u) << digest;
    EXPECT_EQ(again->metadata().at(digest).description().size(), md.description().size());
    EXPECT_EQ(again->metadata().at(digest).caps().size(), md.caps().size()) << digest;
  }
}

TEST(FromDefinitionTest, NewOpsBuildOnTheResult) {
  absl::StatusOr<pb::Definition> def = Marshal(Sample());
  ASSERT_TRUE(def.ok());
  State on = FromDefinition(*def).File(Mkdir("/x", 0755));
  absl::StatusOr<llb_testing::DecodedDefinition> g = llb_testing::MarshalAndDecode(on);
  ASSERT_TRUE(g.ok()) << g.status();
  const pb::Op& target = g->Target();
  ASSERT_TRUE(target.has_file());
  EXPECT_TRUE(g->InputOp(target, 0).has_merge());
  // The merge and everything under it, the mkdir and the terminal.
  EXPECT_EQ(g->ops.size(), static_cast<size_t>(def->def_size()) + 1);
}

TEST(FromDefinitionTest, EmptyIsScratch) {
  EXPECT_TRUE(FromDefinition(pb::Definition()).IsScratch());
}

TEST(FromDefinitionTest, MalformedDefinitionsFailToMarshal) {
  pb::Definition garbage;
  garbage.add_def("\xff\xff\xff");
  absl::StatusOr<pb::Definition> m = Marshal(FromDefinition(garbage));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("does not parse"), std::string::npos) << m.status();

  // A terminal naming an op that is not there.
  pb::Op terminal;
  terminal.add_inputs()->set_digest("sha256:0000");
  pb::Definition dangling;
  dangling.add_def(terminal.SerializeAsString());
  m = Marshal(FromDefinition(dangling));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("not in it"), std::string::npos) << m.status();

  // No terminal: the last op has a body.
  absl::StatusOr<pb::Definition> def = Marshal(Sample());
  ASSERT_TRUE(def.ok());
  def->mutable_def()->RemoveLast();
  m = Marshal(FromDefinition(*def));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("terminal"), std::string::npos) << m.status();
}

TEST(FromDefinitionTest, AnInputMissingDeeperIsReported) {
  pb::Op a;
  a.mutable_file();
  a.add_inputs()->set_digest("sha256:gone");
  std::string a_bytes = a.SerializeAsString();
  pb::Op terminal;
  terminal.add_inputs()->set_digest(DigestOf(a_bytes));
  pb::Definition def;
  def.add_def(a_bytes);
  def.add_def(terminal.SerializeAsString());
  absl::StatusOr<pb::Definition> m = Marshal(FromDefinition(def));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("sha256:gone"), std::string::npos) << m.status();
}

}  // namespace
}  // namespace kiln::llb
