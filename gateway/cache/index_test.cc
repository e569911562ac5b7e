#include "gateway/cache/index.h"

#include <cstdlib>
#include <thread>

#include "gtest/gtest.h"

namespace kiln::cache {
namespace {

std::string TempPath(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  return std::string(t ? t : "/tmp") + "/" + name;
}

TEST(CacheIndexTest, RecordThenLookupReturnsEveryOutput) {
  auto index = CacheIndex::Open(TempPath("a.db"));
  ASSERT_TRUE(index.ok()) << index.status();
  ASSERT_TRUE((*index)->Record("k1", {{"l1"}, {"l1", "l2"}}, "step", {{"l1", 10}, {"l2", 5}}).ok());
  auto got = (*index)->Lookup("k1", 2);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((**got)[1], (Chain{"l1", "l2"}));
  auto wrong_count = (*index)->Lookup("k1", 3);
  ASSERT_TRUE(wrong_count.ok());
  EXPECT_FALSE(wrong_count->has_value());
  EXPECT_TRUE((*index)->Touch({"k1", "nope"}).ok());
  auto missing = (*index)->Lookup("nope", 1);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST(CacheIndexTest, SurvivesReopen) {
  std::string path = TempPath("b.db");
  {
    auto index = CacheIndex::Open(path);
    ASSERT_TRUE(index.ok());
    ASSERT_TRUE((*index)->Record("k", {{"x"}}, "d", {{"x", 1}}).ok());
    ASSERT_TRUE((*index)->PutChecksum("memo", "sha256:abc").ok());
  }
  auto index = CacheIndex::Open(path);
  ASSERT_TRUE(index.ok());
  auto got = (*index)->Lookup("k", 1);
  ASSERT_TRUE(got.ok() && got->has_value());
  auto sum = (*index)->GetChecksum("memo");
  ASSERT_TRUE(sum.ok() && sum->has_value());
  EXPECT_EQ(**sum, "sha256:abc");
}

TEST(CacheIndexTest, PruneKeepsSharedLayersAndDropsLeastRecentlyUsed) {
  auto index = CacheIndex::Open(TempPath("c.db"));
  ASSERT_TRUE(index.ok());
  CacheIndex& ix = **index;
  ASSERT_TRUE(ix.Record("base", {{"b"}}, "base", {{"b", 100}}).ok());
  ASSERT_TRUE(ix.Record("top", {{"b", "t"}}, "top", {{"t", 50}}).ok());
  auto usage = ix.Usage();
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ(usage->size(), 2u);
  // 150 bytes are in use: a budget of 150 keeps every record.
  auto kept = ix.Prune(150);
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->empty());
  // Under 100 bytes, layer b must go, and with it both records.
  auto dropped = ix.Prune(99);
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(dropped->size(), 2u);
  auto total = ix.TotalLayerSize();
  ASSERT_TRUE(total.ok());
  EXPECT_EQ(*total, 0);
}

TEST(CacheIndexTest, ConcurrentOpensOfANewIndexAllSucceed) {
  // Regression: a reader's open transaction made the schema write fail at
  // once with "database is locked" instead of waiting.
  for (int round = 0; round < 10; ++round) {
    std::string path = TempPath("new-" + std::to_string(round) + ".db");
    std::vector<std::thread> threads;
    std::vector<absl::Status> results(4);
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] {
        auto index = CacheIndex::Open(path);
        results[i] = index.ok() ? (*index)->Record("k", {{"l"}}, "d", {{"l", 1}}) : index.status();
      });
    }
    for (std::thread& t : threads) t.join();
    for (const absl::Status& st : results) EXPECT_TRUE(st.ok()) << "round " << round << ": " << st;
  }
}

TEST(CacheIndexTest, RejectsFileThatIsNotAnIndex) {
  std::string path = TempPath("garbage.db");
  FILE* f = fopen(path.c_str(), "w");
  fputs("this is not sqlite, just some text that is long enough to look like a header....", f);
  fclose(f);
  auto index = CacheIndex::Open(path);
  EXPECT_FALSE(index.ok());
}

}  // namespace
}  // namespace kiln::cache
