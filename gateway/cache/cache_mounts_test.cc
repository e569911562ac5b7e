#include "gateway/cache/cache_mounts.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace kiln::cache {
namespace {

std::string Root(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  std::string d = absl::StrCat(t ? t : "/tmp", "/", name);
  mkdir(d.c_str(), 0755);
  return d;
}

TEST(CacheMountsTest, ContentPersistsAndOnlyTheFirstLeaseIsFresh) {
  CacheMounts mounts(Root("cm1"));
  std::string path;
  {
    auto lease = mounts.Acquire("deps", pb::SHARED);
    ASSERT_TRUE(lease.ok()) << lease.status();
    EXPECT_TRUE((*lease)->fresh());
    path = (*lease)->path();
    std::ofstream(path + "/kept") << "x";
  }
  CacheMounts again(Root("cm1"));  // as another process would
  auto lease = again.Acquire("deps", pb::SHARED);
  ASSERT_TRUE(lease.ok());
  EXPECT_FALSE((*lease)->fresh());
  EXPECT_EQ((*lease)->path(), path);
  EXPECT_TRUE(std::ifstream(path + "/kept").good());
}

TEST(CacheMountsTest, SharedUsersMeetPrivateUsersDoNot) {
  CacheMounts mounts(Root("cm2"));
  auto s1 = mounts.Acquire("s", pb::SHARED);
  auto s2 = mounts.Acquire("s", pb::SHARED);
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ((*s1)->path(), (*s2)->path());
  auto p1 = mounts.Acquire("p", pb::PRIVATE);
  auto p2 = mounts.Acquire("p", pb::PRIVATE);
  ASSERT_TRUE(p1.ok() && p2.ok());
  EXPECT_NE((*p1)->path(), (*p2)->path());
  p1->reset();
  auto p3 = mounts.Acquire("p", pb::PRIVATE);
  ASSERT_TRUE(p3.ok());
  EXPECT_FALSE((*p3)->fresh());  // instance 0 is free again and reused
}

TEST(CacheMountsTest, LockedUsersTakeTurns) {
  CacheMounts mounts(Root("cm3"));
  std::atomic<int> inside{0}, max_inside{0};
  auto user = [&] {
    auto lease = mounts.Acquire("l", pb::LOCKED);
    ASSERT_TRUE(lease.ok());
    int now = ++inside;
    max_inside = std::max(max_inside.load(), now);
    absl::SleepFor(absl::Milliseconds(50));
    --inside;
  };
  std::thread a(user), b(user), c(user);
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(max_inside.load(), 1);
}

TEST(CacheMountsTest, SurplusPrivateInstancesAreRemovedWhenFree) {
  CacheMounts mounts(Root("cm4"));
  std::string first;
  {
    auto p1 = mounts.Acquire("p", pb::PRIVATE);
    auto p2 = mounts.Acquire("p", pb::PRIVATE);
    auto p3 = mounts.Acquire("p", pb::PRIVATE);
    ASSERT_TRUE(p1.ok() && p2.ok() && p3.ok());
    first = (*p1)->path();
    std::ofstream(first + "/kept") << "x";
    p3->reset();
    // Instance 2 is free, instance 1 is held: only 2 goes.
    auto n = mounts.RemoveSurplus();
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_EQ(*n, 1);
    struct stat st;
    EXPECT_EQ(stat((*p2)->path().c_str(), &st), 0);
  }
  auto n = mounts.RemoveSurplus();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_TRUE(std::ifstream(first + "/kept").good()) << "instance 0 keeps the cache";
  auto again = mounts.Acquire("p", pb::PRIVATE);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->path(), first);
  auto second = mounts.Acquire("p", pb::PRIVATE);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE((*second)->fresh()) << "a removed instance comes back empty";
}

}  // namespace
}  // namespace kiln::cache
