#include "gateway/fsutil/walk.h"

#include <sys/stat.h>
#include <unistd.h>

#include "gateway/fsutil/testing.h"
#include "gtest/gtest.h"

namespace kiln::fsutil {
namespace {

using testing::ListTree;
using testing::MakeDir;
using testing::MakeSymlink;
using testing::MakeTempDir;
using testing::WriteFile;

TEST(WalkTest, SortedByBytesParentsFirst) {
  std::string root = MakeTempDir();
  WriteFile(root + "/b", "");
  WriteFile(root + "/a/z", "");
  WriteFile(root + "/a/B", "");
  WriteFile(root + "/a-b", "");
  WriteFile(root + "/A", "");
  MakeDir(root + "/a/empty");
  std::vector<std::string> want = {"A", "a/", "a/B", "a/empty/", "a/z", "a-b", "b"};
  EXPECT_EQ(ListTree(root), want);
}

TEST(WalkTest, NeverFollowsSymlinks) {
  std::string base = MakeTempDir();
  std::string root = base + "/root";
  WriteFile(base + "/outside/secret", "s");
  MakeDir(root);
  MakeSymlink("../outside", root + "/out");
  MakeSymlink("/", root + "/slash");
  std::vector<std::string> want = {"out->../outside", "slash->/"};
  EXPECT_EQ(ListTree(root), want);
}

TEST(WalkTest, ReportsLstatOfEachEntry) {
  std::string root = MakeTempDir();
  WriteFile(root + "/f", "12345", 0640);
  ASSERT_EQ(mkfifo((root + "/p").c_str(), 0600), 0);
  std::vector<Entry> seen;
  ASSERT_TRUE(Walk(root, nullptr, [&](const Entry& e) {
                seen.push_back(e);
                return absl::OkStatus();
              }).ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].rel, "f");
  EXPECT_EQ(seen[0].st.st_size, 5);
  EXPECT_EQ(seen[0].st.st_mode & 07777, 0640u);
  EXPECT_TRUE(S_ISFIFO(seen[1].st.st_mode));
}

TEST(WalkTest, CallbackErrorStopsTheWalk) {
  std::string root = MakeTempDir();
  WriteFile(root + "/a", "");
  WriteFile(root + "/b", "");
  int calls = 0;
  absl::Status s = Walk(root, nullptr, [&](const Entry&) {
    ++calls;
    return absl::CancelledError("stop");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 1);
}

TEST(WalkTest, MissingRootIsNotFound) {
  absl::Status s =
      Walk(MakeTempDir() + "/nope", nullptr, [](const Entry&) { return absl::OkStatus(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
}

TEST(WalkTest, FileRootIsFailedPrecondition) {
  std::string root = MakeTempDir();
  WriteFile(root + "/f", "");
  absl::Status s = Walk(root + "/f", nullptr, [](const Entry&) { return absl::OkStatus(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(WalkTest, FilteredParentsEmittedBeforeSelectedChild) {
  std::string root = MakeTempDir();
  WriteFile(root + "/x/y/keep.txt", "");
  WriteFile(root + "/x/y/drop.bin", "");
  WriteFile(root + "/x/other.bin", "");
  auto f = Filter::Create({"**/*.txt"}, {});
  ASSERT_TRUE(f.ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(Walk(root, &*f, [&](const Entry& e) {
                seen.push_back(e.rel);
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"x", "x/y", "x/y/keep.txt"}));
}

}  // namespace
}  // namespace kiln::fsutil
