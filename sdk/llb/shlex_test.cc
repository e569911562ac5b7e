#include "sdk/llb/shlex.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kiln::llb {
namespace {

using Words = std::vector<std::string>;

Words Split(std::string_view s) {
  absl::StatusOr<Words> words = Shlex(s);
  EXPECT_TRUE(words.ok()) << words.status();
  return words.ok() ? *words : Words{"<error>"};
}

TEST(ShlexTest, SplitsOnWhitespace) {
  EXPECT_EQ(Split("  echo \t hello\nworld  "), (Words{"echo", "hello", "world"}));
  EXPECT_EQ(Split(""), Words{});
}

TEST(ShlexTest, QuotesGroupAndJoinWords) {
  EXPECT_EQ(Split("sh -c 'echo hi > /out'"), (Words{"sh", "-c", "echo hi > /out"}));
  EXPECT_EQ(Split(R"(a"b c"d)"), Words{"ab cd"});
  EXPECT_EQ(Split("''"), Words{""});
  EXPECT_EQ(Split(R"('a\b')"), Words{R"(a\b)"});
}

TEST(ShlexTest, BackslashEscapesNextCharacter) {
  EXPECT_EQ(Split(R"(a\ b)"), Words{"a b"});
  EXPECT_EQ(Split(R"("a\"b\n")"), Words{"a\"bn"});
}

TEST(ShlexTest, CommentsStartOnlyAtWordStart) {
  EXPECT_EQ(Split("echo a#b # the rest\nnext"), (Words{"echo", "a#b", "next"}));
}

TEST(ShlexTest, UnfinishedInputIsInvalid) {
  EXPECT_TRUE(absl::IsInvalidArgument(Shlex("echo 'open").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Shlex("echo \"open").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Shlex("echo \\").status()));
}

}  // namespace
}  // namespace kiln::llb
