#include "sdk/frontend/context.h"

#include "gtest/gtest.h"

namespace kiln::frontend {
namespace {

TEST(ParseIgnoreFileTest, CommentsBlankLinesAndCleaning) {
  std::string content =
      "\xEF\xBB\xBF# comment\n"
      "\n"
      "  node_modules  \n"
      "/abs/path/\r\n"
      "! ./keep\n"
      "  # not a comment once indented\n"
      "a/../b\n"
      "./c/\n"
      "!\n";
  std::vector<std::string> want = {
      "node_modules", "abs/path", "!keep", "# not a comment once indented", "b", "c", "!"};
  EXPECT_EQ(ParseIgnoreFile(content), want);
}

TEST(ParseIgnoreFileTest, EmptyContent) { EXPECT_TRUE(ParseIgnoreFile("").empty()); }

}  // namespace
}  // namespace kiln::frontend
