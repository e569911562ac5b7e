// The pieces of the runc executor that need no runc: user lookup, mount
// stubs, resolv.conf and JSON quoting.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gateway/ops/exec/internal/oci_config.h"
#include "gateway/ops/exec/internal/rootfs.h"
#include "gateway/ops/exec/internal/user.h"
#include "gtest/gtest.h"

namespace kiln::exec_internal {
namespace {

std::string NewDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(t ? t : "/tmp", "/", name);
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

void Spit(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

class ResolveUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = NewDir("users");
    ::mkdir((root_ + "/etc").c_str(), 0755);
    Spit(root_ + "/etc/passwd",
         "root:x:0:0:root:/root:/bin/sh\n# comment\nbroken\napp:x:1000:1001::/home/app:/bin/sh\n");
    Spit(root_ + "/etc/group", "root:x:0:\napp:x:1001:\ndocker:x:999:app,other\nwheel:x:10:app\n");
  }
  std::string root_;
};

TEST_F(ResolveUserTest, EmptyIsRoot) {
  absl::StatusOr<User> u = ResolveUser(root_, "");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->uid, 0u);
  EXPECT_EQ(u->gid, 0u);
}

TEST_F(ResolveUserTest, NameGetsPrimaryAndMemberGroups) {
  absl::StatusOr<User> u = ResolveUser(root_, "app");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 1001u);
  EXPECT_EQ(u->additional_gids, (std::vector<uint32_t>{999, 10}));
}

TEST_F(ResolveUserTest, NumericUidFindsItsEntry) {
  absl::StatusOr<User> u = ResolveUser(root_, "1000");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->gid, 1001u);
  EXPECT_EQ(u->additional_gids.size(), 2u);
}

TEST_F(ResolveUserTest, NumericUidWithoutEntryHasGroupZero) {
  absl::StatusOr<User> u = ResolveUser(root_, "4242");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->uid, 4242u);
  EXPECT_EQ(u->gid, 0u);
}

TEST_F(ResolveUserTest, ExplicitGroupByNameHasNoSupplementaryGroups) {
  absl::StatusOr<User> u = ResolveUser(root_, "app:docker");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 999u);
  EXPECT_TRUE(u->additional_gids.empty());
}

TEST_F(ResolveUserTest, NumericPairNeedsNoFiles) {
  absl::StatusOr<User> u = ResolveUser(NewDir("empty_root"), "12:34");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->uid, 12u);
  EXPECT_EQ(u->gid, 34u);
}

TEST_F(ResolveUserTest, UnknownNamesAreInvalidArgument) {
  absl::StatusOr<User> u = ResolveUser(root_, "ghost");
  EXPECT_EQ(u.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(u.status().message(), "unknown user ghost");
  u = ResolveUser(root_, "app:ghosts");
  EXPECT_EQ(u.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(u.status().message(), "unknown group ghosts");
}

TEST(MountStubsTest, RemovesOnlyEmptyStubsAndKeepsParentTimes) {
  std::string root = NewDir("stubs");
  ::mkdir((root + "/etc").c_str(), 0755);
  Spit(root + "/etc/hosts", "");  // existed before: never a stub
  absl::StatusOr<MountStubs> stubs =
      MountStubs::Record(root, {"/etc/hosts", "/etc/resolv.conf", "/a/b/c", "/d/e", "/"});
  ASSERT_TRUE(stubs.ok()) << stubs.status();
  EXPECT_EQ(stubs->paths().size(), 6u);
  // What runc would create, and a file the command left in one stub.
  Spit(root + "/etc/resolv.conf", "");
  ::mkdir((root + "/a").c_str(), 0755);
  ::mkdir((root + "/a/b").c_str(), 0755);
  ::mkdir((root + "/a/b/c").c_str(), 0755);
  ::mkdir((root + "/d").c_str(), 0755);
  ::mkdir((root + "/d/e").c_str(), 0755);
  Spit(root + "/d/kept", "x");
  struct timespec old[2] = {{1000, 0}, {2000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (root + "/etc").c_str(), old, 0), 0);
  stubs->Remove();
  EXPECT_TRUE(Exists(root + "/etc/hosts"));
  EXPECT_FALSE(Exists(root + "/etc/resolv.conf"));
  EXPECT_FALSE(Exists(root + "/a"));
  EXPECT_FALSE(Exists(root + "/d/e"));
  EXPECT_TRUE(Exists(root + "/d/kept"));
  struct stat st;
  ASSERT_EQ(::stat((root + "/etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 2000);
}

TEST(MakeWorkingDirTest, FileInTheWayIsInvalidArgument) {
  std::string root = NewDir("cwd");
  Spit(root + "/file", "x");
  absl::Status s = MakeWorkingDir(root, "/file/sub", 0, 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("/file/sub"), std::string::npos);
}

TEST(ResolvConfTest, SandboxDropsLoopbackNameservers) {
  std::string host = "search example.com\nnameserver 127.0.0.53\nnameserver 10.0.0.1\n";
  EXPECT_EQ(ResolvConf(host, true), host);
  EXPECT_EQ(ResolvConf(host, false), "search example.com\nnameserver 10.0.0.1\n");
}

TEST(OciConfigTest, QuotesAndNetworkNamespace) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  exec::Spec spec;
  spec.args = {"sh"};
  spec.rootfs = "/r";
  EXPECT_NE(OciConfig(spec, {}).find("{\"type\":\"network\"}"), std::string::npos);
  spec.network = pb::NetMode::HOST;
  EXPECT_EQ(OciConfig(spec, {}).find("{\"type\":\"network\"}"), std::string::npos);
}

}  // namespace
}  // namespace kiln::exec_internal
