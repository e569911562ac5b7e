#include "sdk/base/suggest.h"

#include "gtest/gtest.h"

namespace kiln {
namespace {

TEST(SuggestTest, NearestWithinTwoEdits) {
  EXPECT_EQ(Suggest("wrokdir", {"workdir", "user", "env"}), "workdir");
  EXPECT_EQ(Suggest("rnu", {"cmd", "env", "run"}), "run");  // a swap is one edit
  EXPECT_EQ(Suggest("RUN", {"run"}), "run");
  EXPECT_EQ(Suggest("sharign", {"id", "sharing"}), "sharing");
  EXPECT_EQ(Suggest("xyzzy", {"run", "env"}), "");
  EXPECT_EQ(Suggest("rum", {"rm", "run"}), "rm");  // a tie: the first
  EXPECT_EQ(Suggest("", {"ab", "abc"}), "ab");
  EXPECT_EQ(Suggest("anything", {}), "");
}

}  // namespace
}  // namespace kiln
