// kill -9 in the middle of a build leaves a consistent store: the next build
// succeeds, and afterwards every layer on disk is known to the index and
// nothing is left in tmp/.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/cache/index.h"
#include "gtest/gtest.h"
#include "sdk/llb/llb.h"
#include "tests/harness.h"

namespace kiln::testing {
namespace {

namespace llb = kiln::llb;

std::set<std::string> ListDir(const std::string& dir) {
  std::set<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (struct dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.insert(n);
  }
  closedir(d);
  return out;
}

TEST(CrashTest, KillDuringBuildLeavesAConsistentStore) {
  Harness h;
  std::string ctx = TempDir("ctx");
  for (int i = 0; i < 3000; ++i)
    WriteFile(absl::StrCat(ctx, "/f", i), std::string(4096, 'a' + i % 26));
  llb::State c = llb::Local("context");
  llb::State copy = llb::Scratch().File(llb::Copy(c, "/", "/src"));
  llb::State more = copy.File(llb::Mkfile("/done", 0644, "yes"));
  auto def = llb::Marshal(more);
  ASSERT_TRUE(def.ok());
  std::string path = h.WriteDefinition(*def);

  for (int delay_ms : {10, 40, 80, 150, 300}) {
    // A fresh context file each round, so every round has work to do.
    WriteFile(absl::StrCat(ctx, "/round"), absl::StrCat(delay_ms));
    pid_t pid = fork();
    if (pid == 0) {
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      dup2(null, 2);
      std::string bin = KilnBinary();
      execl(bin.c_str(), bin.c_str(), "--root", h.root().c_str(), "build", "--llb", path.c_str(),
            ctx.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    absl::SleepFor(absl::Milliseconds(delay_ms));
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);

    std::string out = TempDir("out");
    KilnRun r = h.Build(*def, {ctx, "--output", "type=local,dest=" + out});
    ASSERT_EQ(r.exit_code, 0) << "after kill at " << delay_ms << "ms: " << r.err;
    EXPECT_EQ(ReadFile(out + "/done"), "yes");
    EXPECT_EQ(ReadFile(out + "/src/f7"), std::string(4096, 'a' + 7));
    KilnRun du = h.Run({"du"});
    ASSERT_EQ(du.exit_code, 0) << du.err;
  }

  // One more open alone sweeps; then disk and index agree.
  ASSERT_EQ(h.Run({"du"}).exit_code, 0);
  auto index = cache::CacheIndex::Open(h.root() + "/kiln.db");
  ASSERT_TRUE(index.ok());
  auto known = (*index)->AllLayers();
  ASSERT_TRUE(known.ok());
  EXPECT_EQ(ListDir(h.root() + "/layers"), std::set<std::string>(known->begin(), known->end()));
  EXPECT_TRUE(ListDir(h.root() + "/tmp").empty());
}

}  // namespace
}  // namespace kiln::testing
