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
  EXPECT_EQ(JsonQuote("a\x01"
                      "b"),
            "\"a\\u0001b\"");
  EXPECT_EQ(JsonQuote("\xff"), "\"\\ufffd\"");
  EXPECT_EQ(JsonQuote("<&>"), "\"\\u003c\\u0026\\u003e\"");
}

TEST(JsonTest, EncodesStringArraysAsGoDoes) {
  EXPECT_EQ(JsonStringArray({}), "[]");
  EXPECT_EQ(JsonStringArray({"*.go", "!vendor"}), R"(["*.go","!vendor"])");
  EXPECT_EQ(JsonStringArray({"a\"b\\c"}), R"(["a\"b\\c"])");
  EXPECT_EQ(JsonStringArray({"<&>"}), R"(["\u003c\u0026\u003e"])");
  EXPECT_EQ(JsonStringArray({std::string("\n\t\x01\b\f", 5)}), R"(["\n\t\u0001\b\f"])");
  EXPECT_EQ(JsonStringArray({"caf\xc3\xa9"}), "[\"caf\xc3\xa9\"]");
  EXPECT_EQ(JsonStringArray({"\xe2\x80\xa8"}), R"(["\u2028"])");
  EXPECT_EQ(JsonStringArray({"bad\xff"}), R"(["bad\ufffd"])");
  EXPECT_EQ(JsonStringArray({"\xc0\xaf"}), R"(["\ufffd\ufffd"])");  // overlong
}

}  // namespace
}  // namespace kiln
