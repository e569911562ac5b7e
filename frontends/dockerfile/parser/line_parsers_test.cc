#include "frontends/dockerfile/parser/line_parsers.h"

#include <string>
#include <vector>

#include "frontends/dockerfile/parser/parser.h"
#include "gtest/gtest.h"

namespace kiln::dockerfile::parser_internal {
namespace {

using Words = std::vector<std::string>;

TEST(ParseWordsTest, KeepsQuotesAndEscapes) {
  EXPECT_EQ(ParseWords("foo", '\\'), Words{"foo"});
  EXPECT_EQ(ParseWords("  foo   bar ", '\\'), (Words{"foo", "bar"}));
  EXPECT_EQ(ParseWords("foo\\ bar", '\\'), Words{"foo\\ bar"});
  EXPECT_EQ(ParseWords("foo bar 'abc xyz'", '\\'), (Words{"foo", "bar", "'abc xyz'"}));
  EXPECT_EQ(ParseWords("a=\"x \\\" y\" b", '\\'), (Words{"a=\"x \\\" y\"", "b"}));
  EXPECT_EQ(ParseWords("föo bàr \"âbc xÿz\"", '\\'), (Words{"föo", "bàr", "\"âbc xÿz\""}));
  EXPECT_EQ(ParseWords("a``b` c", '`'), (Words{"a``b` c"}));
  EXPECT_EQ(ParseWords("end\\", '\\'), Words{"end"});
  EXPECT_EQ(ParseWords("''", '\\'), Words{"''"});
}

TEST(ExtractBuilderFlagsTest, StopsAtFirstNonFlag) {
  Words flags;
  EXPECT_EQ(ExtractBuilderFlags("--a=1 --b=\"x y\" src dst", '\\', &flags), "src dst");
  EXPECT_EQ(flags, (Words{"--a=1", "--b=x y"}));
  EXPECT_EQ(ExtractBuilderFlags("--a -- --b c", '\\', &flags), " --b c");
  EXPECT_EQ(flags, Words{"--a"});
  EXPECT_EQ(ExtractBuilderFlags("--only", '\\', &flags), "");
  EXPECT_EQ(flags, Words{"--only"});
  EXPECT_EQ(ExtractBuilderFlags("-x --a", '\\', &flags), "-x --a");
  EXPECT_TRUE(flags.empty());
}

TEST(ExtractBuilderFlagsTest, ReencodesBytesLikeBuildkit) {
  Words flags;
  ExtractBuilderFlags("--a=\xC3\xA9 b", '\\', &flags);
  // Each byte becomes its own code point, as in BuildKit.
  EXPECT_EQ(flags, Words{"--a=\xC3\x83\xC2\xA9"});
}

TEST(CanContainHeredocTest, OnlyShellFormRunCopyAdd) {
  auto node = [](const char* line) { return *NewNodeFromLine(line, '\\'); };
  EXPECT_TRUE(CanContainHeredoc(node("RUN <<EOF")));
  EXPECT_TRUE(CanContainHeredoc(node("copy <<EOF /x")));
  EXPECT_TRUE(CanContainHeredoc(node("ONBUILD ADD <<EOF /x")));
  EXPECT_FALSE(CanContainHeredoc(node("RUN [\"<<EOF\"]")));
  EXPECT_FALSE(CanContainHeredoc(node("CMD <<EOF")));
}

TEST(ParseHeredocTest, ParsesDelimiterWords) {
  auto doc = ParseHeredoc("2<<-\"E\"'F'G");
  ASSERT_TRUE(doc.ok());
  ASSERT_TRUE(doc->has_value());
  EXPECT_EQ((*doc)->name, "EFG");
  EXPECT_EQ((*doc)->file_descriptor, 2u);
  EXPECT_TRUE((*doc)->chomp);
  EXPECT_FALSE((*doc)->expand);
  EXPECT_FALSE(ParseHeredoc("<<")->has_value());
  EXPECT_FALSE(ParseHeredoc("a<<EOF")->has_value());
  EXPECT_FALSE(ParseHeredoc("<<EOF<")->has_value());
  EXPECT_FALSE(ParseHeredoc("<<\"EOF").ok());
}

TEST(ParseHeredocTest, ClassifiesWords) {
  for (const char* word :
       {"<<EOF", "<<'EOF'", "<<\"EOF\"", "<<-EOF", "<<-'EOF'", "<<EO\"F\"", "<< EOF", "<<- EOF"}) {
    auto doc = ParseHeredoc(word);
    ASSERT_TRUE(doc.ok() && doc->has_value()) << word;
    EXPECT_EQ((*doc)->name, "EOF") << word;
  }
  for (const char* word : {"<<'EOF", "<<\"EOF", "<<EOF'", "<<EOF\""}) {
    EXPECT_FALSE(ParseHeredoc(word).ok()) << word;
  }
  for (const char* word : {"", "EOF", "<<", "<<-", "<EOF", "<<<EOF", "<<EOF sh"}) {
    auto doc = ParseHeredoc(word);
    ASSERT_TRUE(doc.ok()) << word;
    EXPECT_FALSE(doc->has_value()) << word;
  }
}

}  // namespace
}  // namespace kiln::dockerfile::parser_internal
