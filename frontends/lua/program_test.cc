#include "frontends/lua/program.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "sdk/frontend/testing.h"
#include "sdk/llb/testing.h"

namespace kiln::luafrontend {
namespace {

using Json = nlohmann::json;
using llb_testing::DecodedDefinition;

class ProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bridge_.AddBusybox();
    bridge_.locals["context"] = {{"MODULES", "a\nb\n"}, {"src/x.txt", "x"}, {"src/y.txt", "y"}};
  }

  absl::StatusOr<ProgramResult> Run(const std::string& script) {
    ProgramOptions o;
    o.platform = {"linux", "amd64"};
    o.limits.max_instructions = 10'000'000;
    return RunProgram(bridge_, script, o);
  }

  // The graph and config of a script that must succeed.
  DecodedDefinition Graph(const std::string& script, Json* config = nullptr) {
    absl::StatusOr<ProgramResult> r = Run(script);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return {};
    if (config != nullptr) *config = Json::parse(r->image_config);
    absl::StatusOr<DecodedDefinition> g = llb_testing::MarshalAndDecode(r->state);
    EXPECT_TRUE(g.ok()) << g.status();
    return g.ok() ? *g : DecodedDefinition{};
  }

  // The message of a script that must fail.
  std::string Error(const std::string& script) {
    absl::StatusOr<ProgramResult> r = Run(script);
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : std::string(r.status().message());
  }

  frontend::FakeBridge bridge_;
};

// A context given as a state is used as it is; the script's patterns apply
// when it is a local source, and are reported as not applied otherwise.
TEST_F(ProgramTest, AGivenContextHonoursTheScriptsPatterns) {
  absl::StatusOr<pb::Definition> given =
      llb::Marshal(llb::Scratch().File(llb::Mkfile("/src/x.txt", 0644, "x")));
  ASSERT_TRUE(given.ok()) << given.status();
  bridge_.inputs["context"] = *given;
  DecodedDefinition plain = Graph("return kiln.context()");
  ASSERT_FALSE(plain.ops.empty());
  EXPECT_TRUE(plain.Target().has_file());
  EXPECT_TRUE(bridge_.warnings.empty());
  DecodedDefinition filtered = Graph("return kiln.context({include = {'src'}})");
  EXPECT_TRUE(filtered.Target().has_file()) << "the given state itself";
  ASSERT_EQ(bridge_.warnings.size(), 1u);
  EXPECT_NE(bridge_.warnings[0].find("include/exclude are not applied"), std::string::npos);
  // A forwarded context (a local source, as BuildKit's dockerfile.v0 hands
  // it to a `# syntax=` image) becomes that source with the patterns added:
  // no copy, so no LLB feature an older daemon lacks.
  llb::LocalOptions lo;
  lo.exclude_patterns = {".git"};
  lo.session_id = "s1";
  bridge_.inputs["context"] = *llb::Marshal(llb::Local("context", lo));
  DecodedDefinition local = Graph("return kiln.context({include = {'src'}, exclude = {'*.log'}})");
  const pb::Op& src = local.Target();
  ASSERT_TRUE(src.has_source());
  EXPECT_EQ(src.source().identifier(), "local://context");
  EXPECT_EQ(src.source().attrs().at("local.includepattern"), R"(["src"])");
  EXPECT_EQ(src.source().attrs().at("local.excludepatterns"), R"([".git","*.log"])");
  EXPECT_EQ(src.source().attrs().at("local.session"), "s1");
}

TEST_F(ProgramTest, ImageRunsAsFromAndRunDo) {
  Json config;
  DecodedDefinition g = Graph(
      "return kiln.image('busybox'):env('A', '1'):dir('/w'):run('echo hi > f', "
      "{env = {B = '2'}, user = 'nobody', network = 'none'}):root()",
      &config);
  const pb::Op& run = g.Target();
  ASSERT_TRUE(run.has_exec());
  const pb::Meta& meta = run.exec().meta();
  EXPECT_EQ(std::vector<std::string>(meta.args().begin(), meta.args().end()),
            (std::vector<std::string>{"/bin/sh", "-c", "echo hi > f"}));
  EXPECT_EQ(std::vector<std::string>(meta.env().begin(), meta.env().end()),
            (std::vector<std::string>{"PATH=/bin", "HOME=/root", "A=1", "B=2"}));
  EXPECT_EQ(meta.cwd(), "/w");
  EXPECT_EQ(meta.user(), "nobody");
  EXPECT_EQ(run.exec().network(), pb::NONE);
  {
    // BuildKit's force-network-mode sets the default; a bad value is named.
    const std::map<std::string, std::string> saved = bridge_.options;
    bridge_.options["force-network-mode"] = "host";
    DecodedDefinition h = Graph("return kiln.image('busybox'):run('true'):root()");
    EXPECT_EQ(h.Target().exec().network(), pb::HOST);
    bridge_.options["force-network-mode"] = "bogus";
    EXPECT_EQ(Error("return kiln.scratch()"),
              "force-network-mode=bogus: want none, host or sandbox");
    bridge_.options = saved;
  }
  const pb::Op& image = g.InputOp(run, 0);
  EXPECT_EQ(image.source().identifier(),
            "docker-image://docker.io/library/busybox:latest@sha256:" + std::string(64, 'b'));
  // The step is named by where it is in the script.
  EXPECT_EQ(g.Metadata(g.Terminal().inputs(0).digest()).description().at("llb.customname"),
            "[build.lua:1] RUN echo hi > f");
  // A State returned as it is gets its image's config, with the state's env and dir.
  EXPECT_EQ(config["config"]["WorkingDir"], "/w");
  EXPECT_EQ(config["config"]["Env"], Json({"PATH=/bin", "HOME=/root", "A=1"}));
  EXPECT_EQ(config["history"][0]["created_by"], "base");
}

TEST_F(ProgramTest, ExecFormAndMounts) {
  DecodedDefinition g = Graph(R"(
local ctx = kiln.context()
local e = kiln.image("busybox"):run({"/bin/echo", "a b"}, {mounts = {
  kiln.cache("/root/.cache", {id = "deps", sharing = "locked"}),
  kiln.bind(ctx, "/ctx", {source = "src"}),
  kiln.bind(kiln.scratch(), "/out", {readonly = false}),
  kiln.tmpfs("/scratch", {size = 1048576}),
  kiln.secret("/run/secrets/token", {id = "token", required = true}),
  kiln.ssh(),
}})
return e:mount("/out")
)");
  ASSERT_FALSE(g.ops.empty());
  const pb::Op& run = g.Target();
  ASSERT_TRUE(run.has_exec());
  EXPECT_EQ(run.exec().meta().args(0), "/bin/echo");
  EXPECT_EQ(run.exec().meta().args(1), "a b");
  std::map<std::string, pb::Mount> by_target;
  for (const pb::Mount& m : run.exec().mounts()) by_target[m.dest()] = m;
  ASSERT_EQ(by_target.count("/root/.cache"), 1u);
  EXPECT_EQ(by_target["/root/.cache"].mounttype(), pb::CACHE);
  EXPECT_EQ(by_target["/root/.cache"].cacheopt().id(), "/deps");  // as BuildKit names it
  EXPECT_EQ(by_target["/root/.cache"].cacheopt().sharing(), pb::LOCKED);
  EXPECT_EQ(by_target["/ctx"].selector(), "/src");
  EXPECT_TRUE(by_target["/ctx"].readonly());
  EXPECT_FALSE(by_target["/out"].readonly());
  EXPECT_EQ(by_target["/scratch"].mounttype(), pb::TMPFS);
  EXPECT_EQ(by_target["/scratch"].tmpfsopt().size(), 1048576);
  EXPECT_EQ(by_target["/run/secrets/token"].mounttype(), pb::SECRET);
  EXPECT_FALSE(by_target["/run/secrets/token"].secretopt().optional());
  EXPECT_EQ(by_target["/run/buildkit/ssh_agent.0"].mounttype(), pb::SSH);
  // The result is the /out mount's output, not the root.
  EXPECT_EQ(g.Terminal().inputs(0).index(), by_target["/out"].output());
}

TEST_F(ProgramTest, FileMethods) {
  DecodedDefinition g = Graph(R"(
local s = kiln.scratch():dir("/app")
  :mkdir("data", {mode = "0700", chown = "1:2"})
  :mkfile("conf", "k=v", {mode = 420})
  :symlink("/app/conf", "link")
  :rm("junk", {allow_not_found = true})
  :copy(kiln.context(), "src/", "dest/", {chown = "3:4", chmod = "0640", exclude = {"*.log"}})
return s
)");
  ASSERT_EQ(g.ops.size(), 7u);  // local, 5 file ops, terminal
  const pb::Op& copy = g.Target();
  const pb::FileActionCopy& c = copy.file().actions(0).copy();
  EXPECT_EQ(c.src(), "/src");
  EXPECT_EQ(c.dest(), "/app/dest/");
  EXPECT_EQ(c.mode(), 0640);
  EXPECT_EQ(c.owner().user().byid(), 3u);
  EXPECT_EQ(c.exclude_patterns(0), "*.log");
  EXPECT_TRUE(c.dircopycontents());
  EXPECT_TRUE(c.createdestpath());
  // A number is a mode too, as for mkfile: 493 is 0755, not the text "493".
  DecodedDefinition n = Graph(R"(
return kiln.scratch():copy(kiln.context(), "a", "b", {chmod = 493})
)");
  EXPECT_EQ(n.Target().file().actions(0).copy().mode(), 0755);
  EXPECT_EQ(n.Target().file().actions(0).copy().modestr(), "");
  const pb::Op& rm = g.InputOp(copy, 0);
  EXPECT_EQ(rm.file().actions(0).rm().path(), "/app/junk");
  EXPECT_TRUE(rm.file().actions(0).rm().allownotfound());
  const pb::Op& ln = g.InputOp(rm, 0);
  EXPECT_EQ(ln.file().actions(0).symlink().newpath(), "/app/link");
  const pb::Op& mkfile = g.InputOp(ln, 0);
  EXPECT_EQ(mkfile.file().actions(0).mkfile().mode(), 0644);
  EXPECT_EQ(mkfile.file().actions(0).mkfile().data(), "k=v");
  const pb::Op& mkdir = mkfile.inputs_size() > 0 ? g.InputOp(mkfile, 0) : mkfile;
  EXPECT_EQ(mkdir.file().actions(0).mkdir().path(), "/app/data");
  EXPECT_EQ(mkdir.file().actions(0).mkdir().mode(), 0700);
  EXPECT_TRUE(mkdir.file().actions(0).mkdir().makeparents());
}

TEST_F(ProgramTest, CopyWithLinkIsAMerge) {
  DecodedDefinition g =
      Graph("return kiln.image('busybox'):copy(kiln.context(), 'src', '/s', {link = true})");
  EXPECT_TRUE(g.Target().has_merge());
}

TEST_F(ProgramTest, SourcesMergeAndDiff) {
  const std::string ck = "sha256:" + std::string(64, '0');
  DecodedDefinition g = Graph("local CK = '" + ck + "'" + R"(
local h = kiln.http("https://example.invalid/x.tgz", {checksum = CK, filename = "x"})
local r = kiln.git("https://example.invalid/repo.git", "v1", {keep_git_dir = true})
local base = kiln.image("busybox")
local d = kiln.diff(base, base:mkfile("/f", "x"))
return kiln.merge({h, r, d})
)");
  const pb::Op& merge = g.Target();
  ASSERT_TRUE(merge.has_merge());
  ASSERT_EQ(merge.inputs_size(), 3);
  EXPECT_EQ(g.InputOp(merge, 0).source().identifier(), "https://example.invalid/x.tgz");
  EXPECT_EQ(g.InputOp(merge, 0).source().attrs().at("http.checksum"), ck);
  EXPECT_TRUE(absl::StartsWith(g.InputOp(merge, 1).source().identifier(), "git://"));
  EXPECT_TRUE(g.InputOp(merge, 2).has_diff());
  EXPECT_TRUE(Graph("return kiln.merge({})").ops.empty());  // scratch
}

TEST_F(ProgramTest, ReadFileReadDirStatAndRequire) {
  bridge_.locals["context"]["lib/m.lua"] = "return {twice = function(x) return x .. x end}";
  Json config;
  Graph(R"(
local ctx = kiln.context()
local m = require("lib.m")
local names = {}
for line in kiln.read_file(ctx, "MODULES"):gmatch("[^\n]+") do names[#names + 1] = line end
local entries = {}
for _, e in ipairs(kiln.read_dir(ctx, "src")) do entries[#entries + 1] = e.name .. ":" .. e.type end
local st = kiln.stat(ctx, "src/x.txt")
local gone = kiln.stat(ctx, "nope")
return kiln.result(kiln.scratch(), {labels = {
  names = table.concat(names, ","), entries = table.concat(entries, ","),
  size = st.size, gone = tostring(gone), twice = m.twice("ab")}})
)",
        &config);
  const Json& labels = config["config"]["Labels"];
  EXPECT_EQ(labels["names"], "a,b");
  EXPECT_EQ(labels["entries"], "x.txt:file,y.txt:file");
  EXPECT_EQ(labels["size"], "1");
  EXPECT_EQ(labels["gone"], "nil");
  EXPECT_EQ(labels["twice"], "abab");
  // The context was solved once for all those reads (plus the .dockerignore lookups).
  int context_solves = 0;
  for (const pb::Definition& d : bridge_.solved) {
    for (const std::string& op : d.def()) {
      if (absl::StrContains(op, "local://context") && !absl::StrContains(op, "dockerignore") &&
          !absl::StrContains(op, "lib/m.lua")) {
        ++context_solves;
      }
    }
  }
  EXPECT_EQ(context_solves, 1);
}

TEST_F(ProgramTest, ImageConfigArgsWarnAndPlatform) {
  bridge_.options = {{"build-arg:VERSION", "1.2"}, {"target", "t"}};
  Json config;
  Graph(R"(
local c = kiln.image_config("busybox")
kiln.warn("careful")
print("printed", 1)
return kiln.result(kiln.scratch(), {labels = {
  path = c.config.Env[1], arch = c.architecture, v = kiln.args.VERSION, t = kiln.args.target,
  platform = kiln.platform}})
)",
        &config);
  const Json& labels = config["config"]["Labels"];
  EXPECT_EQ(labels["path"], "PATH=/bin");
  EXPECT_EQ(labels["arch"], "amd64");
  EXPECT_EQ(labels["v"], "1.2");
  EXPECT_EQ(labels["t"], "t");
  EXPECT_EQ(labels["platform"], "linux/amd64");
  ASSERT_EQ(bridge_.warnings.size(), 2u);
  EXPECT_EQ(bridge_.warnings[0], "build.lua:3: careful");
  EXPECT_EQ(bridge_.warnings[1], "build.lua:4: printed\t1");
}

TEST_F(ProgramTest, ResultConfig) {
  Json config;
  Graph(R"(
return kiln.result(kiln.image("busybox"):user("1000"), {
  entrypoint = {"/app"}, cmd = "serve --port 80", env = {MODE = "prod", A = 1},
  labels = {["org.example.team"] = "build"}, expose = {80, "53/udp", "9000-9001/TCP"},
  volumes = {"/data"}, workdir = "srv", stopsignal = "SIGINT",
})
)",
        &config);
  const Json& c = config["config"];
  EXPECT_EQ(c["Entrypoint"], Json({"/app"}));
  EXPECT_EQ(c["Cmd"], Json({"/bin/sh", "-c", "serve --port 80"}));
  EXPECT_EQ(c["Env"], Json({"PATH=/bin", "HOME=/root", "A=1", "MODE=prod"}));
  EXPECT_EQ(c["Labels"]["org.example.team"], "build");
  EXPECT_TRUE(c["ExposedPorts"].contains("80/tcp"));
  EXPECT_TRUE(c["ExposedPorts"].contains("53/udp"));
  EXPECT_TRUE(c["ExposedPorts"].contains("9000/tcp"));
  EXPECT_TRUE(c["ExposedPorts"].contains("9001/tcp"));
  EXPECT_TRUE(c["Volumes"].contains("/data"));
  EXPECT_EQ(c["WorkingDir"], "/srv/srv");  // relative to the state's dir (busybox: /srv)
  EXPECT_EQ(c["User"], "1000");
  EXPECT_EQ(c["StopSignal"], "SIGINT");
  EXPECT_EQ(config["history"].back()["comment"], "kiln.lua.v0");
}

TEST_F(ProgramTest, DockerfileGoesThroughTheGateway) {
  frontend::Result built;
  llb::State inner = llb::Image("busybox").File(llb::Mkfile("/built", 0644, "x"));
  built.definition = *llb::Marshal(inner);
  built.metadata[frontend::kImageConfigKey] =
      R"({"config":{"Env":["PATH=/usr/bin","X=1"],"WorkingDir":"/w"}})";
  bridge_.frontend_result = built;
  Json config;
  DecodedDefinition g = Graph(R"(
local src = kiln.context()
local app = kiln.dockerfile(src, {target = "app", args = {V = "2"}, filename = "Dockerfile.app"})
return app:run("true"):root()
)",
                              &config);
  ASSERT_EQ(bridge_.calls.size(), 1u);
  const frontend::FakeBridge::Call& call = bridge_.calls[0];
  EXPECT_EQ(call.name, "dockerfile.v0");
  EXPECT_EQ(call.options.at("target"), "app");
  EXPECT_EQ(call.options.at("build-arg:V"), "2");
  EXPECT_EQ(call.options.at("filename"), "Dockerfile.app");
  EXPECT_EQ(call.inputs.count("dockerfile"), 1u);
  EXPECT_EQ(call.inputs.count("context"), 1u);
  // The run builds on the Dockerfile's result, with its config's env and dir.
  const pb::Op& run = g.Target();
  ASSERT_TRUE(run.has_exec());
  EXPECT_EQ(g.InputOp(run, 0).file().actions(0).mkfile().path(), "/built");
  EXPECT_EQ(run.exec().meta().cwd(), "/w");
  EXPECT_EQ(config["config"]["Env"], Json({"PATH=/usr/bin", "X=1"}));
}

TEST_F(ProgramTest, ErrorsNameTheLineAndTheMistake) {
  struct Case {
    const char* script;
    const char* want;
  };
  for (const Case& c : std::vector<Case>{
           {"local x = 1\nreturn kiln.read_file(5, 'a')",
            "build.lua:2: kiln.read_file: the state must be a State"},
           {"\nreturn kiln.cache('/c', {sharign = 'locked'})",
            "build.lua:2: kiln.cache: unknown option \"sharign\" (did you mean \"sharing\"?)"},
           {"return kiln.image('busybox'):run('true'):copy()",
            "build.lua:1: an exec has no method \"copy\": call :root() first"},
           {"return kiln.image('busybox'):symlnk('a', 'b')",
            "a State has no method or field \"symlnk\" (did you mean \"symlink\"?)"},
           {"return kiln.image('nope')", "build.lua:1: kiln.image: image docker.io/library/nope"},
           {"return kiln.image('busybox'):run('x', {network = 'nonе'})", "network is"},
           {"return kiln.image('busybox'):run('x', {mounts = {1}})",
            "mounts: item 1 must be a mount"},
           {"return kiln.cache('/c', {sharing = 'lockd'})", "(did you mean \"locked\"?)"},
           {"return kiln.image('busybox'):mkdir('/d', {mode = '999'})", "octal"},
           {"return kiln.result(kiln.scratch(), {expose = {'http'}})", "expose takes ports"},
           {"return kiln.result(kiln.scratch(), {expose = {'8080:80'}})", "expose takes ports"},
           {"return kiln.merge(kiln.scratch())", "kiln.merge: takes a list of States"},
           {"return kiln.merge({kiln.scratch(), 'x'})", "item 2 must be a State"},
           {"return kiln.read_file(kiln.context(), 'missing')", "kiln.read_file: file"},
           {"return kiln.read_file(kiln.scratch(), 'f')", "the state is empty"},
           {"return 42", "build.lua: the script must end with `return kiln.result"},
           {"kiln.image('busybox'):run(nil)", "the command must be a string"},
           {"return kiln.image('busybox'):env('A=B', 'c')", "no '='"},
           {"return kiln.http('ftp://x')", "http:// or https://"},
           {"return kiln.context({exclude = {1, {}}})", "item 2 is not"},
           {"return kiln.result(kiln.scratch(), {env = {[1] = 'x'}})", "must map names"},
           {"return kiln.image('busybox'):run('x', {1})", "option names are strings"},
       }) {
    std::string msg = Error(c.script);
    EXPECT_TRUE(absl::StrContains(msg, c.want)) << c.script << "\n  got: " << msg;
  }
  // A broken state fails where it is marshaled, with the mount named.
  absl::StatusOr<ProgramResult> r = Run("return kiln.image('busybox'):run('x'):mount('/nowhere')");
  ASSERT_TRUE(r.ok()) << r.status();
  absl::Status st = llb::Marshal(r->state).status();
  EXPECT_TRUE(absl::StrContains(st.message(), "/nowhere")) << st;
}

TEST_F(ProgramTest, ScriptErrorsCarryATraceback) {
  std::string msg = Error("local function f()\n  kiln.stat(1)\nend\nf()\n");
  EXPECT_TRUE(absl::StartsWith(msg, "build.lua:2: kiln.stat: the state must be a State")) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "traceback:\n  build.lua:2: in")) << msg;
  EXPECT_TRUE(absl::StrContains(msg, "build.lua:4: in the main chunk")) << msg;
}

TEST_F(ProgramTest, TablesNeverDecideTheGraphOrder) {
  // Keys inserted in different orders, env and labels from tables, pairs
  // over a set: the same definition every time.
  std::string script = R"(
local set = {}
for _, n in ipairs(ORDER) do set[n] = true end
local s = kiln.image("busybox")
for n in pairs(set) do s = s:run("echo " .. n, {env = {A = n, B = "b", C = "c"}}):root() end
return kiln.result(s, {labels = {x = "1", y = "2", z = "3"}, env = {P = "1", Q = "2"}})
)";
  std::string first;
  for (const char* order :
       {"{'m', 'a', 'z', 'q', 'b'}", "{'z', 'q', 'm', 'b', 'a'}", "{'a', 'b', 'm', 'q', 'z'}"}) {
    absl::StatusOr<ProgramResult> r = Run(absl::StrCat("ORDER = ", order, "\n", script));
    ASSERT_TRUE(r.ok()) << r.status();
    absl::StatusOr<pb::Definition> def = llb::Marshal(r->state);
    ASSERT_TRUE(def.ok());
    std::string bytes;
    for (const std::string& op : def->def()) bytes += op;
    bytes += r->image_config;
    if (first.empty()) first = bytes;
    EXPECT_EQ(bytes, first) << order;
  }
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The sample's graph, pinned: a change to it is a change to every user's
// cache keys, and should be made on purpose.
TEST_F(ProgramTest, SampleGoldenDigest) {
  const std::string dir = "samples/lua/";
  std::string script = Slurp(dir + "build.lua");
  ASSERT_FALSE(script.empty());
  bridge_.locals["context"] = {{"MODULES", Slurp(dir + "MODULES")},
                               {"lib/util.lua", Slurp(dir + "lib/util.lua")}};
  std::string digest;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<ProgramResult> r = Run(script);
    ASSERT_TRUE(r.ok()) << r.status();
    absl::StatusOr<DecodedDefinition> g = llb_testing::MarshalAndDecode(r->state);
    ASSERT_TRUE(g.ok()) << g.status();
    if (i == 0) digest = g->digests.back();
    EXPECT_EQ(g->digests.back(), digest);
    Json config = Json::parse(r->image_config);
    EXPECT_EQ(config["config"]["Entrypoint"], Json({"/usr/local/bin/app"}));
    EXPECT_EQ(config["config"]["WorkingDir"], "/data");
  }
  EXPECT_EQ(digest, "sha256:0223726ce936ef115b22efb1c9ce7a3f66e2386880e64763b68408cc5bf9f3b2");
}

// Every prefix of the sample and random mutations of it end as an error or
// a result, never a crash: the API's error paths run with C++ objects live.
TEST_F(ProgramTest, TruncatedAndMutatedScriptsNeverCrash) {
  const std::string dir = "samples/lua/";
  std::string script = Slurp(dir + "build.lua");
  ASSERT_FALSE(script.empty());
  bridge_.locals["context"] = {{"MODULES", Slurp(dir + "MODULES")},
                               {"lib/util.lua", Slurp(dir + "lib/util.lua")}};
  int ok = 0, failed = 0;
  auto run = [&](const std::string& text) {
    absl::StatusOr<ProgramResult> r = Run(text);
    if (r.ok()) {
      (void)llb::Marshal(r->state);
      ++ok;
    } else {
      EXPECT_FALSE(r.status().message().empty());
      ++failed;
    }
  };
  for (size_t n = 0; n <= script.size(); n += 7) run(script.substr(0, n));
  uint32_t seed = 99;
  auto next = [&] { return seed = seed * 1103515245 + 12345; };
  const std::string pieces[] = {"nil",    "1", "{}", "'x'", "kiln.scratch()",
                                "{1, 2}", ")", "(",  ",",   "{mode = {}}",
                                "kiln",   ":", "."};
  for (int i = 0; i < 300; ++i) {
    std::string m = script;
    for (int k = 0; k < 2; ++k) {
      size_t at = (next() >> 4) % m.size();
      m.replace(at, (next() >> 8) % 6, pieces[(next() >> 8) % std::size(pieces)]);
    }
    run(m);
  }
  EXPECT_GT(failed, 0);
  EXPECT_GT(ok, 0);
}

}  // namespace
}  // namespace kiln::luafrontend
