#include "samples/dsl/dsl.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "sdk/frontend/testing.h"
#include "sdk/llb/testing.h"

namespace kb {
namespace {

std::string ParseError(const std::string& text) {
  absl::StatusOr<Program> p = Parse(text, "b.kb");
  EXPECT_FALSE(p.ok()) << text;
  return p.ok() ? "" : std::string(p.status().message());
}

TEST(ParseTest, ErrorsNameTheLine) {
  EXPECT_EQ(ParseError("from busybox\nrnu true\n"),
            "b.kb:2: unknown command \"rnu\" (did you mean \"run\"?)");
  EXPECT_EQ(ParseError("run true\n"),
            "b.kb:1: the first command must be from (an image, or scratch)");
  EXPECT_EQ(ParseError("from a\nfrom b\n"), "b.kb:2: from can only be the first command");
  EXPECT_EQ(ParseError("from a\nparallel {\n  run x\n"), "b.kb:2: parallel { is never closed");
  EXPECT_EQ(ParseError("from a\nparallel {\n  copy a b\n}\n"),
            "b.kb:3: only run commands go inside parallel { ... }");
  EXPECT_EQ(ParseError("from a\n}\n"), "b.kb:2: \"}\" without an open parallel {");
  EXPECT_EQ(ParseError("from a\nparallel {\n}\n"), "b.kb:2: parallel { } is empty");
  EXPECT_EQ(ParseError("from a\nenv NOEQUALS\n"), "b.kb:2: env takes NAME=VALUE");
  EXPECT_EQ(ParseError("from a\ncopy one\n"), "b.kb:2: copy takes SOURCE DEST");
  EXPECT_EQ(ParseError("# only a comment\n"), "b.kb:1: the file has no commands (start with from)");
  EXPECT_EQ(ParseError("from a\nworkdir\n"), "b.kb:2: workdir needs an argument");
}

TEST(BuildTest, TheExampleBecomesParallelRunsAndCopies) {
  kiln::frontend::FakeBridge bridge;
  bridge.AddBusybox();
  bridge.locals["dockerfile"]["build.kb"] =
      "from busybox\nworkdir /app\nenv G=hi\ncopy src/ /app/src/\nrun echo $G > g\n"
      "parallel {\n  run sh src/build.sh one\n  run sh src/build.sh two\n}\n"
      "cmd cat /app/g\noutput /app\n";
  absl::StatusOr<kiln::frontend::Result> r = Build(bridge);
  ASSERT_TRUE(r.ok()) << r.status();
  absl::StatusOr<kiln::llb_testing::DecodedDefinition> g = kiln::llb_testing::Decode(r->definition);
  ASSERT_TRUE(g.ok());
  int runs = 0, copies = 0;
  for (const pb::Op& op : g->ops) {
    if (op.has_exec()) ++runs;
    if (op.has_file() && op.file().actions(0).has_copy()) ++copies;
  }
  EXPECT_EQ(runs, 3);    // the run and two branches
  EXPECT_EQ(copies, 4);  // the context copy, two collections, the output
  // The two branches depend only on the state before them: they run side by side.
  const pb::Op& out = g->Target();
  ASSERT_TRUE(out.has_file());
  nlohmann::json config = nlohmann::json::parse(r->metadata.at(kiln::frontend::kImageConfigKey));
  EXPECT_EQ(config["config"]["Cmd"], nlohmann::json({"cat", "/app/g"}));
  EXPECT_EQ(config["config"]["WorkingDir"], "/app");
  // A line with a mistake fails the build before anything is solved.
  bridge.locals["dockerfile"]["build.kb"] = "from busybox\nrun\n";
  r = Build(bridge);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "build.kb:2: run needs an argument");
}

}  // namespace
}  // namespace kb
