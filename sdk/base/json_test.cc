#include "sdk/base/json.h"

#include "gtest/gtest.h"

namespace kiln {
namespace {

TEST(JsonTest, RoundTripsStringArrays) {
  std::vector<std::string> items = {"a", "*.log", "quote\"back\\slash", "tab\tnew\nline", "é"};
  auto back = ParseJsonStringArray(JsonStringArray(items));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, items);
}

TEST(JsonTest, NullAndEmptyAreEmptyLists) {
  EXPECT_TRUE(ParseJsonStringArray("null")->empty());
  EXPECT_TRUE(ParseJsonStringArray("")->empty());
  EXPECT_TRUE(ParseJsonStringArray(" [ ] ")->empty());
}

TEST(JsonTest, DecodesUnicodeEscapes) {
  auto v = ParseJsonStringArray(R"(["\u00e9\ud83d\ude00"])");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)[0], "\xc3\xa9\xf0\x9f\x98\x80");
}

TEST(JsonTest, RejectsMalformedWithOffset) {
  for (const char* bad : {"[1]", "[\"a\"", "[\"a\",]", "{}", "[\"a\"] x", "[\"\\q\"]"}) {
    auto v = ParseJsonStringArray(bad);
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(v.status().message().find("offset"), std::string::npos) << bad;
  }
}

TEST(JsonTest, QuoteEscapesControlAndInvalidBytes) {
  EXPECT_EQ(JsonQuote("a\x01" "b"), "\"a\\u0001b\"");
  EXPECT_EQ(JsonQuote("\xff"), "\"\\u00ff\"");
}

}  // namespace
}  // namespace kiln
