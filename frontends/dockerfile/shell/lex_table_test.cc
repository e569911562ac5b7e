// Runs BuildKit's own lexer tables (shell/envVarTest, shell/wordsTest) with
// the environment BuildKit's lex_test.go sets up for them.
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "frontends/dockerfile/shell/env.h"
#include "frontends/dockerfile/shell/lex.h"
#include "frontends/dockerfile/shell/testdata.h"
#include "frontends/dockerfile/shell/text.h"
#include "gtest/gtest.h"

namespace kiln::dockerfile::shell {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::optional<std::string> ReadTable(const char* name) {
  auto dir = testing::FindBuildkitTestdata("frontends/dockerfile/shell/lex_table_test.cc");
  if (!dir) return std::nullopt;
  return testing::ReadFileToString(*dir + "/shell/" + name);
}

// Runs the rows of envVarTest tagged for `platform` ('U' or 'W', plus 'A').
int RunEnvVarTable(const std::string& table, char platform, KeyCase key_case) {
  Env env = Env::FromList({"PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="}, key_case);
  Lex lex('\\');
  int rows = 0, line_no = 0;
  for (const std::string& raw : Lines(table)) {
    ++line_no;
    if (!raw.empty() && raw[0] == '#') continue;
    std::string line(TrimSpace(raw));
    if (line.empty()) continue;
    std::vector<std::string> parts = absl::StrSplit(line, '|');
    EXPECT_EQ(parts.size(), 3u) << "line " << line_no;
    if (parts.size() != 3) continue;
    std::string tag(TrimSpace(parts[0])), source(TrimSpace(parts[1]));
    std::string expected(TrimSpace(parts[2]));
    EXPECT_TRUE(tag == "A" || tag == "U" || tag == "W") << "line " << line_no;
    if (tag != "A" && tag[0] != platform) continue;
    ++rows;
    auto got = lex.ProcessWord(source, env);
    if (expected == "error") {
      EXPECT_FALSE(got.ok()) << "line " << line_no << ": " << source << " gave " << *got;
    } else {
      EXPECT_TRUE(got.ok()) << "line " << line_no << ": " << got.status();
      if (got.ok()) {
        EXPECT_EQ(*got, expected) << "line " << line_no << ": " << source;
      }
    }
  }
  return rows;
}

TEST(LexTableTest, EnvVarTableUnix) {
  auto table = ReadTable("envVarTest");
  if (!table) GTEST_SKIP() << "buildkit-testdata not found; set KILN_BUILDKIT_TESTDATA";
  int rows = RunEnvVarTable(*table, 'U', KeyCase::kSensitive);
  EXPECT_GT(rows, 200);
  std::cout << "envVarTest unix rows: " << rows << "\n";
}

TEST(LexTableTest, EnvVarTableWindows) {
  auto table = ReadTable("envVarTest");
  if (!table) GTEST_SKIP() << "buildkit-testdata not found; set KILN_BUILDKIT_TESTDATA";
  int rows = RunEnvVarTable(*table, 'W', KeyCase::kInsensitive);
  EXPECT_GT(rows, 200);
  std::cout << "envVarTest windows rows: " << rows << "\n";
}

TEST(LexTableTest, WordsTable) {
  auto table = ReadTable("wordsTest");
  if (!table) GTEST_SKIP() << "buildkit-testdata not found; set KILN_BUILDKIT_TESTDATA";
  std::vector<std::string> envs;
  Lex lex('\\');
  int rows = 0, line_no = 0;
  for (const std::string& line : Lines(*table)) {
    ++line_no;
    if (!line.empty() && line[0] == '#') continue;
    if (line.rfind("ENV ", 0) == 0) {
      envs.push_back(line.substr(line.find_first_not_of(' ', 3)));
      continue;
    }
    std::vector<std::string> parts = absl::StrSplit(line, '|');
    ASSERT_EQ(parts.size(), 2u) << "line " << line_no;
    std::string source(TrimSpace(parts[0]));
    std::string rhs = parts[1].substr(std::min(parts[1].find_first_not_of(' '), parts[1].size()));
    std::vector<std::string> expected = absl::StrSplit(rhs, ',');
    auto got = lex.ProcessWords(source, Env::FromList(envs));
    std::vector<std::string> words = got.ok() ? *got : std::vector<std::string>{"error"};
    EXPECT_EQ(words, expected) << "line " << line_no << ": " << source;
    ++rows;
  }
  EXPECT_GT(rows, 20);
  std::cout << "wordsTest rows: " << rows << "\n";
}

}  // namespace
}  // namespace kiln::dockerfile::shell
