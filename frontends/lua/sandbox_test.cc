#include "frontends/lua/sandbox.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace kiln::luafrontend {
namespace {

std::unique_ptr<Sandbox> New(Sandbox::Limits limits = {}) {
  absl::StatusOr<std::unique_ptr<Sandbox>> vm = Sandbox::New(limits);
  EXPECT_TRUE(vm.ok()) << vm.status();
  return std::move(*vm);
}

// Runs `code`, which returns one value, and gives it as a string.
absl::StatusOr<std::string> Eval(Sandbox& vm, const std::string& code) {
  absl::Status st = vm.Run(code, "t.lua", 1);
  if (!st.ok()) return st;
  size_t len;
  const char* s = ToStableString(vm.L(), -1, &len);
  std::string out(s, len);
  lua_pop(vm.L(), 2);
  return out;
}

std::string Eval(const std::string& code) {
  auto vm = New();
  absl::StatusOr<std::string> out = Eval(*vm, code);
  return out.ok() ? *out : "error: " + std::string(out.status().message());
}

TEST(SandboxTest, RunsScripts) {
  EXPECT_EQ(Eval("return 1 + 2"), "3");
  EXPECT_EQ(Eval("local t = {} for i = 1, 3 do t[#t+1] = i * i end return table.concat(t, ',')"),
            "1,4,9");
  EXPECT_EQ(Eval("return ('%d-%s'):format(7, 'x')"), "7-x");
  EXPECT_EQ(Eval("return utf8.char(72, 105)"), "Hi");
  EXPECT_EQ(Eval("local ok, m = xpcall(error, function(m) return 'handled ' .. m end, 'x')\n"
                 "return tostring(ok) .. ' ' .. m"),
            "false handled x");
  EXPECT_EQ(Eval("local ok, m = pcall(error, 'y') return tostring(ok) .. ' ' .. m"), "false y");
  EXPECT_EQ(Eval("local ok, a, b = pcall(function() return 1, 2 end) return a + b"), "3");
  EXPECT_EQ(Eval("local co = coroutine.wrap(function() coroutine.yield(5) end) return co()"), "5");
}

// Each escape route is its own test: every one must stay closed.
TEST(SandboxEscapeTest, NoIo) { EXPECT_EQ(Eval("return io"), "nil"); }
TEST(SandboxEscapeTest, NoOs) { EXPECT_EQ(Eval("return os"), "nil"); }
TEST(SandboxEscapeTest, NoDebug) { EXPECT_EQ(Eval("return debug"), "nil"); }
TEST(SandboxEscapeTest, NoPackage) { EXPECT_EQ(Eval("return package"), "nil"); }
TEST(SandboxEscapeTest, NoDofile) { EXPECT_EQ(Eval("return dofile"), "nil"); }
TEST(SandboxEscapeTest, NoLoadfile) { EXPECT_EQ(Eval("return loadfile"), "nil"); }
TEST(SandboxEscapeTest, NoStringDump) { EXPECT_EQ(Eval("return string.dump"), "nil"); }
TEST(SandboxEscapeTest, NoCollectgarbage) { EXPECT_EQ(Eval("return collectgarbage"), "nil"); }

TEST(SandboxEscapeTest, NoLoadlibThroughRequire) {
  // require exists but reads only module files; package.loadlib is gone
  // with package, and a C-library name is not a module name.
  std::string out = Eval("return require('/usr/lib/x86_64-linux-gnu/libc.so.6')");
  EXPECT_TRUE(absl::StrContains(out, "module name")) << out;
}

TEST(SandboxEscapeTest, LoadRefusesBytecode) {
  std::string out = Eval("return load('\\27Lua\\84\\0', 'x', 'b')");
  EXPECT_TRUE(absl::StrContains(out, "binary chunks are not allowed")) << out;
  // Even when the mode allows text, a binary string does not load.
  out = Eval("local f, err = load('\\27Lua\\84\\0') return tostring(f) .. ' ' .. err");
  EXPECT_TRUE(absl::StrContains(out, "nil")) << out;
  EXPECT_TRUE(absl::StrContains(out, "binary")) << out;
  // Loading through a reader function is refused too.
  out = Eval("return load(function() return nil end)");
  EXPECT_TRUE(absl::StrContains(out, "only a string")) << out;
}

TEST(SandboxEscapeTest, LoadTextWorksWithAnEnv) {
  EXPECT_EQ(Eval("return load('return 1 + 1')()"), "2");
  EXPECT_EQ(Eval("return load('return x', 'c', 't', {x = 9})()"), "9");
  // The env isolates the chunk from the globals.
  EXPECT_EQ(Eval("return load('return kiln_secret', 'c', 't', {})()"), "nil");
}

TEST(SandboxEscapeTest, MetatablesOfStringsCannotReachOs) {
  EXPECT_EQ(Eval("return getmetatable('').__index.dump"), "nil");
}

TEST(SandboxEscapeTest, RequireRefusesTraversal) {
  for (const char* name : {"..", "../etc/passwd", "a..b", ".a", "a/b", "a.", ""}) {
    std::string out = Eval(std::string("return require('") + name + "')");
    EXPECT_TRUE(absl::StrContains(out, "module name")) << name << ": " << out;
  }
}

TEST(SandboxTest, RequireLoadsModulesOnce) {
  auto vm = New();
  int reads = 0;
  vm->SetModuleReader([&](const std::string& path) -> absl::StatusOr<std::string> {
    ++reads;
    if (path == "lib/util.lua") return "count = (count or 0) + 1 return {n = count}";
    if (path == "loop.lua") return "return require('loop')";
    if (path == "bad.lua") return "return +";
    return absl::NotFoundError(path);
  });
  absl::StatusOr<std::string> out =
      Eval(*vm, "local a = require('lib.util') local b = require('lib.util') return a.n + b.n");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "2");  // the same table twice: run once
  EXPECT_EQ(reads, 1);

  out = Eval(*vm, "return require('missing')");
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(absl::StrContains(out.status().message(), "t.lua:1: module \"missing\" not found"))
      << out.status();
  out = Eval(*vm, "return require('loop')");
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(absl::StrContains(out.status().message(), "requires itself")) << out.status();
  out = Eval(*vm, "\n\nreturn require('bad')");
  ASSERT_FALSE(out.ok());
  EXPECT_TRUE(absl::StrContains(out.status().message(), "bad.lua:1:")) << out.status();
}

TEST(SandboxDeterminismTest, PairsIsSorted) {
  EXPECT_EQ(Eval("local t = {zeta = 1, alpha = 2, [3] = 'c', [1] = 'a', mid = 3, [true] = 0}\n"
                 "local ks = {} for k in pairs(t) do ks[#ks + 1] = tostring(k) end\n"
                 "return table.concat(ks, ' ')"),
            "1 3 alpha mid zeta true");
  // Many keys, inserted in a scrambled order.
  EXPECT_EQ(Eval("local t = {} for i = 1, 500 do t['k' .. ((i * 7919) % 500)] = i end\n"
                 "local prev, n = '', 0\n"
                 "for k in pairs(t) do assert(k > prev, k) prev = k n = n + 1 end return n"),
            "500");
  // Removing entries during the loop is allowed, as in Lua.
  EXPECT_EQ(Eval("local t = {a = 1, b = 2, c = 3} local n = 0\n"
                 "for k in pairs(t) do t[k] = nil n = n + 1 end return n"),
            "3");
  std::string out = Eval("for k in pairs({[{}] = 1}) do end return 1");
  EXPECT_TRUE(absl::StrContains(out, "no stable order")) << out;
  // __pairs is honored.
  EXPECT_EQ(Eval("local t = setmetatable({}, {__pairs = function() "
                 "return function(_, k) if not k then return 1, 'x' end end, nil, nil end})\n"
                 "for k, v in pairs(t) do return v end"),
            "x");
}

TEST(SandboxDeterminismTest, AddressesNeverShow) {
  EXPECT_EQ(Eval("local a, b = {}, {} return tostring(a) .. ' ' .. tostring(b) .. ' ' .. "
                 "tostring(a)"),
            "table: 1 table: 2 table: 1");
  EXPECT_EQ(Eval("return string.format('%s|%5s', print, 'x')"), "function: 1|    x");
  std::string out = Eval("return string.format('%p', {})");
  EXPECT_TRUE(absl::StrContains(out, "memory address")) << out;
  EXPECT_EQ(Eval("return string.format('100%%p')"), "100%p");
}

TEST(SandboxDeterminismTest, RandomIsSeeded) {
  std::string a = Eval("return math.random(1, 1000000)");
  std::string b = Eval("return math.random(1, 1000000)");
  EXPECT_EQ(a, b);
  EXPECT_EQ(Eval("math.randomseed(42) local x = math.random(1, 1e6) math.randomseed(42) "
                 "return x == math.random(1, 1e6)"),
            "true");
  std::string out = Eval("math.randomseed() return 1");
  EXPECT_TRUE(absl::StrContains(out, "needs a seed")) << out;
}

TEST(SandboxLimitTest, InstructionLimitEndsEndlessLoops) {
  Sandbox::Limits limits;
  limits.max_instructions = 1'000'000;
  auto vm = New(limits);
  absl::Status st = vm->Run("local x = 0\nwhile true do x = x + 1 end", "loop.lua", 0);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "loop.lua:2:")) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "lua-max-instructions")) << st;
}

TEST(SandboxLimitTest, PcallCannotCatchALimit) {
  Sandbox::Limits limits;
  limits.max_instructions = 1'000'000;
  auto vm = New(limits);
  absl::Status st =
      vm->Run("while true do pcall(function() while true do end end) end", "p.lua", 0);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  st = vm->Run(
      "while true do xpcall(function() while true do end end, function(e) "
      "while true do end end) end",
      "x.lua", 0);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  auto vm2 = New(limits);
  st = vm2->Run(
      "while true do coroutine.resume(coroutine.create(function() while true do end "
      "end)) end",
      "c.lua", 0);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
}

TEST(SandboxEscapeTest, NoFinalizers) {
  std::string out = Eval("setmetatable({}, {__gc = function() while true do end end}) return 1");
  EXPECT_TRUE(absl::StrContains(out, "__gc")) << out;
  EXPECT_EQ(Eval("return getmetatable(setmetatable({}, {__index = {a = 4}})).__index.a"), "4");
}

TEST(SandboxLimitTest, MemoryLimit) {
  Sandbox::Limits limits;
  limits.max_memory = 16 << 20;
  auto vm = New(limits);
  absl::Status st =
      vm->Run("local t = {} for i = 1, 1e8 do t[i] = ('x'):rep(100) .. i end", "mem.lua", 0);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "16 MiB")) << st;
  EXPECT_LE(vm->memory_used(), 16 << 20);
  st = vm->Run("return ('x'):rep(1 << 30)", "rep.lua", 0);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
}

TEST(SandboxLimitTest, Timeout) {
  Sandbox::Limits limits;
  limits.timeout = absl::Milliseconds(200);
  auto vm = New(limits);
  absl::Status st = vm->Run("while true do end", "slow.lua", 0);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "lua-timeout")) << st;
}

TEST(SandboxErrorTest, ErrorsNameFileLineAndTrace) {
  auto vm = New();
  absl::Status st = vm->Run(
      "local function inner()\n  error('boom')\nend\n"
      "local function outer() inner() end\nouter()\n",
      "build.lua", 0);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(st.message(), "build.lua:2: boom\ntraceback:")) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "build.lua:4: in")) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), "build.lua:5: in the main chunk")) << st;

  st = vm->Run("local x = = 1", "syntax.lua", 0);
  EXPECT_TRUE(absl::StartsWith(st.message(), "syntax.lua:1:")) << st;
  st = vm->Run("error({})", "obj.lua", 0);
  EXPECT_TRUE(absl::StrContains(st.message(), "is a table")) << st;
  st = vm->Run("local t = nil\nreturn t.x", "nil.lua", 0);
  EXPECT_TRUE(absl::StartsWith(st.message(), "nil.lua:2: attempt to index")) << st;
}

TEST(SandboxTest, SyntaxLineIsSkippedKeepingLines) {
  auto vm = New();
  absl::Status st = vm->Run("# syntax=lua.v0\nerror('here')", "s.lua", 0);
  EXPECT_TRUE(absl::StartsWith(st.message(), "s.lua:2: here")) << st;
  EXPECT_EQ(Eval("\xEF\xBB\xBF-- syntax=lua.v0\nreturn 5"), "5");
}

TEST(SandboxTest, PrintGoesToThePrinter) {
  auto vm = New();
  std::vector<std::string> lines;
  vm->SetPrinter([&](const std::string& l) { lines.push_back(l); });
  ASSERT_TRUE(vm->Run("\nprint('a', 1, {}, nil)", "p.lua", 0).ok());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], "p.lua:2: a\t1\ttable: 1\tnil");
}

TEST(SandboxFuzzTest, RandomAndTruncatedScriptsNeverCrash) {
  const std::string script =
      "local t = {}\nfor i = 1, 10 do t[#t + 1] = ('x'):rep(i) end\n"
      "local function f(a, b) return a .. b end\nreturn f(t[1], t[2]) .. #t\n";
  Sandbox::Limits limits;
  limits.max_instructions = 100'000;
  for (size_t n = 0; n <= script.size(); ++n) {
    auto vm = New(limits);
    (void)vm->Run(script.substr(0, n), "trunc.lua", 0);
  }
  uint32_t seed = 12345;
  auto next = [&] { return seed = seed * 1103515245 + 12345; };
  const std::string alphabet = "abc()[]{}=+-*/%#.,;:'\"\\\n 0123456789 end do then if for function";
  for (int i = 0; i < 500; ++i) {
    std::string s;
    int len = next() % 80;
    for (int j = 0; j < len; ++j) s += alphabet[(next() >> 8) % alphabet.size()];
    auto vm = New(limits);
    (void)vm->Run(s, "fuzz.lua", 0);
    // Mutations of the valid script.
    std::string m = script;
    for (int k = 0; k < 3; ++k)
      m[(next() >> 4) % m.size()] = alphabet[(next() >> 8) % alphabet.size()];
    auto vm2 = New(limits);
    (void)vm2->Run(m, "mut.lua", 0);
  }
}

}  // namespace
}  // namespace kiln::luafrontend
