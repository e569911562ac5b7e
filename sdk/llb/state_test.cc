#include "sdk/llb/state.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sdk/llb/llb.h"

namespace kiln::llb {
namespace {

using Strings = std::vector<std::string>;

TEST(StateTest, DefaultsMatchGoNewState) {
  State s;
  EXPECT_TRUE(s.IsScratch());
  EXPECT_EQ(s.GetDir(), "/");
  EXPECT_TRUE(s.Env().empty());
  EXPECT_EQ(s.GetUser(), "");
  EXPECT_EQ(s.GetNetwork(), pb::UNSET);
  EXPECT_EQ(s.GetSecurity(), pb::SANDBOX);
  EXPECT_FALSE(s.GetPlatform().has_value());
}

TEST(StateTest, MethodsLeaveTheReceiverUnchanged) {
  State a = Scratch().AddEnv("A", "1");
  State b = a.AddEnv("B", "2").Dir("/x").User("me");
  EXPECT_EQ(a.Env(), Strings{"A=1"});
  EXPECT_EQ(a.GetDir(), "/");
  EXPECT_EQ(a.GetUser(), "");
  EXPECT_EQ(b.Env(), (Strings{"A=1", "B=2"}));
  EXPECT_EQ(b.GetUser(), "me");
}

TEST(StateTest, ReplacingAnEnvMovesItLast) {
  State s = Scratch().AddEnv("A", "1").AddEnv("B", "2").AddEnv("A", "3");
  EXPECT_EQ(s.Env(), (Strings{"B=2", "A=3"}));
  EXPECT_EQ(s.GetEnv("A"), "3");
  EXPECT_FALSE(s.GetEnv("C").has_value());
}

TEST(StateTest, RelativeDirJoinsAndAbsoluteDirIsKept) {
  State s = Scratch().Dir("work").Dir("../src/./app");
  EXPECT_EQ(s.GetDir(), "/src/app");
  EXPECT_EQ(s.Dir("/abs//raw/").GetDir(), "/abs//raw/");
  EXPECT_EQ(s.Dir("").GetDir(), "/src/app");
}

TEST(StateTest, PlatformIsNormalized) {
  State s = Scratch().WithPlatform({"Linux", "aarch64", "v8"});
  ASSERT_TRUE(s.GetPlatform().has_value());
  EXPECT_EQ(*s.GetPlatform(), (Platform{"linux", "arm64"}));
}

TEST(StateTest, FileAndRunKeepTheStateMeta) {
  State base = Image("busybox").AddEnv("K", "v").Dir("/w").User("u");
  State after_file = base.File(Mkdir("d", 0755));
  EXPECT_FALSE(after_file.IsScratch());
  EXPECT_EQ(after_file.Env(), Strings{"K=v"});
  EXPECT_EQ(after_file.GetDir(), "/w");
  RunOptions run;
  run.args = {"true"};
  run.env = {{"ONLY_IN_RUN", "1"}};
  State after_run = base.Run(run).Root();
  EXPECT_EQ(after_run.Env(), Strings{"K=v"});
  EXPECT_EQ(after_run.GetUser(), "u");
}

TEST(PlatformTest, NormalizesArchitecturesLikeContainerd) {
  EXPECT_EQ((Platform{"", "x86_64"}.Normalized()), (Platform{"linux", "amd64"}));
  EXPECT_EQ((Platform{"linux", "armhf"}.Normalized()), (Platform{"linux", "arm", "v7"}));
  EXPECT_EQ((Platform{"linux", "arm"}.Normalized()), (Platform{"linux", "arm", "v7"}));
  EXPECT_EQ((Platform{"linux", "arm", "6"}.Normalized()), (Platform{"linux", "arm", "v6"}));
  EXPECT_EQ((Platform{"linux", "i386"}.Normalized()), (Platform{"linux", "386"}));
  EXPECT_EQ((Platform{"MacOS", "arm64", "v8.0"}.Normalized()), (Platform{"darwin", "arm64"}));
  EXPECT_EQ(Platform::Host(), Platform::Host().Normalized());
}

}  // namespace
}  // namespace kiln::llb
