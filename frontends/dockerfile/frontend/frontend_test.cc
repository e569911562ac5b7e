#include "frontends/dockerfile/frontend/frontend.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kiln::dockerfile {
namespace {

TEST(DockerignoreTest, CleansPatternsAsBuildKitDoes) {
  EXPECT_EQ(ParseDockerignore("# comment\n\n  *.log  \n/abs/path\n!keep.log\n! spaced\n"
                              "a/../b\n./c/\n"),
            (std::vector<std::string>{"*.log", "abs/path", "!keep.log", "!spaced", "b", "c"}));
  EXPECT_TRUE(ParseDockerignore("").empty());
}

TEST(SyntaxTest, BuiltInServesDockerfileImagesAndRefusesOthers) {
  std::string note;
  EXPECT_TRUE(CheckSyntax("", &note).ok());
  EXPECT_TRUE(note.empty());
  EXPECT_TRUE(CheckSyntax("dockerfile.v0", &note).ok());
  for (const char* s : {"docker/dockerfile:1", "docker.io/docker/dockerfile:1.7-labs",
                        "docker/dockerfile@sha256:"
                        "0000000000000000000000000000000000000000000000000000000000000000"}) {
    ASSERT_TRUE(CheckSyntax(s, &note).ok()) << s;
    EXPECT_TRUE(absl::StrContains(note, "built-in dockerfile.v0")) << note;
  }
  absl::Status other = CheckSyntax("example.com/frontend:1", &note);
  EXPECT_EQ(other.code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(absl::StrContains(other.message(), "frontend image")) << other;
  EXPECT_FALSE(CheckSyntax("yaml.v0", &note).ok());
}

}  // namespace
}  // namespace kiln::dockerfile
