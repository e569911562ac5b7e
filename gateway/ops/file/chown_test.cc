#include "gateway/ops/file/chown.h"

#include "gateway/fsutil/testing.h"
#include "gtest/gtest.h"

namespace kiln::ops {
namespace {

using fsutil::testing::MakeSymlink;
using fsutil::testing::MakeTempDir;
using fsutil::testing::WriteFile;

constexpr char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# comment lines are just odd names\n"
    "\n"
    "  app:x:1000:1001:App:/home/app:/bin/sh  \n"
    "weird:x:notanumber:7::/:/bin/false\n";
constexpr char kGroup[] =
    "root:x:0:\n"
    "staff:x:50:app\n";

class ChownTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dest_ = MakeTempDir() + "/dest";
    WriteFile(dest_ + "/etc/passwd", kPasswd);
    WriteFile(dest_ + "/etc/group", kGroup);
    other_ = MakeTempDir() + "/other";
    WriteFile(other_ + "/etc/passwd", "builder:x:4242:4343::/:/bin/sh\n");
    WriteFile(other_ + "/etc/group", "builders:x:777:\n");
  }
  absl::StatusOr<std::optional<Ownership>> Resolve(const pb::ChownOpt* opt) {
    return ResolveChown(
        opt,
        [this](int64_t input) -> absl::StatusOr<std::string> {
          inputs_asked_.push_back(input);
          if (input == 1) return other_;
          return absl::NotFoundError("no such input");
        },
        dest_);
  }
  static pb::ChownOpt ByName(const std::string& user, int64_t input) {
    pb::ChownOpt o;
    o.mutable_user()->mutable_byname()->set_name(user);
    o.mutable_user()->mutable_byname()->set_input(input);
    return o;
  }
  std::string dest_, other_;
  std::vector<int64_t> inputs_asked_;
};

TEST_F(ChownTest, AbsentOptKeepsOwner) {
  auto r = Resolve(nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
}

TEST_F(ChownTest, EmptyOptIsRoot) {
  pb::ChownOpt o;
  auto r = Resolve(&o);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, (Ownership{0, 0}));
}

TEST_F(ChownTest, UserIdAloneSetsGroupToo) {
  pb::ChownOpt o;
  o.mutable_user()->set_byid(33);
  auto r = Resolve(&o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(**r, (Ownership{33, 33}));
  o.mutable_group()->set_byid(44);
  r = Resolve(&o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(**r, (Ownership{33, 44}));
}

TEST_F(ChownTest, NameResolvedInDestinationPasswd) {
  pb::ChownOpt o = ByName("app", -1);
  auto r = Resolve(&o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(**r, (Ownership{1000, 1001}));
  EXPECT_TRUE(inputs_asked_.empty());
}

TEST_F(ChownTest, UnparsableIdsReadAsZero) {
  pb::ChownOpt o = ByName("weird", -1);
  auto r = Resolve(&o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(**r, (Ownership{0, 7}));
}

TEST_F(ChownTest, NamesResolvedInTheNamedInput) {
  pb::ChownOpt o = ByName("builder", 1);
  o.mutable_group()->mutable_byname()->set_name("staff");
  o.mutable_group()->mutable_byname()->set_input(-1);
  auto r = Resolve(&o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(**r, (Ownership{4242, 50}));
  EXPECT_EQ(inputs_asked_, (std::vector<int64_t>{1}));
}

TEST_F(ChownTest, UnknownUserIsInvalidArgument) {
  pb::ChownOpt o = ByName("nobody2", -1);
  auto r = Resolve(&o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "unknown user nobody2 in /etc/passwd");
}

TEST_F(ChownTest, UnknownGroupIsInvalidArgument) {
  pb::ChownOpt o;
  o.mutable_group()->mutable_byname()->set_name("wheel");
  o.mutable_group()->mutable_byname()->set_input(-1);
  auto r = Resolve(&o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "unknown group wheel in /etc/group");
}

TEST_F(ChownTest, MissingPasswdFileMeansUnknownUser) {
  std::string empty = MakeTempDir();
  pb::ChownOpt o = ByName("root", -1);
  auto r = ResolveChown(&o, nullptr, empty);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ChownTest, PasswdSymlinkCannotReachHostFiles) {
  std::string root = MakeTempDir() + "/r";
  MakeSymlink("../../../../../../../../etc/passwd-host", root + "/etc/passwd");
  pb::ChownOpt o = ByName("root", -1);
  auto r = ResolveChown(&o, nullptr, root);
  ASSERT_FALSE(r.ok());  // <root>/etc/passwd-host does not exist
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  WriteFile(root + "/etc/passwd-host", "root:x:9:9::/:/bin/sh\n");
  r = ResolveChown(&o, nullptr, root);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(**r, (Ownership{9, 9}));
}

TEST_F(ChownTest, InputErrorsPropagate) {
  pb::ChownOpt o = ByName("app", 5);
  EXPECT_EQ(Resolve(&o).status().code(), absl::StatusCode::kNotFound);
  pb::ChownOpt bad = ByName("app", -2);
  EXPECT_EQ(Resolve(&bad).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln::ops
