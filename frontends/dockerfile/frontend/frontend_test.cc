#include "frontends/dockerfile/frontend/frontend.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kiln::dockerfile {
namespace {

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
  EXPECT_TRUE(CheckSyntax("example.com/frontend:1", &note).ok());
  EXPECT_TRUE(note.empty());
  EXPECT_TRUE(IsFrontendImage("example.com/frontend:1"));
  EXPECT_TRUE(IsFrontendImage("kiln/dsl-frontend"));
  for (const char* s : {"", "dockerfile.v0", "yaml.v0", "docker/dockerfile:1",
                        "docker.io/docker/dockerfile-upstream:master"}) {
    EXPECT_FALSE(IsFrontendImage(s)) << s;
  }
}

TEST(SyntaxTest, BuiltInNamesForward) {
  for (const char* s : {"yaml.v0", "lua.v0", "dockerfile.v0", "mydsl.v2"}) {
    EXPECT_TRUE(IsBuiltinFrontendName(s)) << s;
  }
  for (const char* s :
       {"", "docker/dockerfile:1", "yaml", "example.com/yaml.v0", "yaml.v0:1", "YAML.v0"}) {
    EXPECT_FALSE(IsBuiltinFrontendName(s)) << s;
  }
}

TEST(SyntaxTest, LuaSyntaxLine) {
  EXPECT_EQ(DetectLuaSyntax("-- syntax=lua.v0\nlocal x = 1\n"), "lua.v0");
  EXPECT_EQ(DetectLuaSyntax("\xEF\xBB\xBF--  syntax = lua.v0 \r\n"), "lua.v0");
  EXPECT_EQ(DetectLuaSyntax("-- syntax=lua.v0"), "lua.v0");
  EXPECT_EQ(DetectLuaSyntax("\n-- syntax=lua.v0\n"), "");  // first line only
  EXPECT_EQ(DetectLuaSyntax("-- a comment\n"), "");
  EXPECT_EQ(DetectLuaSyntax("FROM busybox\n"), "");
}

}  // namespace
}  // namespace kiln::dockerfile
