// End to end: the kiln binary, the embedded engine, real files. Cache
// behaviour is read from rawjson progress: which steps ran, which were cached.
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sdk/llb/llb.h"
#include "tests/harness.h"

namespace kiln::testing {
namespace {

namespace llb = kiln::llb;

llb::OpOptions Named(const std::string& name) {
  llb::OpOptions o;
  o.custom_name = name;
  return o;
}

// context -> copy a.txt, copy b.txt; a static mkfile; all merged.
pb::Definition CopyGraph() {
  llb::LocalOptions lo;
  lo.op = Named("context");
  llb::State ctx = llb::Local("context", lo);
  llb::State a = llb::Scratch().File(llb::Copy(ctx, "/a.txt", "/a.txt"), Named("copy a"));
  llb::State b = llb::Scratch().File(llb::Copy(ctx, "/b.txt", "/b.txt"), Named("copy b"));
  llb::State s = llb::Scratch().File(llb::Mkfile("/static", 0644, "s\n"), Named("mkfile static"));
  auto def = llb::Marshal(llb::Merge({a, b, s}, Named("merge")));
  EXPECT_TRUE(def.ok()) << def.status();
  return *def;
}

class BuildCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ctx_ = TempDir("ctx");
    WriteFile(ctx_ + "/a.txt", "a1\n");
    WriteFile(ctx_ + "/b.txt", "b1\n");
    WriteFile(ctx_ + "/unrelated", "u\n");
  }
  KilnRun Build(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {ctx_, "--output", "type=local,dest=" + out_};
    args.insert(args.end(), extra.begin(), extra.end());
    KilnRun r = h_.Build(CopyGraph(), args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  }

  Harness h_;
  std::string ctx_;
  std::string out_ = TempDir("out");
};

TEST_F(BuildCacheTest, FirstBuildRunsEverythingAndExports) {
  KilnRun r = Build();
  EXPECT_EQ(r.Ran(), 5) << r.err;
  EXPECT_EQ(ReadFile(out_ + "/a.txt"), "a1\n");
  EXPECT_EQ(ReadFile(out_ + "/b.txt"), "b1\n");
  EXPECT_EQ(ReadFile(out_ + "/static"), "s\n");
  EXPECT_NE(access((out_ + "/unrelated").c_str(), F_OK), 0);
}

TEST_F(BuildCacheTest, SecondIdenticalBuildRunsNothingInANewProcess) {
  Build();
  KilnRun r = Build();
  EXPECT_EQ(r.Ran(), 0) << r.err;
  EXPECT_EQ(r.Cached(), 5);
}

TEST_F(BuildCacheTest, ChangingOneFileRerunsOnlyWhatDependsOnIt) {
  Build();
  WriteFile(ctx_ + "/a.txt", "a2\n");
  KilnRun r = Build();
  EXPECT_TRUE(r.RanStep("context"));
  EXPECT_TRUE(r.RanStep("copy a"));
  EXPECT_TRUE(r.RanStep("merge"));
  EXPECT_FALSE(r.RanStep("copy b")) << r.err;
  EXPECT_FALSE(r.RanStep("mkfile static"));
  EXPECT_EQ(r.Ran(), 3);
  EXPECT_EQ(ReadFile(out_ + "/a.txt"), "a2\n");
}

TEST_F(BuildCacheTest, ChangingAnUnusedFileRerunsOnlyTheTransfer) {
  Build();
  WriteFile(ctx_ + "/unrelated", "changed\n");
  KilnRun r = Build();
  EXPECT_TRUE(r.RanStep("context"));
  EXPECT_EQ(r.Ran(), 1) << r.err;
}

TEST_F(BuildCacheTest, TouchingAFileRerunsNothing) {
  Build();
  struct timeval later[2] = {{2000000000, 0}, {2000000000, 0}};
  ASSERT_EQ(utimes((ctx_ + "/a.txt").c_str(), later), 0);
  KilnRun r = Build();
  EXPECT_EQ(r.Ran(), 0) << r.err;
}

TEST_F(BuildCacheTest, NoCacheRunsEverything) {
  Build();
  KilnRun r = Build({"--no-cache"});
  EXPECT_EQ(r.Ran(), 5) << r.err;
}

TEST_F(BuildCacheTest, ConcurrentBuildsInTwoProcessesRunEachStepOnce) {
  for (int i = 0; i < 2000; ++i) WriteFile(absl::StrCat(ctx_, "/f", i), std::string(512, 'x'));
  KilnRun r1, r2;
  std::thread t1([&] { r1 = Build(); });
  std::thread t2([&] { r2 = Build(); });
  t1.join();
  t2.join();
  EXPECT_EQ(r1.Ran() + r2.Ran(), 5) << r1.err << r2.err;
  EXPECT_EQ(r1.Cached() + r2.Cached(), 5);
}

TEST_F(BuildCacheTest, DuListsRecordsAndPruneEmptiesTheCache) {
  Build();
  KilnRun du = h_.Run({"du"});
  ASSERT_EQ(du.exit_code, 0) << du.err;
  EXPECT_NE(du.out.find("copy a"), std::string::npos) << du.out;
  EXPECT_NE(du.out.find("in 5 records"), std::string::npos) << du.out;
  KilnRun prune = h_.Run({"prune", "--all"});
  ASSERT_EQ(prune.exit_code, 0) << prune.err;
  EXPECT_NE(prune.out.find("Removed 5 records"), std::string::npos) << prune.out;
  KilnRun after = h_.Run({"du"});
  EXPECT_NE(after.out.find("in 0 records"), std::string::npos) << after.out;
  KilnRun rebuilt = Build();
  EXPECT_EQ(rebuilt.Ran(), 5);
}

TEST_F(BuildCacheTest, PruneKeepStorageKeepsRecentRecordsWithinBudget) {
  Build();
  KilnRun prune = h_.Run({"prune", "--keep-storage", "1GB"});
  ASSERT_EQ(prune.exit_code, 0) << prune.err;
  EXPECT_NE(prune.out.find("Removed 0 records"), std::string::npos) << prune.out;
  KilnRun bad = h_.Run({"prune", "--keep-storage", "lots"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("not a size"), std::string::npos);
}

TEST_F(BuildCacheTest, TarOutputIsSortedAndReproducibleWithSourceDateEpoch) {
  Build();
  std::string t1 = TempDir("tar") + "/a.tar", t2 = TempDir("tar") + "/b.tar";
  setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
  ASSERT_EQ(h_.Build(CopyGraph(), {ctx_, "--output", "type=tar,dest=" + t1}).exit_code, 0);
  struct timeval later[2] = {{2000000000, 0}, {2000000000, 0}};
  utimes((ctx_ + "/a.txt").c_str(), later);
  ASSERT_EQ(
      h_.Build(CopyGraph(), {ctx_, "--no-cache", "--output", "type=tar,dest=" + t2}).exit_code, 0);
  unsetenv("SOURCE_DATE_EPOCH");
  std::string a = ReadFile(t1), b = ReadFile(t2);
  EXPECT_GT(a.size(), 0u);
  EXPECT_EQ(a, b);
}

TEST(FileOpTest, MultiActionResultSurvivesTheNextProcess) {
  // Each action of one file op writes a layer; all of them must be recorded,
  // or the next process sweeps the intermediate ones away.
  Harness h;
  llb::State s = llb::Scratch().File(
      llb::Mkdir("/d", 0755).Mkfile("/d/a", 0644, "a").Mkfile("/d/b", 0644, "b"));
  auto def = llb::Marshal(s);
  ASSERT_TRUE(def.ok());
  std::string out1 = TempDir("out"), out2 = TempDir("out");
  ASSERT_EQ(h.Build(*def, {"--output", "type=local,dest=" + out1}).exit_code, 0);
  KilnRun again = h.Build(*def, {"--output", "type=local,dest=" + out2});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.Ran(), 0);
  EXPECT_EQ(ReadFile(out2 + "/d/a"), "a");
  EXPECT_EQ(ReadFile(out2 + "/d/b"), "b");
}

}  // namespace
}  // namespace kiln::testing
