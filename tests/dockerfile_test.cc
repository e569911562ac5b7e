// The Dockerfile frontend end to end, for what the conformance corpus cannot
// compare with its reference (Docker 20.10's BuildKit lacks heredocs,
// --link, --parents and --exclude): each checked against BuildKit's
// documented behaviour. Also `# syntax=`, errors and reproducible images.
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/harness.h"

namespace kiln::testing {
namespace {

class DockerfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = ImportBusybox(h_);
    if (!why.empty()) GTEST_SKIP() << why;
    ctx_ = TempDir("ctx");
    out_ = TempDir("out");
  }

  KilnRun Build(const std::string& dockerfile, std::vector<std::string> extra = {}) {
    WriteFile(ctx_ + "/Dockerfile", dockerfile);
    std::vector<std::string> args = {"build", "--progress", "plain", "-o",
                                     "type=local,dest=" + out_};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(ctx_);
    return h_.Run(args);
  }

  bool Exists(const std::string& p) { return access((out_ + p).c_str(), F_OK) == 0; }

  Harness h_;
  std::string ctx_, out_;
};

TEST_F(DockerfileTest, HeredocsRunAsScriptsAndBecomeFiles) {
  KilnRun r = Build(
      "FROM busybox\n"
      "ARG NAME=world\n"
      "RUN <<EOF\necho one > /one\necho two >> /one\nEOF\n"
      "RUN <<-EOF\n\techo tabs > /tabs\n\tEOF\n"
      "RUN <<EOF\n#!/bin/sh\necho \"from a script $0\" > /script\nEOF\n"
      "COPY <<EOF /greeting\nhello $NAME\nEOF\n"
      "COPY <<'EOF' /literal\nhello $NAME\nEOF\n"
      "COPY <<A <<B /pair/\nalpha\nA\nbeta\nB\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(out_ + "/one"), "one\ntwo\n");
  EXPECT_EQ(ReadFile(out_ + "/tabs"), "tabs\n");
  EXPECT_EQ(ReadFile(out_ + "/script"), "from a script /dev/pipes/EOF\n");
  EXPECT_EQ(ReadFile(out_ + "/greeting"), "hello world\n");
  EXPECT_EQ(ReadFile(out_ + "/literal"), "hello $NAME\n");
  EXPECT_EQ(ReadFile(out_ + "/pair/A"), "alpha\n");
  EXPECT_EQ(ReadFile(out_ + "/pair/B"), "beta\n");
  EXPECT_FALSE(Exists("/dev/pipes/EOF"));
}

TEST_F(DockerfileTest, CopyLinkParentsAndExclude) {
  ASSERT_EQ(system(("mkdir -p " + ctx_ + "/src/a " + ctx_ + "/src/b/deep").c_str()), 0);
  WriteFile(ctx_ + "/src/a/keep.txt", "keep\n");
  WriteFile(ctx_ + "/src/a/drop.log", "drop\n");
  WriteFile(ctx_ + "/src/b/deep/x.txt", "x\n");
  KilnRun r = Build(
      "FROM busybox\n"
      "COPY --link src/a /linked/\n"
      "COPY --parents src/./b/deep/x.txt /parents/\n"
      "COPY --exclude=*.log src/a /excluded/\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(out_ + "/linked/keep.txt"), "keep\n");
  EXPECT_TRUE(Exists("/bin/busybox")) << "--link keeps the layers below";
  EXPECT_EQ(ReadFile(out_ + "/parents/b/deep/x.txt"), "x\n");
  EXPECT_TRUE(Exists("/excluded/keep.txt"));
  EXPECT_FALSE(Exists("/excluded/drop.log"));
}

TEST_F(DockerfileTest, DockerignoreKeepsFilesOutOfTheContext) {
  WriteFile(ctx_ + "/.dockerignore", "# comment\n*.secret\n!keep.secret\n");
  WriteFile(ctx_ + "/a.secret", "no\n");
  WriteFile(ctx_ + "/keep.secret", "yes\n");
  WriteFile(ctx_ + "/plain", "p\n");
  KilnRun r = Build("FROM busybox\nCOPY . /ctx/\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(Exists("/ctx/a.secret"));
  EXPECT_TRUE(Exists("/ctx/keep.secret"));
  EXPECT_TRUE(Exists("/ctx/plain"));
}

TEST_F(DockerfileTest, SyntaxDirective) {
  KilnRun served = Build("# syntax=docker/dockerfile:1.7\nFROM busybox\nRUN echo hi > /hi\n");
  ASSERT_EQ(served.exit_code, 0) << served.err;
  EXPECT_TRUE(absl::StrContains(served.err, "served by kiln's built-in dockerfile.v0"))
      << served.err;
  KilnRun other = Build("# syntax=example.com/my/frontend:2\nFROM busybox\n");
  EXPECT_NE(other.exit_code, 0);
  // Run through kiln-gateway, which finds no such image here.
  EXPECT_TRUE(absl::StrContains(other.err, "frontend image example.com/my/frontend:2"))
      << other.err;
  EXPECT_TRUE(absl::StrContains(other.err, "not in kiln's image store")) << other.err;
}

TEST_F(DockerfileTest, ErrorsNameTheLine) {
  KilnRun typo = Build("FROM busybox\n\nRUNN echo\n");
  EXPECT_NE(typo.exit_code, 0);
  EXPECT_TRUE(
      absl::StrContains(typo.err, "Dockerfile:3: unknown instruction: RUNN (did you mean RUN?)"))
      << typo.err;
  KilnRun failing = Build("FROM busybox\nRUN true\nRUN exit 3\n");
  EXPECT_NE(failing.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(failing.err, "(Dockerfile:3)")) << failing.err;
  EXPECT_TRUE(absl::StrContains(failing.err, "exit code: 3")) << failing.err;
  KilnRun missing = Build("FROM nosuchimage\n");
  EXPECT_TRUE(absl::StrContains(missing.err, "kiln image import")) << missing.err;
}

TEST_F(DockerfileTest, ProxyArgsReachRunWithoutChangingTheCacheKey) {
  std::string df = "FROM busybox\nRUN echo \"$HTTP_PROXY $http_proxy\" > /proxy\n";
  KilnRun first = Build(df, {"--build-arg", "HTTP_PROXY=http://a:1"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(ReadFile(out_ + "/proxy"), "http://a:1 http://a:1\n");
  KilnRun second = Build(df, {"--build-arg", "HTTP_PROXY=http://b:2"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_TRUE(absl::StrContains(second.err, "CACHED")) << second.err;
  EXPECT_FALSE(absl::StrContains(second.err, "DONE")) << "nothing should run again";
}

TEST_F(DockerfileTest, SameInputGivesTheSameImageWithSourceDateEpoch) {
  WriteFile(ctx_ + "/f", "content\n");
  std::string df = "FROM busybox\nCOPY f /f\nRUN echo built > /b\nCMD [\"cat\", \"/b\"]\n";
  setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
  std::string a = out_ + "/a.tar", b = out_ + "/b.tar";
  KilnRun first = Build(df, {"-o", "type=oci,dest=" + a});
  // A second, cold build in another state root must give the same bytes.
  Harness other;
  ASSERT_EQ(ImportBusybox(other), "");
  KilnRun second = other.Run({"build", "--progress", "plain", "-o", "type=oci,dest=" + b, ctx_});
  unsetenv("SOURCE_DATE_EPOCH");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(ReadFile(a), ReadFile(b));
  EXPECT_TRUE(absl::StrContains(ReadFile(a), "\"Cmd\":[\"cat\",\"/b\"]"));
}

// One layer per step, as BuildKit lays an image out: a COPY of three files
// (one file op of three actions) is one layer, not three.
TEST_F(DockerfileTest, OneLayerPerStep) {
  for (const char* f : {"a", "b", "c"}) WriteFile(ctx_ + "/" + f, f);
  std::string oci = out_ + "/img.tar";
  KilnRun r =
      Build("FROM busybox\nCOPY a b c /dst/\nRUN rm /dst/a\n", {"-o", "type=oci,dest=" + oci});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string dir = TempDir("unpacked");
  ASSERT_EQ(system(("tar -C " + dir + " -xf " + oci).c_str()), 0);
  std::string index = ReadFile(dir + "/index.json");
  size_t at = index.find("sha256:");
  ASSERT_NE(at, std::string::npos) << index;
  std::string manifest = ReadFile(dir + "/blobs/sha256/" + index.substr(at + 7, 64));
  size_t layers = 0;
  for (size_t p = manifest.find("\"layers\"");
       (p = manifest.find("tar+gzip", p)) != std::string::npos; ++p) {
    ++layers;
  }
  EXPECT_EQ(layers, 3u) << "busybox, the COPY and the RUN: " << manifest;
  // The build's files are right too (the RUN saw all three copies).
  KilnRun local = Build("FROM busybox\nCOPY a b c /dst/\nRUN rm /dst/a\n");
  ASSERT_EQ(local.exit_code, 0) << local.err;
  EXPECT_FALSE(Exists("/dst/a"));
  EXPECT_EQ(ReadFile(out_ + "/dst/b"), "b");
  EXPECT_EQ(ReadFile(out_ + "/dst/c"), "c");
}

// The context is narrowed to what the build reads (local.followpaths): a
// change elsewhere in it does not even reload the context, and a source
// reached through a symlink still arrives.
TEST_F(DockerfileTest, OnlyThePathsTheBuildReadsAreLoaded) {
  ASSERT_EQ(mkdir((ctx_ + "/real").c_str(), 0755), 0);
  WriteFile(ctx_ + "/real/a.txt", "a\n");
  ASSERT_EQ(symlink("real", (ctx_ + "/app").c_str()), 0);
  WriteFile(ctx_ + "/unrelated.txt", "one\n");
  WriteFile(ctx_ + "/Dockerfile", "FROM busybox\nCOPY app/a.txt /app/\n");
  auto build = [&] {
    return h_.Run({"build", "--progress", "rawjson", "-o", "type=local,dest=" + out_, ctx_});
  };
  KilnRun first = build();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(ReadFile(out_ + "/app/a.txt"), "a\n");
  WriteFile(ctx_ + "/unrelated.txt", "two\n");
  KilnRun second = build();
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_FALSE(second.RanStep("load build context")) << second.err;
  WriteFile(ctx_ + "/real/a.txt", "changed\n");
  KilnRun third = build();
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_TRUE(third.RanStep("load build context")) << third.err;
  EXPECT_EQ(ReadFile(out_ + "/app/a.txt"), "changed\n");
}

}  // namespace
}  // namespace kiln::testing
