#include "gateway/cache/cache.h"

#include <cstdlib>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kiln::cache {
namespace {

TEST(CacheTest, ConcurrentFirstOpensOfANewRootAllSucceed) {
  // Regression: writers of ROOT/snapshotter shared one temporary file, so
  // one rename found it gone ("write .../snapshotter: No such file").
  const char* t = std::getenv("TEST_TMPDIR");
  for (int round = 0; round < 10; ++round) {
    std::string root = absl::StrCat(t ? t : "/tmp", "/root-", round);
    std::vector<absl::Status> results(4);
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] { results[i] = Cache::Open({root, "auto"}).status(); });
    }
    for (std::thread& th : threads) th.join();
    for (const absl::Status& st : results) EXPECT_TRUE(st.ok()) << "round " << round << ": " << st;
  }
}

TEST(CacheTest, RootKeepsItsSnapshotter) {
  const char* t = std::getenv("TEST_TMPDIR");
  std::string root = absl::StrCat(t ? t : "/tmp", "/pinned");
  ASSERT_TRUE(Cache::Open({root, "native"}).ok());
  auto other = Cache::Open({root, "overlay"});
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  auto c = Cache::Open({root, "auto"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->snapshotter()->name(), "native");
}

}  // namespace
}  // namespace kiln::cache
