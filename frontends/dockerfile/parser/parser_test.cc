// Conformance against BuildKit's own parser tables (testfiles/*/result,
// testfiles-negative, testfile-line), read from ../shared/buildkit-testdata.
#include "frontends/dockerfile/parser/parser.h"

#include <dirent.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "frontends/dockerfile/shell/testdata.h"
#include "gtest/gtest.h"

namespace kiln::dockerfile {
namespace {

using testing::ReadFileToString;

std::optional<std::string> ParserData() {
  auto dir = testing::FindBuildkitTestdata("frontends/dockerfile/parser/parser_test.cc");
  if (!dir) return std::nullopt;
  return *dir + "/parser";
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

TEST(ParserTest, MatchesBuildkitResults) {
  auto data = ParserData();
  if (!data) GTEST_SKIP() << "buildkit-testdata not found; set KILN_BUILDKIT_TESTDATA";
  int passed = 0;
  std::vector<std::string> cases = ListDir(*data + "/testfiles");
  for (const std::string& name : cases) {
    std::string dir = *data + "/testfiles/" + name;
    auto dockerfile = ReadFileToString(dir + "/Dockerfile");
    auto expected = ReadFileToString(dir + "/result");
    ASSERT_TRUE(dockerfile && expected) << name;
    auto result = Parse(*dockerfile);
    ASSERT_TRUE(result.ok()) << name << ": " << result.status();
    EXPECT_EQ(Dump(*result) + "\n", *expected) << name;
    if (Dump(*result) + "\n" == *expected) ++passed;
  }
  std::cout << "testfiles passed: " << passed << "/" << cases.size() << "\n";
  EXPECT_EQ(cases.size(), 33u);
}

TEST(ParserTest, RejectsBuildkitNegativeCases) {
  auto data = ParserData();
  if (!data) GTEST_SKIP() << "buildkit-testdata not found; set KILN_BUILDKIT_TESTDATA";
  std::vector<std::string> cases = ListDir(*data + "/testfiles-negative");
  for (const std::string& name : cases) {
    auto dockerfile = ReadFileToString(*data + "/testfiles-negative/" + name + "/Dockerfile");
    ASSERT_TRUE(dockerfile) << name;
    auto result = Parse(*dockerfile);
    EXPECT_FALSE(result.ok()) << name;
    if (!result.ok()) std::cout << name << ": " << result.status().message() << "\n";
  }
  EXPECT_EQ(cases.size(), 4u);
}

TEST(ParserTest, RecordsLineNumbersLikeBuildkit) {
  auto data = ParserData();
  if (!data) GTEST_SKIP() << "buildkit-testdata not found; set KILN_BUILDKIT_TESTDATA";
  auto dockerfile = ReadFileToString(*data + "/testfile-line/Dockerfile");
  ASSERT_TRUE(dockerfile);
  auto result = Parse(*dockerfile);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->ast.start_line, 5);
  EXPECT_EQ(result->ast.end_line, 31);
  ASSERT_EQ(result->ast.children.size(), 3u);
  const std::vector<std::pair<int, int>> expected = {{5, 5}, {11, 12}, {17, 31}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(result->ast.children[i].start_line, expected[i].first) << i;
    EXPECT_EQ(result->ast.children[i].end_line, expected[i].second) << i;
  }
}

}  // namespace
}  // namespace kiln::dockerfile
