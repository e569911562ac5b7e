#include "gateway/exporter/local.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "gateway/exporter/test_tree.h"
#include "gtest/gtest.h"

namespace kiln::exporter {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

struct stat Lstat(const std::string& path) {
  struct stat st = {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

class ExportLocalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTestDir("local");
    ASSERT_FALSE(dir_.empty());
    tree_ = std::make_unique<TestTree>(dir_ + "/root");
    tree_->Dir("bin")
        .File("bin/sh", "#!shell\n", 0755)
        .Owner("bin/sh", 1234, 5678)
        .Hardlink("bin/sh", "bin/sh-link")
        .Dir("etc")
        .Symlink("/etc/passwd", "etc/passwd-link")
        .Symlink("../bin/sh", "etc/rel")
        .Dir("ro", 0555)
        .File("ro/inside", "r", 0444)
        .Fifo("fifo", 0640)
        .File("setuid", "s", 04755);
    tree_->AllTimes(1500000000, 123456789);
    ASSERT_TRUE(tree_->status().ok()) << tree_->status();
    dest_ = dir_ + "/out/dest";
  }

  std::string dir_, dest_;
  std::unique_ptr<TestTree> tree_;
};

TEST_F(ExportLocalTest, RoundTripsTheTree) {
  ASSERT_TRUE(ExportLocal(tree_->root(), dest_, {}).ok());
  EXPECT_EQ(List(dest_), (std::vector<std::string>{"bin", "etc", "fifo", "ro", "setuid"}));
  EXPECT_EQ(ReadAll(dest_ + "/bin/sh"), "#!shell\n");
  EXPECT_EQ(Lstat(dest_ + "/bin/sh").st_mode & 07777, 0755u);
  EXPECT_EQ(Lstat(dest_ + "/setuid").st_mode & 07777, 04755u);
  EXPECT_EQ(Lstat(dest_ + "/ro").st_mode & 07777, 0555u);
  EXPECT_EQ(Lstat(dest_ + "/ro/inside").st_mode & 07777, 0444u);
  EXPECT_TRUE(S_ISFIFO(Lstat(dest_ + "/fifo").st_mode));
  EXPECT_EQ(Lstat(dest_ + "/fifo").st_mode & 07777, 0640u);
  // Links are written as they are, never followed.
  EXPECT_EQ(fs::read_symlink(dest_ + "/etc/passwd-link"), "/etc/passwd");
  EXPECT_EQ(fs::read_symlink(dest_ + "/etc/rel"), "../bin/sh");
  EXPECT_EQ(Lstat(dest_ + "/bin/sh").st_ino, Lstat(dest_ + "/bin/sh-link").st_ino);
  // Nanosecond mtimes, directories and symlinks included.
  for (const char* p : {"bin", "bin/sh", "etc/rel", "fifo", "ro"}) {
    struct stat st = Lstat(dest_ + "/" + p);
    EXPECT_EQ(st.st_mtim.tv_sec, 1500000000) << p;
    EXPECT_EQ(st.st_mtim.tv_nsec, 123456789) << p;
  }
  // BuildKit gives every path to the exporting user.
  EXPECT_EQ(Lstat(dest_ + "/bin/sh").st_uid, ::getuid());
  EXPECT_EQ(Lstat(dest_ + "/bin/sh").st_gid, ::getgid());
  // A new destination is created 0700 and published by one rename.
  EXPECT_EQ(Lstat(dest_).st_mode & 07777, 0700u);
  EXPECT_EQ(List(dir_ + "/out"), std::vector<std::string>{"dest"});
}

TEST_F(ExportLocalTest, PreserveOwnershipKeepsOwners) {
  LocalOptions opts;
  opts.preserve_ownership = true;
  ASSERT_TRUE(ExportLocal(tree_->root(), dest_, opts).ok());
  EXPECT_EQ(Lstat(dest_ + "/bin/sh").st_uid, 1234u);
  EXPECT_EQ(Lstat(dest_ + "/bin/sh").st_gid, 5678u);
  EXPECT_EQ(Lstat(dest_ + "/setuid").st_mode & 07777,
            04755u);  // chown came first
}

TEST_F(ExportLocalTest, XattrsAreCopiedAndFiltered) {
  if (!tree_->TrySetXattr("setuid", "user.kiln", "v")) GTEST_SKIP() << "no user xattrs here";
  tree_->TrySetXattr("setuid", "trusted.overlay.opaque", "y");
  ASSERT_TRUE(ExportLocal(tree_->root(), dest_, {}).ok());
  char buf[16] = {};
  EXPECT_EQ(::lgetxattr((dest_ + "/setuid").c_str(), "user.kiln", buf, sizeof(buf)), 1);
  EXPECT_EQ(std::string(buf), "v");
  EXPECT_LT(::lgetxattr((dest_ + "/setuid").c_str(), "trusted.overlay.opaque", buf, sizeof(buf)),
            0);
}

TEST_F(ExportLocalTest, SourceDateEpochSetsEveryTime) {
  LocalOptions opts;
  opts.source_date_epoch = Epoch{1234, EpochMode::kSetAll};
  ASSERT_TRUE(ExportLocal(tree_->root(), dest_, opts).ok());
  for (const char* p : {"bin", "bin/sh", "etc/passwd-link", "fifo", "ro/inside"}) {
    struct stat st = Lstat(dest_ + "/" + p);
    EXPECT_EQ(st.st_mtim.tv_sec, 1234) << p;
    EXPECT_EQ(st.st_mtim.tv_nsec, 0) << p;
  }
}

TEST_F(ExportLocalTest, ClampModeKeepsOlderTimes) {
  tree_->Time("setuid", 100);
  LocalOptions opts;
  opts.source_date_epoch = Epoch{200, EpochMode::kClampNewer};
  ASSERT_TRUE(ExportLocal(tree_->root(), dest_, opts).ok());
  EXPECT_EQ(Lstat(dest_ + "/setuid").st_mtime, 100);
  EXPECT_EQ(Lstat(dest_ + "/bin/sh").st_mtime, 200);
}

TEST_F(ExportLocalTest, MergesIntoExistingDestination) {
  TestTree old(dest_);
  old.File("extra.txt", "keep me")
      .File("setuid", "old contents", 0600)
      .File("bin", "a file where the tree has a directory")
      .Dir("etc", 0700)
      .File("etc/keep", "k")
      .Dir("fifo/sub");
  ASSERT_TRUE(old.status().ok());
  ASSERT_TRUE(ExportLocal(tree_->root(), dest_, {}).ok());
  EXPECT_EQ(List(dest_),
            (std::vector<std::string>{"bin", "etc", "extra.txt", "fifo", "ro", "setuid"}));
  EXPECT_EQ(ReadAll(dest_ + "/extra.txt"), "keep me");
  EXPECT_EQ(ReadAll(dest_ + "/setuid"), "s");
  EXPECT_EQ(Lstat(dest_ + "/setuid").st_mode & 07777, 04755u);
  EXPECT_EQ(ReadAll(dest_ + "/bin/sh"), "#!shell\n");
  EXPECT_EQ(ReadAll(dest_ + "/etc/keep"), "k");  // merged directory
  EXPECT_EQ(Lstat(dest_ + "/etc").st_mode & 07777, 0755u);
  EXPECT_EQ(Lstat(dest_ + "/etc").st_mtime, 1500000000);
  EXPECT_TRUE(S_ISFIFO(Lstat(dest_ + "/fifo").st_mode));             // a directory replaced
  EXPECT_EQ(List(dir_ + "/out"), std::vector<std::string>{"dest"});  // staging gone
}

TEST_F(ExportLocalTest, DeleteModeRemovesExtraneousPaths) {
  TestTree old(dest_);
  old.File("extra.txt", "x").Dir("etc").File("etc/keep", "k");
  LocalOptions opts;
  opts.delete_extraneous = true;
  ASSERT_TRUE(ExportLocal(tree_->root(), dest_, opts).ok());
  EXPECT_EQ(List(dest_), (std::vector<std::string>{"bin", "etc", "fifo", "ro", "setuid"}));
  EXPECT_EQ(List(dest_ + "/etc"), (std::vector<std::string>{"passwd-link", "rel"}));
}

TEST_F(ExportLocalTest, BadPathsFailWithoutSideEffects) {
  absl::Status s = ExportLocal(dir_ + "/missing", dest_, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_FALSE(fs::exists(dir_ + "/out"));
  EXPECT_EQ(ExportLocal(tree_->Path("setuid"), dest_, {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExportLocal(tree_->root(), tree_->Path("bin/out"), {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(tree_->Path("bin/out")));
  std::ofstream(dir_ + "/file") << "x";
  EXPECT_EQ(ExportLocal(tree_->root(), dir_ + "/file", {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(List(dir_), (std::vector<std::string>{"file", "root"}));
}

TEST_F(ExportLocalTest, CopyFailureLeavesDestinationUntouched) {
  tree_->File("big", std::string(256 << 10, 'z'));
  TestTree old(dest_);
  old.File("setuid", "old");
  struct rlimit prev;
  ::getrlimit(RLIMIT_FSIZE, &prev);
  struct rlimit small = {64 << 10, prev.rlim_max};
  sighandler_t handler = ::signal(SIGXFSZ, SIG_IGN);
  ::setrlimit(RLIMIT_FSIZE, &small);
  absl::Status s = ExportLocal(tree_->root(), dest_, {});
  ::setrlimit(RLIMIT_FSIZE, &prev);
  ::signal(SIGXFSZ, handler);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_EQ(List(dest_), std::vector<std::string>{"setuid"});
  EXPECT_EQ(ReadAll(dest_ + "/setuid"), "old");
  EXPECT_EQ(List(dir_ + "/out"), std::vector<std::string>{"dest"});
}

}  // namespace
}  // namespace kiln::exporter
