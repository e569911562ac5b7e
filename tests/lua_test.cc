// The Lua frontend end to end: the sample, `-- syntax=lua.v0` detection,
// reads of the context, kiln.dockerfile through the gateway, limits and
// errors, and a script against the Dockerfile that says the same thing
// (same files, shared cache).
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/harness.h"

namespace kiln::testing {
namespace {

class LuaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why = ImportBusybox(h_);
    if (!why.empty()) GTEST_SKIP() << why;
    out_ = TempDir("out");
    sample_ = TempDir("sample");
    ASSERT_EQ(system(("cp -rL samples/lua/. " + sample_ + " && chmod -R u+w " + sample_).c_str()),
              0);
  }

  KilnRun Build(std::vector<std::string> args) {
    args.insert(args.begin(), {"build", "--progress", "plain"});
    return h_.Run(args);
  }

  std::string Out(const std::string& p) { return out_ + p; }

  Harness h_;
  std::string out_, sample_;
};

TEST_F(LuaTest, TheSampleBuildsWithNoFrontendFlag) {
  KilnRun r = Build({"-f", sample_ + "/build.lua", "-o", "type=local,dest=" + out_, sample_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(Out("/etc/app.conf")), "modules=greet,count\n");
  EXPECT_EQ(ReadFile(Out("/opt/modules/greet/VERSION")), "1.0.0\n");
  EXPECT_EQ(ReadFile(Out("/opt/modules/count/VERSION")), "0.3.1\n");
  EXPECT_TRUE(absl::StrContains(ReadFile(Out("/opt/modules/greet/run")), "hello from greet"));
  struct stat st;
  ASSERT_EQ(stat(Out("/usr/local/bin/app").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(stat(Out("/opt/modules/count/run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  char link[256] = {};
  ASSERT_GT(readlink(Out("/usr/local/bin/run-all").c_str(), link, sizeof link - 1), 0);
  EXPECT_STREQ(link, "/usr/local/bin/app");
  ASSERT_EQ(stat(Out("/data").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  // A module's output is its directory alone, not the busybox it ran on.
  EXPECT_NE(stat(Out("/opt/modules/bin").c_str(), &st), 0);

  // Unchanged: every step from the cache. One module changed: only it runs.
  KilnRun again = h_.Run({"build", "--progress", "rawjson", "-f", sample_ + "/build.lua", sample_});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.Ran(), 0) << again.err;
  EXPECT_GE(again.Cached(), 10) << again.err;
  WriteFile(sample_ + "/modules/count/VERSION", "0.4.0\n");
  KilnRun j = h_.Run({"build", "--progress", "rawjson", "-f", sample_ + "/build.lua", "-o",
                      "type=local,dest=" + out_, sample_});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(ReadFile(Out("/opt/modules/count/VERSION")), "0.4.0\n");
  int runs = 0;
  for (const Step& s : j.steps) {
    if (absl::StrContains(s.name, "RUN sh /tools/build.sh") && !s.cached) ++runs;
  }
  EXPECT_EQ(runs, 1) << j.err;
}

TEST_F(LuaTest, ReadsTheContextAndBuildsADockerfileThroughTheGateway) {
  std::string ctx = TempDir("ctx");
  ASSERT_EQ(system(("mkdir -p " + ctx + "/svc/a " + ctx + "/svc/b " + ctx + "/web").c_str()), 0);
  WriteFile(ctx + "/svc/a/x", "1");
  WriteFile(ctx + "/svc/b/x", "22");
  WriteFile(ctx + "/web/Dockerfile",
            "FROM busybox AS base\nRUN echo base > /base\n"
            "FROM base AS web\nARG GREETING=hi\nWORKDIR /srv\nCOPY page.html .\n"
            "RUN echo \"$GREETING\" > greeting\n");
  WriteFile(ctx + "/web/page.html", "<p>page</p>\n");
  WriteFile(ctx + "/build.lua", R"(-- syntax=lua.v0
local ctx = kiln.context()
local lines = {}
for _, e in ipairs(kiln.read_dir(ctx, "svc")) do
  local st = kiln.stat(ctx, "svc/" .. e.name .. "/x")
  lines[#lines + 1] = e.name .. " " .. e.type .. " " .. st.size
end
lines[#lines + 1] = "missing: " .. tostring(kiln.stat(ctx, "svc/c"))
local web_dir = kiln.scratch():copy(ctx, "web", "/")
local web = kiln.dockerfile(web_dir, {target = "web", args = {GREETING = kiln.args.GREETING}})
return kiln.result(web:mkfile("listing", table.concat(lines, "\n") .. "\n"))
)");
  KilnRun r = Build({"-f", ctx + "/build.lua", "--build-arg", "GREETING=hello", "-o",
                     "type=local,dest=" + out_, ctx});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFile(Out("/srv/listing")), "a dir 1\nb dir 2\nmissing: nil\n");
  EXPECT_EQ(ReadFile(Out("/srv/greeting")), "hello\n");
  EXPECT_EQ(ReadFile(Out("/srv/page.html")), "<p>page</p>\n");
  EXPECT_EQ(ReadFile(Out("/base")), "base\n");
}

TEST_F(LuaTest, ErrorsLimitsAndTheDefaultFilename) {
  std::string ctx = TempDir("ctx");
  WriteFile(ctx + "/build.lua",
            "local base = kiln.image('busybox')\n"
            "local x = base:run('touch /ran'):root()\n"
            "return kiln.result(x, {entrypiont = {'/x'}})\n");
  KilnRun r = Build({"--frontend", "lua.v0", ctx});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(
      absl::StrContains(r.err,
                        "build.lua:3: kiln.result: unknown option \"entrypiont\" (did you mean "
                        "\"entrypoint\"?)"))
      << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "touch /ran\n#")) << "nothing ran";

  WriteFile(ctx + "/loop.lua", "-- syntax=lua.v0\nlocal n = 0\nwhile true do n = n + 1 end\n");
  r = Build({"-f", ctx + "/loop.lua", "--opt", "lua-max-instructions=100000", ctx});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "loop.lua:3: the script ran more than 100000")) << r.err;

  // A script without its syntax line is read as a Dockerfile, with a hint.
  WriteFile(ctx + "/plain.lua", "return kiln.scratch()\n");
  r = Build({"-f", ctx + "/plain.lua", ctx});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "plain.lua was read as a Dockerfile")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "--frontend lua.v0")) << r.err;
  r = Build({"--frontend", "lua.v0", "-f", ctx + "/plain.lua", ctx});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(LuaTest, SameFilesAsTheDockerfileAndSharedCache) {
  std::string ctx = TempDir("ctx");
  ASSERT_EQ(system(("mkdir -p " + ctx + "/src/sub").c_str()), 0);
  WriteFile(ctx + "/src/a.txt", "a\n");
  WriteFile(ctx + "/src/sub/b.txt", "b\n");
  WriteFile(ctx + "/src/skip.log", "log\n");
  WriteFile(ctx + "/build.lua", R"(-- syntax=lua.v0
local ctx = kiln.context()
local build = kiln.image("busybox"):env("LANG", "C.UTF-8"):dir("/src"):mkdir("/src")
  :copy(ctx, "src/", "/src/", {chown = "1000:1000", exclude = {"*.log"}})
  :run("cat /proc/sys/kernel/random/uuid > /id && ls -ln /src > /listing",
       {mounts = {kiln.cache("/cache", {id = "eq"})}})
  :root()
return kiln.image("busybox")
  :copy(build, "/id", "/out/", {chmod = "0640"})
  :copy(build, "/listing", "/out/", {chmod = "0640"})
)");
  WriteFile(ctx + "/Dockerfile",
            "FROM busybox AS build\nENV LANG=C.UTF-8\nWORKDIR /src\n"
            "COPY --chown=1000:1000 --exclude=*.log src/ /src/\n"
            "RUN --mount=type=cache,target=/cache,id=eq "
            "cat /proc/sys/kernel/random/uuid > /id && ls -ln /src > /listing\n"
            "FROM busybox AS final\nCOPY --from=build --chmod=0640 /id /out/\n"
            "COPY --from=build --chmod=0640 /listing /out/\n");
  std::string lua_tar = out_ + "/lua.tar", docker_tar = out_ + "/docker.tar";
  KilnRun l = Build({"-f", ctx + "/build.lua", "-o", "type=tar,dest=" + lua_tar, ctx});
  ASSERT_EQ(l.exit_code, 0) << l.err;
  KilnRun d = h_.Run({"build", "--progress", "rawjson", "-f", ctx + "/Dockerfile", "-o",
                      "type=tar,dest=" + docker_tar, ctx});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  // The Dockerfile build ran no step of its own: the script's build made them.
  EXPECT_FALSE(d.RanStep("RUN")) << d.err;
  EXPECT_FALSE(d.RanStep("COPY")) << d.err;
  EXPECT_FALSE(d.RanStep("WORKDIR")) << d.err;
  std::string lm = FsManifest(lua_tar), dm = FsManifest(docker_tar);
  ASSERT_FALSE(lm.empty());
  EXPECT_TRUE(absl::StrContains(lm, "out/listing")) << lm;
  EXPECT_EQ(lm, dm) << "the same files, and the same /id: the RUN came from the cache";
}

}  // namespace
}  // namespace kiln::testing
