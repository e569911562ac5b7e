// Heredoc extraction cases, with expectations taken from BuildKit's
// behaviour (name, content, expand, chomp, file descriptor).
#include <string>
#include <vector>

#include "frontends/dockerfile/parser/parser.h"
#include "gtest/gtest.h"

namespace kiln::dockerfile {
namespace {

struct Case {
  std::string text;  // one instruction plus its heredoc bodies
  std::vector<Heredoc> want;
};

Heredoc Doc(std::string name, std::string content, bool expand = true, bool chomp = false,
            uint64_t fd = 0) {
  return Heredoc{std::move(name), fd, expand, chomp, std::move(content)};
}

std::vector<Case> Cases() {
  return {
      {"USER <<INVALID\n", {}},
      {"INVALID\n", {}},
      {"RUN <<EMPTY\nEMPTY\n", {Doc("EMPTY", "")}},
      {"RUN 3<<EMPTY2\nEMPTY2\n", {Doc("EMPTY2", "", true, false, 3)}},
      {"RUN \"<<NOHEREDOC\"\n", {}},
      {"RUN <<INDENT\n\tfoo\n\tbar\nINDENT\n", {Doc("INDENT", "\tfoo\n\tbar\n")}},
      {"RUN <<-UNINDENT\n\tbaz\n\tquux\nUNINDENT\n",
       {Doc("UNINDENT", "\tbaz\n\tquux\n", true, true)}},
      {"RUN <<-U2\n\tbaz\n\tU2\n", {Doc("U2", "\tbaz\n", true, true)}},
      {"RUN <<-'NOEXPAND'\n\tdon't $NAME\nNOEXPAND\n",
       {Doc("NOEXPAND", "\tdon't $NAME\n", false, true)}},
      {"RUN <<C\n# internal comment\necho x # trailing\nC\n",
       {Doc("C", "# internal comment\necho x # trailing\n")}},
      {"RUN --mount=type=cache,target=/foo <<MOUNT\necho hello\nMOUNT\n",
       {Doc("MOUNT", "echo hello\n")}},
      {"COPY <<FILE1 <<FILE2 /dest\ncontent 1\nFILE1\ncontent 2\nFILE2\n",
       {Doc("FILE1", "content 1\n"), Doc("FILE2", "content 2\n")}},
      {"COPY <<X <<Y /dest\nY\nX\nX\nY\n", {Doc("X", "Y\n"), Doc("Y", "X\n")}},
      {"RUN <<COMPLEX python3\nprint('hi')\nCOMPLEX\n", {Doc("COMPLEX", "print('hi')\n")}},
      {"COPY <<file.txt /dest\nhello\nfile.txt\n", {Doc("file.txt", "hello\n")}},
      {"RUN <<eo'f'\necho foo\neof\n", {Doc("eof", "echo foo\n", false)}},
      {"RUN <<eo\\'f\necho foo\neo'f\n", {Doc("eo'f", "echo foo\n")}},
      {"RUN <<'e'o\\'f\necho foo\neo'f\n", {Doc("eo'f", "echo foo\n", false)}},
      {"RUN <<'one two'\necho bar\none two\n", {Doc("one two", "echo bar\n", false)}},
      {"RUN <<$EOF\n$EOF\n", {Doc("$EOF", "")}},
      {"RUN <<  EOF\nEOF\n", {Doc("EOF", "")}},
      {"RUN <<  EOF  > foo\nEOF\n", {Doc("EOF", "")}},
      {"RUN [\"<<EOF\"]\n", {}},
      {"RUN crlf <<E\r\nx\r\nE\r\n", {Doc("E", "x\r\n")}},
  };
}

TEST(HeredocTest, ExtractsLikeBuildkit) {
  std::string text = "FROM a\n";
  std::vector<Case> cases = Cases();
  for (const Case& c : cases) text += c.text;
  auto result = Parse(text);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->ast.children.size(), cases.size() + 1);
  for (size_t i = 0; i < cases.size(); ++i) {
    const std::vector<Heredoc>& got = result->ast.children[i + 1].heredocs;
    ASSERT_EQ(got.size(), cases[i].want.size()) << cases[i].text;
    for (size_t j = 0; j < got.size(); ++j) {
      const Heredoc& want = cases[i].want[j];
      EXPECT_EQ(got[j].name, want.name) << cases[i].text;
      EXPECT_EQ(got[j].content, want.content) << cases[i].text;
      EXPECT_EQ(got[j].expand, want.expand) << cases[i].text;
      EXPECT_EQ(got[j].chomp, want.chomp) << cases[i].text;
      EXPECT_EQ(got[j].file_descriptor, want.file_descriptor) << cases[i].text;
    }
  }
}

}  // namespace
}  // namespace kiln::dockerfile
