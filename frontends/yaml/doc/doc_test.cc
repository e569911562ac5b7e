#include "frontends/yaml/doc/doc.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kiln::yamldoc {
namespace {

TEST(DocTest, PositionsKindsAndFileOrder) {
  absl::StatusOr<Node> n = Parse("b: 1\na:\n  - x\n  - 'q'\nc: {d: e}\nempty:\n");
  ASSERT_TRUE(n.ok()) << n.status();
  ASSERT_TRUE(n->IsMap());
  ASSERT_EQ(n->keys.size(), 4u);
  EXPECT_EQ(n->keys[0].scalar, "b");  // file order, not sorted
  EXPECT_EQ(n->keys[1].scalar, "a");
  EXPECT_EQ(n->items[0].line, 1);
  EXPECT_EQ(n->items[0].col, 4);
  const Node& a = n->items[1];
  ASSERT_TRUE(a.IsSequence());
  EXPECT_EQ(a.items[1].line, 4);
  EXPECT_EQ(a.items[1].col, 5);
  EXPECT_FALSE(a.items[0].quoted);
  EXPECT_TRUE(a.items[1].quoted);
  EXPECT_TRUE(n->items[2].IsMap());
  EXPECT_TRUE(n->items[3].IsNull());
  EXPECT_EQ(n->items[3].line, 6) << "a missing value is placed at its key";
}

TEST(DocTest, DuplicateKeysAreKeptForTheReader) {
  absl::StatusOr<Node> n = Parse("a: 1\na: 2\n");
  ASSERT_TRUE(n.ok()) << n.status();
  ASSERT_EQ(n->keys.size(), 2u);
  EXPECT_EQ(n->keys[1].line, 2);
}

TEST(DocTest, EmptyTextIsNull) {
  absl::StatusOr<Node> n = Parse("");
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n->IsNull());
}

TEST(DocTest, SyntaxErrorsAreStatusesWithPositions) {
  absl::StatusOr<Node> n = Parse("a: [1, 2\nb: c\n");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(n.status().message(), "2:")) << n.status();
  n = Parse("a: *nope\n");
  ASSERT_FALSE(n.ok());
  EXPECT_TRUE(absl::StrContains(n.status().message(), "anchor")) << n.status();
}

TEST(DocTest, OneDocumentOnly) {
  absl::StatusOr<Node> n = Parse("a: 1\n---\nb: 2\n");
  ASSERT_FALSE(n.ok());
  EXPECT_TRUE(absl::StrContains(n.status().message(), "second YAML document")) << n.status();
}

TEST(DocTest, AliasBombsHitTheNodeBudget) {
  std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  std::string prev = "a";
  for (char c = 'b'; c <= 'k'; ++c) {
    text += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" +
            prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
            ", *" + prev + "]\n";
    prev = std::string(1, c);
  }
  absl::StatusOr<Node> n = Parse(text);
  ASSERT_FALSE(n.ok());
  EXPECT_TRUE(absl::StrContains(n.status().message(), "more than")) << n.status();
}

TEST(DocTest, LimitsAndNulBytes) {
  Limits small;
  small.max_bytes = 8;
  EXPECT_FALSE(Parse("a: 123456789\n", small).ok());
  EXPECT_FALSE(Parse(std::string("a: \0b\n", 6)).ok());
}

// yaml-cpp's LoadAll loops forever on these, allocating as it goes.
TEST(DocTest, StrayFlowEntriesAtTheTopLevelEnd) {
  for (const char* text : {", a", "- a\n, b\n", "# c\n, x\nb: c\n"}) {
    absl::StatusOr<Node> n = Parse(text);
    ASSERT_FALSE(n.ok()) << text;
    EXPECT_TRUE(absl::StrContains(n.status().message(), "unexpected ','")) << n.status();
  }
}

TEST(DocTest, AnchorsAndAliasesExpand) {
  absl::StatusOr<Node> n = Parse("a: &x {k: [1, 2]}\nb: *x\nc: &y v\nd: *y\n");
  ASSERT_TRUE(n.ok()) << n.status();
  ASSERT_EQ(n->items.size(), 4u);
  ASSERT_TRUE(n->items[1].IsMap());
  EXPECT_EQ(n->items[1].items[0].items[1].scalar, "2");
  EXPECT_EQ(n->items[3].scalar, "v");
}

TEST(DocTest, DeepNestingIsAnErrorNotACrash) {
  EXPECT_FALSE(Parse(std::string(100000, '[')).ok());
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "{a: ";
  EXPECT_FALSE(Parse(deep).ok());
}

}  // namespace
}  // namespace kiln::yamldoc
