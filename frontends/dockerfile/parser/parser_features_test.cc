// Feature-by-feature tests of the parser with inline Dockerfiles.
#include <string>

#include "frontends/dockerfile/parser/parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::dockerfile {
namespace {

using ::testing::HasSubstr;

Result MustParse(const std::string& text) {
  auto result = Parse(text);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : Result{};
}

std::string DumpOf(const std::string& text) { return Dump(MustParse(text)); }

std::string ErrorOf(const std::string& text) {
  auto result = Parse(text);
  EXPECT_FALSE(result.ok());
  return result.ok() ? "" : std::string(result.status().message());
}

TEST(ParserDirectivesTest, RecordsLeadingDirectives) {
  Result r = MustParse("# syntax=docker/dockerfile:1\n#check = skip=all\nFROM a\n");
  ASSERT_EQ(r.directives.size(), 2u);
  EXPECT_EQ(r.directives[0].name, "syntax");
  EXPECT_EQ(r.directives[0].value, "docker/dockerfile:1");
  EXPECT_EQ(r.directives[0].line, 1);
  EXPECT_EQ(r.directives[1].name, "check");
  EXPECT_EQ(r.directives[1].value, "skip=all");
}

TEST(ParserDirectivesTest, IgnoresDirectivesAfterOtherLines) {
  Result r = MustParse("FROM a\n# escape=`\nRUN x \\\n y\n");
  EXPECT_TRUE(r.directives.empty());
  EXPECT_EQ(r.escape_token, '\\');
  EXPECT_EQ(Dump(r), "(from \"a\")\n(run \"x  y\")");
  EXPECT_TRUE(MustParse("# hello\n# escape=`\nFROM a\n").directives.empty());
  EXPECT_TRUE(MustParse("\n# escape=`\nFROM a\n").directives.empty());
}

TEST(ParserDirectivesTest, BacktickEscapeContinuesLines) {
  Result r = MustParse("# escape=`\nFROM a\nRUN dir c:\\ `\n  && echo hi\n");
  EXPECT_EQ(r.escape_token, '`');
  EXPECT_EQ(Dump(r), "(from \"a\")\n(run \"dir c:\\\\   && echo hi\")");
}

TEST(ParserDirectivesTest, RejectsInvalidEscape) {
  EXPECT_THAT(ErrorOf("# escape=x\nFROM a\n"),
              HasSubstr("Dockerfile:1: invalid escape token 'x' does not match ` or \\"));
}

TEST(ParserDirectivesTest, RejectsRepeatedDirective) {
  EXPECT_THAT(ErrorOf("# syntax=a\n# syntax=b\nFROM a\n"),
              HasSubstr("Dockerfile:2: only one syntax parser directive can be used"));
}

TEST(ParserLinesTest, SkipsCommentsInsideContinuations) {
  Result r = MustParse("FROM a\nRUN a \\\n# note\n  b\n");
  EXPECT_EQ(Dump(r), "(from \"a\")\n(run \"a   b\")");
  EXPECT_TRUE(r.warnings.empty());
}

TEST(ParserLinesTest, WarnsOnEmptyContinuationLine) {
  Result r = MustParse("FROM a\nRUN a \\\n\n  b\n");
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_THAT(r.warnings[0].short_text, HasSubstr("Empty continuation line found in: RUN a   b"));
  EXPECT_EQ(r.ast.children[1].start_line, 2);
  EXPECT_EQ(r.ast.children[1].end_line, 4);
}

TEST(ParserLinesTest, StripsByteOrderMark) {
  EXPECT_EQ(DumpOf("\xEF\xBB\xBF"
                   "FROM a\n"),
            "(from \"a\")");
}

TEST(ParserLinesTest, KeepsOriginalLineAndComments) {
  Result r = MustParse("# base image\nFROM  a AS b\n");
  ASSERT_EQ(r.ast.children.size(), 1u);
  EXPECT_EQ(r.ast.children[0].original, "FROM  a AS b");
  EXPECT_EQ(r.ast.children[0].prev_comment, std::vector<std::string>{"base image"});
}

TEST(ParserLinesTest, RejectsOverlongLine) {
  EXPECT_THAT(ErrorOf("FROM a\nLABEL a=" + std::string(70000, 'x') + "\n"),
              HasSubstr("dockerfile line greater than max allowed size of 65535"));
}

TEST(ParserLinesTest, RejectsFileWithoutInstructions) {
  EXPECT_THAT(ErrorOf("# only\n\n"), HasSubstr("file with no instructions"));
}

TEST(ParserArgsTest, DistinguishesExecAndShellForm) {
  Result r = MustParse("FROM a\nRUN [\"echo\", \"hi\"]\nCMD echo hi\nENTRYPOINT [\"a\" oops\n");
  const auto& c = r.ast.children;
  EXPECT_TRUE(c[1].attributes.count("json"));
  EXPECT_FALSE(c[2].attributes.count("json"));
  EXPECT_EQ(Dump(r),
            "(from \"a\")\n(run \"echo\" \"hi\")\n(cmd \"echo hi\")\n(entrypoint \"[\\\"a\\\" "
            "oops\")");
}

TEST(ParserArgsTest, RejectsJsonWithNonStrings) {
  EXPECT_THAT(ErrorOf("FROM a\nCMD [\"a\", 1]\n"),
              HasSubstr("Dockerfile:2: when using JSON array syntax, arrays must be comprised"));
}

TEST(ParserArgsTest, HandlesDeepJsonNesting) {
  std::string deep = "CMD [\"a\", " + std::string(500, '[') + std::string(500, ']') + "]\n";
  EXPECT_THAT(ErrorOf(deep), HasSubstr("must be comprised of strings only"));
  // Past Go's depth limit the text is not JSON, so it is the shell form.
  std::string deeper = "CMD " + std::string(20000, '[') + std::string(20000, ']') + "\n";
  EXPECT_EQ(MustParse(deeper).ast.children[0].next.size(), 1u);
  EXPECT_THAT(ErrorOf("CMD [\"a\", {\"k\": [1, true, null, -0.5e3]}]\n"),
              HasSubstr("strings only"));
  EXPECT_EQ(DumpOf("CMD [\"a\", {\"k\" 1}]\n"), "(cmd \"[\\\"a\\\", {\\\"k\\\" 1}]\")");
}

TEST(ParserArgsTest, DecodesJsonEscapes) {
  EXPECT_EQ(DumpOf("FROM a\nCMD [\"\\u00e9\\n\", \"\\ud83d\\ude00\"]\n"),
            "(from \"a\")\n(cmd \"é\\n\" \"\xF0\x9F\x98\x80\")");
}

TEST(ParserArgsTest, SplitsEnvAndLabelPairs) {
  EXPECT_EQ(DumpOf("ENV a b c\nENV x=1 y=\"2 3\"\nLABEL k=v\n"),
            "(env \"a\" \"b c\" \"\")\n(env \"x\" \"1\" \"=\" \"y\" \"\\\"2 3\\\"\" \"=\")\n"
            "(label \"k\" \"v\" \"=\")");
  EXPECT_THAT(ErrorOf("FROM a\nENV a=1 b\n"),
              HasSubstr("Dockerfile:2: Syntax error - can't find = in \"b\""));
  EXPECT_THAT(ErrorOf("FROM a\nLABEL a\n"), HasSubstr("LABEL must have two arguments"));
}

TEST(ParserArgsTest, KeepsArgWords) {
  EXPECT_EQ(DumpOf("ARG a b=2 c=\"x y\"\n"), "(arg \"a\" \"b=2\" \"c=\\\"x y\\\"\")");
}

TEST(ParserArgsTest, ExtractsFlags) {
  Result r = MustParse("COPY --from=build --chmod=755 a b\nCOPY --x=\"1 2\" -- --c d\n");
  EXPECT_EQ(r.ast.children[0].flags, (std::vector<std::string>{"--from=build", "--chmod=755"}));
  EXPECT_EQ(Dump(r),
            "(copy [\"--from=build\" \"--chmod=755\"] \"a\" \"b\")\n"
            "(copy [\"--x=1 2\"] \"--c\" \"d\")");
}

TEST(ParserArgsTest, ParsesHealthcheck) {
  EXPECT_EQ(DumpOf("HEALTHCHECK NONE\nHEALTHCHECK --interval=1s CMD [\"a\"]\n"),
            "(healthcheck \"NONE\")\n(healthcheck [\"--interval=1s\"] \"CMD\" \"a\")");
}

TEST(ParserArgsTest, NestsOnbuild) {
  Result r = MustParse("ONBUILD ADD --chown=1 a b\nONBUILD\n");
  ASSERT_EQ(r.ast.children[0].next.size(), 1u);
  ASSERT_EQ(r.ast.children[0].next[0].children.size(), 1u);
  EXPECT_EQ(r.ast.children[0].next[0].children[0].value, "ADD");
  EXPECT_EQ(Dump(r), "(onbuild (add [\"--chown=1\"] \"a\" \"b\"))\n(onbuild)");
}

TEST(ParserArgsTest, KeepsUnknownInstructionWithEmptyArgument) {
  EXPECT_EQ(DumpOf("FROM a\nFOO bar\n"), "(from \"a\")\n(foo \"\")");
}

TEST(ParserHeredocTest, ReadsRunHeredoc) {
  Result r = MustParse("FROM a\nRUN <<EOF\necho $X\nEOF\nRUN b\n");
  const Node& run = r.ast.children[1];
  ASSERT_EQ(run.heredocs.size(), 1u);
  EXPECT_EQ(run.heredocs[0].name, "EOF");
  EXPECT_EQ(run.heredocs[0].content, "echo $X\n");
  EXPECT_TRUE(run.heredocs[0].expand);
  EXPECT_FALSE(run.heredocs[0].chomp);
  EXPECT_EQ(run.start_line, 2);
  EXPECT_EQ(run.end_line, 4);
  EXPECT_EQ(Dump(r), "(from \"a\")\n(run \"<<EOF\")\n(run \"b\")");
}

TEST(ParserHeredocTest, ChompsAndQuotesAndCountsSeveral) {
  Result r = MustParse("COPY <<-\"A\" 3<<'B' /dst/\n\tone\n\tA\ntwo\nB\n");
  const Node& copy = r.ast.children[0];
  ASSERT_EQ(copy.heredocs.size(), 2u);
  EXPECT_EQ(copy.heredocs[0].name, "A");
  EXPECT_TRUE(copy.heredocs[0].chomp);
  EXPECT_FALSE(copy.heredocs[0].expand);
  EXPECT_EQ(ChompHeredocContent(copy.heredocs[0].content), "one\n");
  EXPECT_EQ(copy.heredocs[1].name, "B");
  EXPECT_EQ(copy.heredocs[1].file_descriptor, 3u);
  EXPECT_EQ(copy.heredocs[1].content, "two\n");
}

TEST(ParserHeredocTest, IgnoresHeredocsInExecFormAndOtherInstructions) {
  Result r = MustParse("RUN [\"cat\", \"<<EOF\"]\nCMD <<EOF\n");
  EXPECT_TRUE(r.ast.children[0].heredocs.empty());
  EXPECT_TRUE(r.ast.children[1].heredocs.empty());
}

TEST(ParserHeredocTest, ReadsHeredocOfOnbuildRun) {
  Result r = MustParse("ONBUILD RUN <<EOF\nx\nEOF\n");
  ASSERT_EQ(r.ast.children[0].heredocs.size(), 1u);
  EXPECT_EQ(r.ast.children[0].heredocs[0].content, "x\n");
}

TEST(ParserHeredocTest, RejectsUnterminatedHeredoc) {
  EXPECT_THAT(ErrorOf("FROM a\nRUN <<EOF\necho\n"),
              HasSubstr("Dockerfile:2: unterminated heredoc"));
}

}  // namespace
}  // namespace kiln::dockerfile
