#include "cmd/kiln/args.h"

#include "gtest/gtest.h"

namespace kiln::cli {
namespace {

const std::vector<FlagSpec> kSpecs = {
    {"file", "f"}, {"output", "o", false, true}, {"no-cache", "", true}};

TEST(ArgsTest, ParsesLongShortEqualsAndRepeated) {
  auto a =
      ParseArgs({"-f", "D", "ctx", "--output=type=tar,dest=x", "-o", "out", "--no-cache"}, kSpecs);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->Get("file"), "D");
  EXPECT_EQ(a->All("output"), (std::vector<std::string>{"type=tar,dest=x", "out"}));
  EXPECT_TRUE(a->Has("no-cache"));
  EXPECT_EQ(a->positional, std::vector<std::string>{"ctx"});
}

TEST(ArgsTest, UnknownFlagAndMissingValueAreErrors) {
  EXPECT_NE(ParseArgs({"--bogus"}, kSpecs).status().message().find("--bogus"), std::string::npos);
  EXPECT_NE(ParseArgs({"--file"}, kSpecs).status().message().find("needs a value"),
            std::string::npos);
}

TEST(ArgsTest, Sizes) {
  EXPECT_EQ(*ParseSize("4096"), 4096);
  EXPECT_EQ(*ParseSize("10GB"), 10000000000);
  EXPECT_EQ(*ParseSize("1.5k"), 1500);
  EXPECT_EQ(*ParseSize("2MiB"), 2097152);
  EXPECT_FALSE(ParseSize("ten").ok());
  EXPECT_FALSE(ParseSize("10 parsecs").ok());
  EXPECT_EQ(FormatSize(999), "999B");
  EXPECT_EQ(FormatSize(1500), "1.5kB");
}

}  // namespace
}  // namespace kiln::cli
