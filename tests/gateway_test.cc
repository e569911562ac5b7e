// Frontend images end to end: a C++ frontend written against sdk/client,
// packed with tools/frontend_image.sh, run by `# syntax=IMAGE` and by
// gateway.v0 (kiln hands both to kiln-gateway), and frontends that crash,
// hang or write garbage, after each of which kiln still builds.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/ops/exec/busybox_rootfs.h"
#include "gtest/gtest.h"
#include "tests/harness.h"

namespace kiln::testing {
namespace {

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = ImportBusybox(h_);
    if (!why.empty()) GTEST_SKIP() << why;
    std::string dir = TempDir("img");
    ASSERT_EQ(
        system(
            ("tools/frontend_image.sh tests/frontend_image/upper " + dir + "/upper.tar").c_str()),
        0);
    KilnRun r = h_.Run({"image", "import", "--rootfs", dir + "/upper.tar", "kiln/upper"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ctx_ = TempDir("ctx");
    out_ = TempDir("out");
  }

  // A frontend image whose /run is `script`, on busybox.
  void ScriptImage(const std::string& name, const std::string& script) {
    std::string dir = TempDir("script");
    exec::MakeBusyboxRootfs(dir + "/rootfs");
    WriteFile(dir + "/rootfs/run", "#!/bin/sh\n" + script);
    ASSERT_EQ(chmod((dir + "/rootfs/run").c_str(), 0755), 0);
    ASSERT_EQ(system(("tar -C " + dir + "/rootfs -cf " + dir + "/img.tar .").c_str()), 0);
    KilnRun r = h_.Run({"image", "import", "--rootfs", dir + "/img.tar", name});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  KilnRun Build(const std::string& dockerfile, std::vector<std::string> extra = {}) {
    WriteFile(ctx_ + "/Dockerfile", dockerfile);
    std::vector<std::string> args = {"build", "--progress", "plain", "-o",
                                     "type=local,dest=" + out_};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(ctx_);
    return h_.Run(args);
  }

  // Nothing of a run is left: no container, no mount under the root.
  void ExpectNothingLeft() {
    std::ifstream mounts("/proc/mounts");
    std::stringstream ss;
    ss << mounts.rdbuf();
    EXPECT_FALSE(absl::StrContains(ss.str(), h_.root())) << ss.str();
    std::string ps;
    FILE* p = popen(("ps -eo args | grep -c '[r]unc --root " + h_.root() + "'").c_str(), "r");
    char buf[32] = {};
    if (p != nullptr) {
      fread(buf, 1, sizeof buf - 1, p);
      pclose(p);
    }
    EXPECT_EQ(std::string(buf), "0\n") << "runc processes left";
  }

  // A plain build works after whatever happened before.
  void ExpectHealthy() {
    KilnRun r = Build("FROM busybox\nRUN echo ok > /ok\n");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(ReadFile(out_ + "/ok"), "ok\n");
  }

  Harness h_;
  std::string ctx_, out_;
};

TEST_F(GatewayTest, ACppFrontendImageRunsThroughSyntax) {
  KilnRun r = Build("# syntax=kiln/upper\nhello frontend\n", {"--build-arg", "WHO=me"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(out_ + "/upper.txt"), "# SYNTAX=KILN/UPPER\nHELLO FRONTEND\n");
  std::string options = ReadFile(out_ + "/options.txt");
  EXPECT_TRUE(absl::StrContains(options, "source=kiln/upper\n")) << options;
  EXPECT_TRUE(absl::StrContains(options, "build-arg:WHO=me\n")) << options;
  // The same image named directly.
  WriteFile(ctx_ + "/spec.txt", "direct\n");
  r = h_.Run({"build", "--progress", "plain", "--frontend", "gateway.v0", "--opt",
              "source=kiln/upper", "-f", ctx_ + "/spec.txt", "-o", "type=local,dest=" + out_,
              ctx_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(out_ + "/upper.txt"), "DIRECT\n");
  ExpectNothingLeft();
}

TEST_F(GatewayTest, AnErrorTheFrontendReturnsIsShown) {
  KilnRun r = Build("FAIL\n", {"--frontend", "gateway.v0", "--opt", "source=kiln/upper"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(
      r.err, "frontend image kiln/upper: Dockerfile:1: this frontend was asked to fail"))
      << r.err;
  ExpectHealthy();
}

TEST_F(GatewayTest, AMalformedDefinitionIsRefused) {
  KilnRun r = Build("x\n", {"--frontend", "gateway.v0", "--opt", "source=kiln/upper", "--opt",
                            "misbehave=bad-definition"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "definition op #0 is not a valid pb.Op")) << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "Aborted")) << r.err;
  ExpectNothingLeft();
  ExpectHealthy();
}

TEST_F(GatewayTest, AFrontendCannotReadOutsideItsResults) {
  WriteFile(ctx_ + "/inside", "in\n");
  ASSERT_EQ(symlink("/etc/passwd", (ctx_ + "/link").c_str()), 0);
  ASSERT_EQ(symlink("../../../../../../etc/passwd", (ctx_ + "/up").c_str()), 0);
  for (const char* path : {"../../../../../../etc/passwd", "link", "up", "/etc/passwd"}) {
    KilnRun r = Build("x\n", {"--frontend", "gateway.v0", "--opt", "source=kiln/upper", "--opt",
                              "misbehave=escape", "--opt", std::string("escape=") + path});
    EXPECT_EQ(r.exit_code, 1) << path;
    EXPECT_TRUE(absl::StrContains(r.err, "not found")) << path << r.err;
    EXPECT_FALSE(absl::StrContains(r.err, "ROOT:X:0:0")) << path;
  }
  KilnRun ok = Build("x\n", {"--frontend", "gateway.v0", "--opt", "source=kiln/upper", "--opt",
                             "misbehave=escape", "--opt", "escape=inside"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ReadFile(out_ + "/upper.txt"), "IN\n");
}

TEST_F(GatewayTest, AFrontendThatCrashes) {
  ScriptImage("kiln/crash", "echo 'frontend: something broke' >&2\nexit 3\n");
  KilnRun r = Build("# syntax=kiln/crash\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err,
                                "frontend image kiln/crash exited with status 3 without "
                                "returning a result"))
      << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "frontend: something broke")) << r.err;
  ExpectNothingLeft();
  ExpectHealthy();
}

TEST_F(GatewayTest, AFrontendThatWritesGarbage) {
  ScriptImage("kiln/garbage", "echo 'this is not HTTP/2'\nhead -c 100000 /dev/zero\nexit 0\n");
  KilnRun r = Build("# syntax=kiln/garbage\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err,
                                "frontend image kiln/garbage exited with status 0 without "
                                "returning a result"))
      << r.err;
  ExpectNothingLeft();
  ExpectHealthy();
}

TEST_F(GatewayTest, AFrontendThatHangs) {
  ScriptImage("kiln/hang", "sleep 600\n");
  KilnRun r = Build("# syntax=kiln/hang\n", {"--opt", "frontend-timeout=2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err,
                                "frontend image kiln/hang did not return a result within "
                                "2 s"))
      << r.err;
  ExpectNothingLeft();
  ExpectHealthy();
}

// The built-in frontends packed as images give what they give in-process,
// and share the cache with it: every step of the image build is CACHED.
TEST_F(GatewayTest, TheBuiltInFrontendsAsImages) {
  for (const char* name : {"lua", "yaml", "dockerfile"}) {
    KilnRun r = h_.Run({"image", "import", "--rootfs",
                        absl::StrCat("frontends/image/", name, "-frontend.tar"),
                        absl::StrCat("kiln/", name, "-frontend")});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  struct Case {
    std::string name, file, syntax_line, context;
  };
  std::string lua = TempDir("lua"), yaml = TempDir("yaml");
  ASSERT_EQ(system(("cp -rL samples/lua/. " + lua + " && cp -rL samples/yaml/. " + yaml +
                    " && chmod -R u+w " + lua + " " + yaml)
                       .c_str()),
            0);
  WriteFile(ctx_ + "/Dockerfile",
            "FROM busybox AS a\nRUN echo one > /one\nFROM busybox\nCOPY --from=a /one /two\n");
  for (const Case& c : {Case{"lua", lua + "/build.lua", "-- syntax=lua.v0", lua},
                        Case{"yaml", yaml + "/kiln.yaml", "# syntax=yaml.v0", yaml + "/app"},
                        Case{"dockerfile", ctx_ + "/Dockerfile", "", ctx_}}) {
    std::string text = ReadFile(c.file);
    std::string builtin_tar = out_ + "/" + c.name + "-builtin.tar";
    std::string image_tar = out_ + "/" + c.name + "-image.tar";
    if (!c.syntax_line.empty()) {
      ASSERT_EQ(text.rfind(c.syntax_line, 0), 0u) << c.file;
    } else {
      text = "\n" + text;
    }
    KilnRun b = h_.Run({"build", "--progress", "plain", "-f", c.file, "-o",
                        "type=tar,dest=" + builtin_tar, c.context});
    ASSERT_EQ(b.exit_code, 0) << c.name << b.err;
    std::string first_line = "# syntax=kiln/" + c.name + "-frontend";
    WriteFile(c.file, first_line + text.substr(text.find('\n')));
    KilnRun i = h_.Run({"build", "--progress", "rawjson", "-f", c.file, "-o",
                        "type=tar,dest=" + image_tar, c.context});
    ASSERT_EQ(i.exit_code, 0) << c.name << i.err;
    EXPECT_FALSE(i.RanStep("RUN")) << c.name << ": the in-process build's cache serves it";
    std::string want = FsManifest(builtin_tar), got = FsManifest(image_tar);
    ASSERT_FALSE(want.empty());
    EXPECT_EQ(got, want) << c.name;
  }
  ExpectNothingLeft();
}

// samples/dsl: an in-house language written on the SDK, shipped as an image.
TEST_F(GatewayTest, TheDslSampleThroughSyntax) {
  KilnRun r =
      h_.Run({"image", "import", "--rootfs", "samples/dsl/dsl-frontend.tar", "kiln/dsl-frontend"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string ex = TempDir("dsl");
  ASSERT_EQ(system(("cp -rL samples/dsl/example/. " + ex + " && chmod -R u+w " + ex).c_str()), 0);
  r = h_.Run({"build", "--progress", "plain", "-f", ex + "/build.kb", "-o",
              "type=local,dest=" + out_, ex});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(out_ + "/greeting"), "hello from kb, version 1.2.0\n");
  EXPECT_EQ(ReadFile(out_ + "/parts/one.txt"), "part one built from 1.2.0\n");
  EXPECT_EQ(ReadFile(out_ + "/parts/two.txt"), "part two built from 1.2.0\n");
  EXPECT_TRUE(absl::StrContains(r.err, "[build.kb:10] run sh src/build.sh one")) << r.err;
  WriteFile(ex + "/build.kb", "# syntax=kiln/dsl-frontend\nfrom busybox\nrnu true\n");
  r = h_.Run({"build", "--progress", "plain", "-f", ex + "/build.kb", ex});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(
      absl::StrContains(r.err, "build.kb:3: unknown command \"rnu\" (did you mean \"run\"?)"))
      << r.err;
}

TEST_F(GatewayTest, AMissingImageIsNamed) {
  KilnRun r = Build("# syntax=kiln/nothere\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "frontend image kiln/nothere")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "not in kiln's image store")) << r.err;
  r = Build("FROM busybox\n", {"--frontend", "gateway.v0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "--opt source=IMAGE")) << r.err;
}

}  // namespace
}  // namespace kiln::testing
