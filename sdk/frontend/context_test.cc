#include "sdk/frontend/context.h"

#include "gtest/gtest.h"
#include "sdk/llb/llb.h"

namespace kiln::frontend {
namespace {

TEST(ParseIgnoreFileTest, CommentsBlankLinesAndCleaning) {
  std::string content =
      "\xEF\xBB\xBF# comment\n"
      "\n"
      "  node_modules  \n"
      "/abs/path/\r\n"
      "! ./keep\n"
      "  # not a comment once indented\n"
      "a/../b\n"
      "./c/\n"
      "!\n";
  std::vector<std::string> want = {
      "node_modules", "abs/path", "!keep", "# not a comment once indented", "b", "c", "!"};
  EXPECT_EQ(ParseIgnoreFile(content), want);
}

TEST(ParseIgnoreFileTest, EmptyContent) { EXPECT_TRUE(ParseIgnoreFile("").empty()); }

TEST(BuildContextTest, FollowsThePathsReadOnceFinished) {
  BuildContext context(std::nullopt, "context", {".git"}, "");
  context.Read("src/a.txt");
  context.Read("/src/a.txt");
  context.Read("tools/");
  auto marshal = [&] {
    // Two uses, one source op.
    absl::StatusOr<pb::Definition> def = llb::Marshal(llb::Merge({
        llb::Scratch().File(llb::Copy(context.State(), "/src", "/a")),
        llb::Scratch().File(llb::Copy(context.State(), "/tools", "/b")),
    }));
    EXPECT_TRUE(def.ok()) << def.status();
    std::vector<pb::SourceOp> sources;
    for (const std::string& bytes : def->def()) {
      pb::Op op;
      if (op.ParseFromString(bytes) && op.has_source()) sources.push_back(op.source());
    }
    return sources;
  };
  std::vector<pb::SourceOp> before = marshal();
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].attrs().count("local.followpaths"), 0u) << "nothing until Finish";
  context.Finish();
  std::vector<pb::SourceOp> after = marshal();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].identifier(), "local://context");
  EXPECT_EQ(after[0].attrs().at("local.followpaths"), R"(["/src/a.txt","/tools"])");
  EXPECT_EQ(after[0].attrs().at("local.excludepatterns"), R"([".git"])");
}

TEST(BuildContextTest, AGivenStateIsUsedAsItIs) {
  llb::State given = llb::Scratch().File(llb::Mkfile("/x", 0644, "x"));
  BuildContext context(given, "context", {}, "");
  context.Read("x");
  context.Finish();
  absl::StatusOr<pb::Definition> a = llb::Marshal(context.State());
  absl::StatusOr<pb::Definition> b = llb::Marshal(given);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->def(a->def_size() - 1), b->def(b->def_size() - 1));
}

}  // namespace
}  // namespace kiln::frontend
