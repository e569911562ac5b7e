#include "frontends/dockerfile/shell/lex.h"

#include <random>
#include <string>
#include <vector>

#include "frontends/dockerfile/shell/env.h"
#include "gtest/gtest.h"

namespace kiln::dockerfile::shell {
namespace {

std::string Expand(const std::string& word, const Env& env, char escape = '\\') {
  auto got = Lex(escape).ProcessWord(word, env);
  EXPECT_TRUE(got.ok()) << word << ": " << got.status();
  return got.ok() ? *got : "<error>";
}

std::string ErrorOf(const std::string& word, const Env& env) {
  auto got = Lex().ProcessWord(word, env);
  EXPECT_FALSE(got.ok()) << word << " gave " << *got;
  return got.ok() ? "" : std::string(got.status().message());
}

TEST(LexTest, ExpandsDefaultAndAlternativeForms) {
  Env env = Env::FromList({"FOO=xxx", "BAR="});
  EXPECT_EQ(Expand("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", env), "xxx  ccc");
  EXPECT_EQ(Expand("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", env), "xxx bbb ccc");
  EXPECT_EQ(Expand("${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", env), "aaa bbb ");
  EXPECT_EQ(Expand("${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", env), "aaa  ");
  EXPECT_EQ(Expand("$FOO${FOO}x$", env), "xxxxxxx$");
}

TEST(LexTest, ReportsMatchedAndUnmatchedVariables) {
  Env env = Env::FromList({"FOO=xxx", "BAR="});
  auto got = Lex().ProcessWordWithMatches("${FOO-a} ${BAR-b} ${BAZ-c} $QUX", env);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->result, "xxx  c ");
  EXPECT_EQ(got->matched, (std::set<std::string>{"FOO", "BAR"}));
  EXPECT_EQ(got->unmatched, (std::set<std::string>{"BAZ", "QUX"}));
}

TEST(LexTest, MandatoryFormsFailWithMessage) {
  Env set = Env::FromList({"VAR=plain", "ARG=x"});
  Env empty = Env::FromList({"VAR=", "ARG=x"});
  Env unset = Env::FromList({"ARG=x"});
  EXPECT_EQ(Expand("${VAR:?message here$ARG}", set), "plain");
  EXPECT_EQ(ErrorOf("${VAR:?message here$ARG}", empty),
            "failed to process \"${VAR:?message here$ARG}\": VAR: message herex");
  EXPECT_EQ(ErrorOf("${VAR?oops}", unset), "failed to process \"${VAR?oops}\": VAR: oops");
  EXPECT_EQ(Expand("${VAR?oops}", empty), "");
  EXPECT_EQ(ErrorOf("${VAR:?}", empty),
            "failed to process \"${VAR:?}\": VAR: is not allowed to be empty");
  EXPECT_EQ(ErrorOf("${VAR?}", unset),
            "failed to process \"${VAR?}\": VAR: is not allowed to be unset");
}

TEST(LexTest, RejectsBadSubstitutions) {
  Env env = Env::FromList({"FOO=xxx"});
  EXPECT_EQ(ErrorOf("${}", env), "failed to process \"${}\": syntax error: bad substitution");
  EXPECT_EQ(ErrorOf("${:-a}", env), "failed to process \"${:-a}\": syntax error: bad substitution");
  EXPECT_EQ(ErrorOf("a${", env), "failed to process \"a${\": syntax error: missing '}'");
  EXPECT_EQ(ErrorOf("${FOO:-a", env), "failed to process \"${FOO:-a\": syntax error: missing '}'");
  EXPECT_EQ(ErrorOf("${FOO/a", env),
            "failed to process \"${FOO/a\": syntax error: missing '/' in ${}");
  EXPECT_EQ(ErrorOf("${FOO=aaa}", env),
            "failed to process \"${FOO=aaa}\": unsupported modifier (=) in substitution");
  EXPECT_EQ(ErrorOf("${FOO:#x}", env),
            "failed to process \"${FOO:#x}\": unsupported modifier (:#) in substitution");
  EXPECT_EQ(ErrorOf("'abc", env),
            "failed to process \"'abc\": unexpected end of statement while looking for "
            "matching single-quote");
}

TEST(LexTest, TrimsPrefixesAndSuffixes) {
  Env env = Env::FromList({"FOO=xxyy", "BAR=x", "STAR=a***yy*", "SPECIAL=()[]{}^$.*?|\\x"});
  EXPECT_EQ(Expand("${FOO#*x*y}", env), "y");
  EXPECT_EQ(Expand("${FOO#$BAR}", env), "xyy");
  EXPECT_EQ(Expand("${FOO##*x}", env), "yy");
  EXPECT_EQ(Expand("${FOO%y*}", env), "xxy");
  EXPECT_EQ(Expand("${FOO%%y*}", env), "xx");
  EXPECT_EQ(Expand("${STAR%%\\**\\*}", env), "a");
  EXPECT_EQ(Expand("${SPECIAL#()[]{\\}^$.\\*\\?|\\\\}", env), "x");
  EXPECT_NE(ErrorOf("${FOO#\\x}", env).find("invalid pattern (\\x) in substitution"),
            std::string::npos);
}

TEST(LexTest, ReplacesFirstOrAll) {
  Env env = Env::FromList({"FOO=a.b.c"});
  EXPECT_EQ(Expand("${FOO/./-}", env), "a-b.c");
  EXPECT_EQ(Expand("${FOO//./-}", env), "a-b-c");
  EXPECT_EQ(Expand("${FOO//?/x}", env), "xxxxx");
  EXPECT_EQ(Expand("${FOO//b*/}", env), "a.");
  EXPECT_EQ(Expand("${NOPE//a/b}", env), "");
  // Only the replace-all form expands $0 (Go's ReplaceAllString).
  EXPECT_EQ(Expand("${FOO//b/<\\$0>}", env), "a.<\\b>.c");
  EXPECT_EQ(Expand("${FOO/b/<\\$0>}", env), "a.<\\$0>.c");
}

TEST(LexTest, HandlesQuotesAndEscapes) {
  Env env = Env::FromList({"A=1"});
  EXPECT_EQ(Expand("'$A'\"$A\"\\$A", env), "$A1$A");
  EXPECT_EQ(Expand("\"a\\\"b\\x\"", env), "a\"b\\x");
  EXPECT_EQ(Expand("a`$A`\"", env, '`'), "a$A\"");
  EXPECT_EQ(Expand("c:\\dir\\$A", env, '`'), "c:\\dir\\1");
}

TEST(LexTest, SplitsWords) {
  Env env = Env::FromList({"SP=a  b"});
  auto words = Lex().ProcessWords("x$SP \"$SP\" 'q r'", env);
  ASSERT_TRUE(words.ok());
  EXPECT_EQ(*words, (std::vector<std::string>{"xa", "b", "a  b", "q r"}));
}

TEST(LexTest, ProcessWordsDropsTextBeforeBraceOperatorLikeBuildkit) {
  // BuildKit's nested scan resets the shared word buffer.
  auto words = Lex().ProcessWords("hello${X:-a}bye", Env());
  ASSERT_TRUE(words.ok());
  EXPECT_EQ(*words, std::vector<std::string>{"abye"});
  EXPECT_EQ(*Lex().ProcessWord("hello${X:-a}bye", Env()), "helloabye");
}

TEST(LexTest, SkipUnsetEnvKeepsReferences) {
  Lex lex;
  lex.set_skip_unset_env(true);
  Env env = Env::FromList({"A=1"});
  EXPECT_EQ(*lex.ProcessWord("$A $B ${C} ${D:-x} ${E/y/z}", env), "1 $B ${C} ${D:-x} ${E/y/z}");
}

TEST(LexTest, RawQuotesAndEscapesKeepThem) {
  Lex lex;
  lex.set_raw_quotes(true);
  lex.set_raw_escapes(true);
  EXPECT_EQ(*lex.ProcessWord("'a'\"b\"\\c", Env()), "'a'\"b\"\\c");
}

TEST(LexTest, WindowsEnvIsCaseInsensitive) {
  Env env = Env::FromList({"Path=C:\\bin"}, KeyCase::kInsensitive);
  EXPECT_EQ(Expand("$PATH;${path}", env, '`'), "C:\\bin;C:\\bin");
  EXPECT_EQ(Expand("$PATH", Env::FromList({"Path=x"})), "");
}

TEST(LexTest, BoundsNestingDepth) {
  std::string shallow, deep;
  for (int i = 0; i < 50; ++i) shallow += "${a:-";
  shallow += "x" + std::string(50, '}');
  EXPECT_EQ(Expand(shallow, Env()), "x");
  for (int i = 0; i < 5000; ++i) deep += "\"${a:-";
  auto got = Lex().ProcessWord(deep, Env());
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("nested deeper than 100 levels"), std::string::npos);
}

TEST(LexTest, RandomInputNeverCrashes) {
  std::mt19937 rng(7);
  const std::string alphabet = "${}:-+?#%/*'\"\\` aA1_<\n\xC3\xA9\xFF";
  Env env = Env::FromList({"a=x*y", "A=", "_1=//"});
  size_t total = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string word;
    for (size_t n = rng() % 24; n > 0; --n) word.push_back(alphabet[rng() % alphabet.size()]);
    Lex lex(i % 3 == 0 ? '`' : '\\');
    lex.set_raw_quotes(i % 2);
    lex.set_raw_escapes(i % 5 == 0);
    lex.set_skip_unset_env(i % 7 == 0);
    auto result = lex.ProcessWordWithMatches(word, env);
    total += result.ok() ? result->result.size() + result->words.size() : 1;
  }
  EXPECT_GT(total, 0u);
}

TEST(EnvTest, LastEntryWinsAndBareKeyIsEmpty) {
  Env env = Env::FromList({"a=1", "b", "a=2"});
  EXPECT_EQ(env.Get("a"), "2");
  EXPECT_EQ(env.Get("b"), "");
  EXPECT_FALSE(env.Get("c").has_value());
  EXPECT_EQ(env.Keys(), (std::vector<std::string>{"a", "b", "a"}));
}

}  // namespace
}  // namespace kiln::dockerfile::shell
