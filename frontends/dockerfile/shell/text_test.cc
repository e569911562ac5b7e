#include "frontends/dockerfile/shell/text.h"

#include "frontends/dockerfile/shell/pattern.h"
#include "gtest/gtest.h"

namespace kiln::dockerfile::shell {
namespace {

TEST(TextTest, QuotesLikeGoStrconv) {
  EXPECT_EQ(GoQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(GoQuote(std::string("\t\n\x01\x7f", 4)), "\"\\t\\n\\x01\\x7f\"");
  EXPECT_EQ(GoQuote("\xC3\xA9\xE2\x80\x8B"), "\"\xC3\xA9\\u200b\"");
  EXPECT_EQ(GoQuote("\xff"), "\"\\xff\"");
  EXPECT_EQ(GoQuoteList({"a", "b"}), "[\"a\" \"b\"]");
}

TEST(TextTest, DecodesInvalidUtf8AsReplacement) {
  EXPECT_EQ(DecodeRunes("a\xC3"), (std::u32string{U'a', kRuneError}));
  EXPECT_EQ(DecodeRunes("\xED\xA0\x80"), (std::u32string{kRuneError, kRuneError, kRuneError}));
  EXPECT_EQ(EncodeRunes(U"\U0001F600"), "\xF0\x9F\x98\x80");
}

TEST(TextTest, TrimsUnicodeSpace) {
  EXPECT_EQ(TrimSpace(" \t\xC2\xA0x y\xC2\x85\n"), "x y");
  EXPECT_EQ(TrimLeftSpace("  x "), "x ");
}

TEST(TextTest, ConvertsShellPatterns) {
  using shell_internal::ShellPatternToRegex;
  EXPECT_EQ(*ShellPatternToRegex("*", true, true), "^.*");
  EXPECT_EQ(*ShellPatternToRegex("*", false, false), ".*?");
  EXPECT_EQ(*ShellPatternToRegex("\\*", true, true), "^\\*");
  EXPECT_EQ(*ShellPatternToRegex("(()[]{\\}^$.\\*\\?|\\\\", true, true),
            "^\\(\\(\\)\\[\\]\\{\\}\\^\\$\\.\\*\\?\\|\\\\");
  for (const char* bad : {"\\", "\\x", "\\\\\\"}) {
    EXPECT_FALSE(ShellPatternToRegex(bad, true, true).ok()) << bad;
  }
  EXPECT_EQ(shell_internal::ReversePattern("a\\*c"), "c\\*a");
  EXPECT_EQ(shell_internal::ReversePattern("\\\\\\ab"), "b\\a\\\\");
  EXPECT_EQ(shell_internal::ReversePattern("ab\\"), "\\ba");
}

}  // namespace
}  // namespace kiln::dockerfile::shell
