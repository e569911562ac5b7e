#include "sdk/base/path.h"

#include <utility>

#include "gtest/gtest.h"

namespace kiln {
namespace {

TEST(CleanPathTest, MatchesGoPathClean) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "."},
      {"abc", "abc"},
      {"abc/def", "abc/def"},
      {".", "."},
      {"..", ".."},
      {"../..", "../.."},
      {"../../abc", "../../abc"},
      {"/abc", "/abc"},
      {"/", "/"},
      {"abc/", "abc"},
      {"abc/def/", "abc/def"},
      {"/abc/", "/abc"},
      {"abc//def//ghi", "abc/def/ghi"},
      {"//abc", "/abc"},
      {"///abc", "/abc"},
      {"abc/./def", "abc/def"},
      {"/./abc/def", "/abc/def"},
      {"abc/.", "abc"},
      {"abc/def/ghi/../jkl", "abc/def/jkl"},
      {"abc/def/../ghi/../jkl", "abc/jkl"},
      {"abc/def/..", "abc"},
      {"abc/def/../..", "."},
      {"/abc/def/../..", "/"},
      {"abc/def/../../..", ".."},
      {"/abc/def/../../..", "/"},
      {"abc/def/../../../ghi/jkl/../../../mno", "../../mno"},
      {"/../abc", "/abc"},
      {"abc/./../def", "def"},
      {"abc//./../def", "def"},
      {"abc/../../././../def", "../../def"},
      {"./a", "a"},
      {"..a/b", "..a/b"},
      {".a/.b", ".a/.b"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(CleanPath(in), want) << in;
}

}  // namespace
}  // namespace kiln
