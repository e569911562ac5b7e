// The YAML frontend end to end: the sample spec, `# syntax=yaml.v0`
// detection, build args and targets, errors, and a spec against the
// Dockerfile that says the same thing (same files, shared cache).
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/harness.h"

namespace kiln::testing {
namespace {

class YamlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = ImportBusybox(h_);
    if (!why.empty()) GTEST_SKIP() << why;
    out_ = TempDir("out");
    // The sample's context, copied out of the runfiles.
    sample_ = TempDir("sample");
    ASSERT_EQ(system(("cp -rL samples/yaml/app samples/yaml/kiln.yaml " + sample_).c_str()), 0);
  }

  KilnRun Build(std::vector<std::string> args) {
    args.insert(args.begin(), {"build", "--progress", "plain"});
    return h_.Run(args);
  }

  std::string Out(const std::string& p) { return out_ + p; }

  Harness h_;
  std::string out_, sample_;
};

TEST_F(YamlTest, TheSampleBuildsWithNoFrontendFlag) {
  KilnRun r =
      Build({"-f", sample_ + "/kiln.yaml", "-o", "type=local,dest=" + out_, sample_ + "/app"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(Out("/usr/local/share/wordcount/VERSION")), "1.0\n");
  struct stat st;
  ASSERT_EQ(stat(Out("/usr/local/bin/wordcount").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  char link[256] = {};
  ASSERT_GT(readlink(Out("/usr/local/bin/wc2").c_str(), link, sizeof link - 1), 0);
  EXPECT_STREQ(link, "wordcount");
  ASSERT_EQ(stat(Out("/data").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_TRUE(absl::StrContains(ReadFile(Out("/usr/local/bin/wordcount")),
                                "built by kiln's yaml.v0 frontend"));
  EXPECT_TRUE(absl::StrContains(r.err, "[final 4/4] symlink")) << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "[test ")) << "only the stages the target needs";

  // The test stage, on request, runs the tool's tests on the cached build.
  r = Build({"-f", sample_ + "/kiln.yaml", "--target", "test", sample_ + "/app"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "wordcount: all tests pass")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "CACHED")) << r.err;
}

TEST_F(YamlTest, BuildArgsAndTheDefaultFilename) {
  std::string ctx = TempDir("ctx");
  WriteFile(ctx + "/kiln.yaml",
            "version: 1\nargs:\n  WHO: world\n  TAG:\nstages:\n  a:\n    from: busybox\n"
            "    steps:\n      - run: echo \"hello ${WHO} $$(id -u)\" > /greeting\n"
            "      - file: /tag\n        content: ${TAG}\n");
  KilnRun r = Build({"--frontend", "yaml.v0", "--build-arg", "TAG=v2", "--build-arg", "WHO=kiln",
                     "-o", "type=local,dest=" + out_, ctx});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(Out("/greeting")), "hello kiln 0\n");
  EXPECT_EQ(ReadFile(Out("/tag")), "v2");
  r = Build({"--frontend", "yaml.v0", ctx});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "kiln.yaml:11:18: build arg TAG is not set")) << r.err;
}

TEST_F(YamlTest, EveryErrorIsReportedBeforeAnythingRuns) {
  std::string ctx = TempDir("ctx");
  WriteFile(ctx + "/build.yaml",
            "# syntax=yaml.v0\nversion: 1\nstages:\n  a:\n    from: busybox\n    steps:\n"
            "      - run: touch /ran\n      - mkdir: /d\n        mode: rwx\n"
            "      - copy: x\n        form: a\n");
  KilnRun r = Build({"-f", ctx + "/build.yaml", ctx});
  EXPECT_EQ(r.exit_code, 1);
  std::vector<std::string> lines;
  for (absl::string_view l : absl::StrSplit(r.err, '\n')) {
    if (absl::StrContains(l, "build.yaml:")) lines.emplace_back(l);
  }
  ASSERT_EQ(lines.size(), 3u) << r.err;
  EXPECT_TRUE(absl::StrContains(lines[0], "build.yaml:9:15: bad mode \"rwx\"")) << r.err;
  EXPECT_TRUE(absl::StrContains(lines[1], "build.yaml:10:9: a copy step is missing")) << r.err;
  EXPECT_TRUE(absl::StrContains(lines[2], "build.yaml:11:9: unknown key \"form\"")) << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "touch /ran")) << "nothing ran";
}

TEST_F(YamlTest, ASpecWithoutItsSyntaxLineGetsAHint) {
  std::string ctx = TempDir("ctx");
  WriteFile(ctx + "/build.yml", "version: 1\nstages:\n  a:\n    from: busybox\n");
  KilnRun r = Build({"-f", ctx + "/build.yml", ctx});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "build.yml was read as a Dockerfile")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "--frontend yaml.v0")) << r.err;
  r = Build(
      {"--frontend", "yaml.v0", "-f", ctx + "/build.yml", "-o", "type=local,dest=" + out_, ctx});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(YamlTest, SameFilesAsTheDockerfileAndSharedCache) {
  std::string ctx = TempDir("ctx");
  ASSERT_EQ(system(("mkdir -p " + ctx + "/src/sub").c_str()), 0);
  WriteFile(ctx + "/src/a.txt", "a\n");
  WriteFile(ctx + "/src/sub/b.txt", "b\n");
  WriteFile(ctx + "/src/skip.log", "log\n");
  WriteFile(ctx + "/spec.yaml",
            "# syntax=yaml.v0\nversion: 1\nstages:\n"
            "  build:\n    from: busybox\n    env: {LANG: C.UTF-8}\n    workdir: /src\n"
            "    steps:\n"
            "      - copy: src/\n        to: /src/\n        chown: \"1000:1000\"\n"
            "        exclude: [\"*.log\"]\n"
            "      - run: cat /proc/sys/kernel/random/uuid > /id && ls -ln /src > /listing\n"
            "        mounts: [{type: cache, target: /cache, id: eq}]\n"
            "  final:\n    from: busybox\n    steps:\n"
            "      - copy: [/id, /listing]\n        from: build\n        to: /out/\n"
            "        chmod: \"0640\"\n");
  WriteFile(ctx + "/Dockerfile",
            "FROM busybox AS build\nENV LANG=C.UTF-8\nWORKDIR /src\n"
            "COPY --chown=1000:1000 --exclude=*.log src/ /src/\n"
            "RUN --mount=type=cache,target=/cache,id=eq "
            "cat /proc/sys/kernel/random/uuid > /id && ls -ln /src > /listing\n"
            "FROM busybox AS final\nCOPY --from=build --chmod=0640 /id /listing /out/\n");
  std::string yaml_tar = out_ + "/yaml.tar", docker_tar = out_ + "/docker.tar";
  KilnRun y = Build({"-f", ctx + "/spec.yaml", "-o", "type=tar,dest=" + yaml_tar, ctx});
  ASSERT_EQ(y.exit_code, 0) << y.err;
  KilnRun d = h_.Run({"build", "--progress", "rawjson", "-f", ctx + "/Dockerfile", "-o",
                      "type=tar,dest=" + docker_tar, ctx});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  // The Dockerfile build ran no step of its own: the spec's build made them.
  EXPECT_GE(d.Cached(), 4) << d.err;
  EXPECT_FALSE(d.RanStep("RUN")) << d.err;
  EXPECT_FALSE(d.RanStep("COPY")) << d.err;
  std::string ym = FsManifest(yaml_tar), dm = FsManifest(docker_tar);
  ASSERT_FALSE(ym.empty());
  EXPECT_TRUE(absl::StrContains(ym, "out/listing")) << ym;
  EXPECT_EQ(ym, dm) << "the same files, and the same /id: the RUN came from the cache";
}

}  // namespace
}  // namespace kiln::testing
