// The Lua VM lua.v0 runs build scripts in: Lua 5.4 with nothing that
// reaches outside the build, nothing that differs between runs, and limits.
//
//   luafrontend::Sandbox::Limits limits;
//   limits.max_memory = 64 << 20;
//   KILN_ASSIGN_OR_RETURN(auto vm, luafrontend::Sandbox::New(limits));
//   vm->SetModuleReader([&](const std::string& path) { return ReadFromContext(path); });
//   KILN_RETURN_IF_ERROR(vm->Run(text, "build.lua", 1));  // one result left on the stack
//
// What a script has: the base library without dofile, loadfile,
// collectgarbage and print (print goes to the print callback instead), and
// with `load` taking only source text; string (no string.dump), table,
// math, utf8 and coroutine. Not there: io, os, debug, package. `require`
// loads NAME as the file NAME.lua (dots are directories) through the module
// reader, once per run; nothing else reaches files.
//
// Determinism: pairs() visits keys in a fixed order (numbers ascending,
// then strings bytewise, then false and true) instead of Lua's hash order,
// which depends on a per-process seed; keys of other types are an error.
// math.random starts from seed 0 and math.randomseed needs an argument (seed
// it from a build arg to vary it). tostring() and string.format("%s") name
// tables, functions and coroutines by a counter ("table: 3"), not by their
// address; "%p" is refused. `next` keeps Lua's raw order, so iterate with
// pairs.
//
// Limits: memory (the allocator refuses past max_memory) and instructions
// (a count hook), each ending the run with an error that says which limit
// was hit, and a wall-clock timeout checked by the same hook. pcall, xpcall
// and coroutine.resume pass a limit error on, so it cannot be caught, and
// an xpcall handler is not run for it. Lua runs finalizers with the hook
// off, so setmetatable refuses __gc. Time spent inside one C function (a
// long string.rep or pattern match) is not interrupted; memory bounds it.
//
// Errors come back as InvalidArgument "FILE:LINE: message" followed by a
// short traceback of the script's frames. A Sandbox is used from one
// thread; API functions registered on L() may throw luafrontend::Error
// through Guard (see below) and must not let other C++ exceptions out.
#ifndef KILN_FRONTENDS_LUA_SANDBOX_H_
#define KILN_FRONTENDS_LUA_SANDBOX_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <lua5.4/lua.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kiln::luafrontend {

// A mistake in the script's use of an API function. Guard turns it into a
// Lua error at the calling line of the script.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs F, a C++ API function, so that Error (and std::bad_alloc) become Lua
// errors raised after every C++ object of F is destroyed: Lua's errors are
// longjmps, which must not cross live C++ frames. F should not call Lua
// API functions that raise (luaL_check*, lua_error) itself.
template <int (*F)(lua_State*)>
int Guard(lua_State* L) {
  char message[1024];
  int results = -1;
  try {
    results = F(L);
  } catch (const Error& e) {
    snprintf(message, sizeof(message), "%s", e.what());
  } catch (const std::bad_alloc&) {
    snprintf(message, sizeof(message), "not enough memory");
  } catch (const std::exception& e) {  // a JSON document of the wrong shape, say
    snprintf(message, sizeof(message), "%s", e.what());
  }
  if (results >= 0) return results;
  luaL_where(L, 1);
  lua_pushstring(L, message);
  lua_concat(L, 2);
  return lua_error(L);
}

class Sandbox {
 public:
  struct Limits {
    int64_t max_memory = int64_t{512} << 20;    // bytes
    int64_t max_instructions = 2'000'000'000;   // Lua VM instructions
    absl::Duration timeout = absl::Minutes(5);  // wall clock
  };
  // The text of module file `path` ("lib/util.lua"); NotFound when absent.
  using ModuleReader = std::function<absl::StatusOr<std::string>(const std::string& path)>;
  // One line a script printed, with its "FILE:LINE: " prefix.
  using Printer = std::function<void(const std::string& line)>;

  static absl::StatusOr<std::unique_ptr<Sandbox>> New(const Limits& limits);
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  lua_State* L() const { return L_; }
  void SetModuleReader(ModuleReader reader) { module_reader_ = std::move(reader); }
  void SetPrinter(Printer printer) { printer_ = std::move(printer); }

  // Loads `text` as chunk `filename` and calls it with no arguments,
  // leaving `results` values on the stack. A first line starting with '#'
  // (a `# syntax=` line) is skipped, as the lua command skips a #! line.
  absl::Status Run(std::string_view text, const std::string& filename, int results);

  // The sandbox of a lua_State made by New.
  static Sandbox& Of(lua_State* L);

  // What the script has used so far.
  int64_t memory_used() const { return memory_used_; }
  int64_t instructions_run() const { return instructions_; }

 private:
  friend const char* ToStableString(lua_State* L, int index, size_t* len);
  explicit Sandbox(const Limits& limits) : limits_(limits) {}
  static void* Alloc(void* ud, void* ptr, size_t osize, size_t nsize);
  static void Hook(lua_State* L, lua_Debug* ar);
  static int Require(lua_State* L);
  static int Print(lua_State* L);
  static int FinishPcall(lua_State* L, int status, lua_KContext extra);
  static int Pcall(lua_State* L);
  static int Xpcall(lua_State* L);
  static int Resume(lua_State* L);
  static int Handler(lua_State* L);
  static int SetMetatable(lua_State* L);
  // Raises the limit error again if a limit was hit: a script cannot catch
  // its way past one.
  static void Rethrow(lua_State* L);
  void Install();
  // The pcall message handler: message plus the script's frames.
  static int Traceback(lua_State* L);

  Limits limits_;
  lua_State* L_ = nullptr;
  int64_t memory_used_ = 0;
  bool memory_refused_ = false;
  int64_t instructions_ = 0;
  std::string limit_hit_;  // the message, once a limit ended the run
  int64_t next_id_ = 0;    // for ToStableString
  absl::Time deadline_;
  ModuleReader module_reader_;
  Printer printer_;
};

// Loads `text` as a chunk named `filename` (text only, never bytecode),
// skipping a first line that starts with '#'. Pushes the function, or the
// error message; returns the lua_load status.
int LoadChunk(lua_State* L, std::string_view text, const std::string& filename);

// tostring() as the sandbox defines it: __tostring and __name are honored;
// tables, functions, coroutines and userdata are named by a per-run counter.
// Pushes the string and returns it.
const char* ToStableString(lua_State* L, int index, size_t* len);

}  // namespace kiln::luafrontend

#endif  // KILN_FRONTENDS_LUA_SANDBOX_H_
