#include "gateway/fsutil/testing.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/tree.h"
#include "gateway/fsutil/walk.h"
#include "gtest/gtest.h"

namespace kiln::fsutil::testing {

std::string MakeTempDir() {
  static std::atomic<int> counter{0};
  const char* base = getenv("TEST_TMPDIR");
  std::string dir =
      absl::StrCat(base != nullptr ? base : "/tmp", "/fsutil.", getpid(), ".", counter++);
  RemoveAll(dir).IgnoreError();
  auto made = MkdirAll(dir, 0755, std::nullopt, std::nullopt);
  if (!made.ok()) ADD_FAILURE() << made.status();
  return dir;
}

static void MakeParents(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return;
  auto made = MkdirAll(path.substr(0, slash), 0755, std::nullopt, std::nullopt);
  if (!made.ok()) ADD_FAILURE() << made.status();
}

void WriteFile(const std::string& path, const std::string& content, mode_t mode) {
  MakeParents(path);
  unlink(path.c_str());
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  close(fd);
  ASSERT_EQ(chmod(path.c_str(), mode), 0);
}

void MakeDir(const std::string& path, mode_t mode) {
  auto made = MkdirAll(path, mode, std::nullopt, std::nullopt);
  ASSERT_TRUE(made.ok()) << made.status();
  ASSERT_EQ(chmod(path.c_str(), mode), 0);
}

void MakeSymlink(const std::string& target, const std::string& path) {
  MakeParents(path);
  ASSERT_EQ(symlink(target.c_str(), path.c_str()), 0) << path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct stat Lstat(const std::string& path) {
  struct stat st = {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st;
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

void SetMtime(const std::string& path, int64_t sec, int64_t nsec) {
  absl::Status s = SetTimes(path, sec * 1000000000 + nsec, sec * 1000000000 + nsec);
  ASSERT_TRUE(s.ok()) << s;
}

std::vector<std::string> ListTree(const std::string& root) {
  std::vector<std::string> out;
  absl::Status s = Walk(root, nullptr, [&](const Entry& e) {
    if (S_ISDIR(e.st.st_mode)) {
      out.push_back(e.rel + "/");
    } else if (S_ISLNK(e.st.st_mode)) {
      out.push_back(e.rel + "->" + e.link_target);
    } else {
      out.push_back(e.rel);
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

}  // namespace kiln::fsutil::testing
