#include "gateway/cache/snapshotter.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace kiln::cache {
namespace {

std::string TempDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  std::string d = std::string(t ? t : "/tmp") + "/" + name;
  mkdir(d.c_str(), 0755);
  return d;
}

void WriteFile(const std::string& path, const std::string& data) { std::ofstream(path) << data; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

class SnapshotterTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto s = NewSnapshotter(TempDir("snap-" + GetParam()), GetParam());
    ASSERT_TRUE(s.ok()) << s.status();
    s_ = std::move(*s);
  }

  // A chain with `name` holding `data`, on top of `parent`.
  Chain Layer(const Chain& parent, const std::string& name, const std::string& data) {
    auto a = s_->Prepare(parent);
    EXPECT_TRUE(a.ok()) << a.status();
    WriteFile((*a)->path() + "/" + name, data);
    auto c = (*a)->Commit();
    EXPECT_TRUE(c.ok()) << c.status();
    return c->chain;
  }

  std::unique_ptr<Snapshotter> s_;
};

TEST_P(SnapshotterTest, CommittedLayersStackAndStayImmutable) {
  Chain a = Layer({}, "a", "1");
  Chain ab = Layer(a, "b", "2");
  auto view = s_->View(ab);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(ReadFile((*view)->path() + "/a"), "1");
  EXPECT_EQ(ReadFile((*view)->path() + "/b"), "2");
  auto base = s_->View(a);
  ASSERT_TRUE(base.ok());
  EXPECT_FALSE(Exists((*base)->path() + "/b"));
}

TEST_P(SnapshotterTest, DeletionInUpperHidesLowerFile) {
  Chain a = Layer({}, "a", "1");
  auto active = s_->Prepare(a);
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(unlink(((*active)->path() + "/a").c_str()), 0);
  auto c = (*active)->Commit();
  ASSERT_TRUE(c.ok());
  auto view = s_->View(c->chain);
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(Exists((*view)->path() + "/a"));
}

TEST_P(SnapshotterTest, UncommittedWorkIsDiscarded) {
  Chain a = Layer({}, "a", "1");
  {
    auto active = s_->Prepare(a);
    ASSERT_TRUE(active.ok());
    WriteFile((*active)->path() + "/junk", "x");
  }
  auto view = s_->View(a);
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(Exists((*view)->path() + "/junk"));
}

TEST_P(SnapshotterTest, MergeLaysLaterInputsOnTop) {
  Chain x = Layer({}, "f", "x");
  Chain y = Layer(Layer({}, "g", "g"), "f", "y");
  auto m = s_->Merge({x, y});
  ASSERT_TRUE(m.ok()) << m.status();
  auto view = s_->View(m->chain);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(ReadFile((*view)->path() + "/f"), "y");
  EXPECT_EQ(ReadFile((*view)->path() + "/g"), "g");
}

TEST_P(SnapshotterTest, DiffHoldsOnlyWhatChanged) {
  Chain base = Layer({}, "a", "1");
  Chain upper = Layer(base, "b", "2");
  auto d = s_->Diff(base, upper);
  ASSERT_TRUE(d.ok()) << d.status();
  auto view = s_->View(d->chain);
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(Exists((*view)->path() + "/a"));
  EXPECT_EQ(ReadFile((*view)->path() + "/b"), "2");

  // Unrelated chains: the diff is computed by comparing trees.
  Chain other = Layer(Layer({}, "a", "changed"), "c", "3");
  auto d2 = s_->Diff(base, other);
  ASSERT_TRUE(d2.ok()) << d2.status();
  auto view2 = s_->View(d2->chain);
  ASSERT_TRUE(view2.ok());
  EXPECT_EQ(ReadFile((*view2)->path() + "/a"), "changed");
  EXPECT_EQ(ReadFile((*view2)->path() + "/c"), "3");
}

// A diff's deletions act when it is merged onto something, with either
// snapshotter; a later input can bring a deleted path back.
TEST_P(SnapshotterTest, MergeAppliesADiffsDeletions) {
  auto a = s_->Prepare({});
  ASSERT_TRUE(a.ok());
  WriteFile((*a)->path() + "/gone", "1");
  WriteFile((*a)->path() + "/kept", "2");
  ASSERT_EQ(mkdir(((*a)->path() + "/dir").c_str(), 0755), 0);
  WriteFile((*a)->path() + "/dir/old1", "o");
  WriteFile((*a)->path() + "/dir/old2", "o");
  auto base = (*a)->Commit();
  ASSERT_TRUE(base.ok());
  auto u = s_->Prepare(base->chain);
  ASSERT_TRUE(u.ok());
  ASSERT_EQ(unlink(((*u)->path() + "/gone").c_str()), 0);
  ASSERT_EQ(unlink(((*u)->path() + "/dir/old1").c_str()), 0);
  ASSERT_EQ(unlink(((*u)->path() + "/dir/old2").c_str()), 0);
  WriteFile((*u)->path() + "/dir/new", "n");
  WriteFile((*u)->path() + "/added", "3");
  auto upper = (*u)->Commit();
  ASSERT_TRUE(upper.ok());
  auto d = s_->Diff(base->chain, upper->chain);
  ASSERT_TRUE(d.ok()) << d.status();

  auto m = s_->Merge({base->chain, d->chain});
  ASSERT_TRUE(m.ok()) << m.status();
  auto view = s_->View(m->chain);
  ASSERT_TRUE(view.ok());
  const std::string& v = (*view)->path();
  EXPECT_FALSE(Exists(v + "/gone"));
  EXPECT_EQ(ReadFile(v + "/kept"), "2");
  EXPECT_EQ(ReadFile(v + "/added"), "3");
  EXPECT_FALSE(Exists(v + "/dir/old1"));
  EXPECT_FALSE(Exists(v + "/dir/old2"));
  EXPECT_EQ(ReadFile(v + "/dir/new"), "n");

  // The diff alone is only what it adds.
  auto dv = s_->View(d->chain);
  ASSERT_TRUE(dv.ok());
  EXPECT_FALSE(Exists((*dv)->path() + "/gone"));
  EXPECT_FALSE(Exists((*dv)->path() + "/kept"));
  EXPECT_EQ(ReadFile((*dv)->path() + "/added"), "3");

  // A later input brings a deleted path back.
  Chain again = Layer({}, "gone", "back");
  auto m2 = s_->Merge({base->chain, d->chain, again});
  ASSERT_TRUE(m2.ok()) << m2.status();
  auto v2 = s_->View(m2->chain);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(ReadFile((*v2)->path() + "/gone"), "back");
}

TEST_P(SnapshotterTest, MountingKeepsTheCallersWorkingDirectory) {
  std::string dir = TempDir("cwd-" + GetParam());
  ASSERT_EQ(chdir(dir.c_str()), 0);
  Chain a = Layer(Layer({}, "a", "1"), "b", "2");
  auto view = s_->View(a);
  ASSERT_TRUE(view.ok());
  char cwd[4096];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  EXPECT_EQ(std::string(cwd), dir);
}

INSTANTIATE_TEST_SUITE_P(Kinds, SnapshotterTest, ::testing::Values("overlay", "native"));

TEST(SnapshotterKindTest, UnknownKindIsInvalidArgument) {
  auto s = NewSnapshotter(TempDir("snap-bad"), "zfs");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln::cache
