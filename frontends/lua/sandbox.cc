#include "frontends/lua/sandbox.h"

#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kiln::luafrontend {
namespace {

constexpr int kHookEvery = 10000;  // instructions between limit checks
constexpr char kIdsKey[] = "kiln.ids";
constexpr char kLoadedKey[] = "kiln.loaded";
constexpr char kLoadingKey[] = "kiln.loading";

// pairs() in a fixed order. The keys are sorted once into an array kept as
// the iterator's upvalue; a key assigned nil during the loop is skipped.
int KeyRank(lua_State* L, int index) {
  switch (lua_type(L, index)) {
    case LUA_TNUMBER:
      return 0;
    case LUA_TSTRING:
      return 1;
    case LUA_TBOOLEAN:
      return 2;
    default:
      return -1;
  }
}

// True when the key at `a` sorts before the key at `b` (both ranked).
bool KeyLess(lua_State* L, int a, int b) {
  int ra = KeyRank(L, a), rb = KeyRank(L, b);
  if (ra != rb) return ra < rb;
  if (ra == 0) return lua_compare(L, a, b, LUA_OPLT) != 0;
  if (ra == 2) return !lua_toboolean(L, a) && lua_toboolean(L, b);
  size_t la, lb;
  const char* sa = lua_tolstring(L, a, &la);
  const char* sb = lua_tolstring(L, b, &lb);
  int c = memcmp(sa, sb, la < lb ? la : lb);
  return c < 0 || (c == 0 && la < lb);
}

// The comparator table.sort gets for pairs' keys (all ranked, distinct).
int KeyOrder(lua_State* L) {
  lua_pushboolean(L, KeyLess(L, 1, 2));
  return 1;
}

int SortedNext(lua_State* L) {
  // upvalues: 1 the table, 2 the sorted keys, 3 the position.
  lua_Integer i = lua_tointeger(L, lua_upvalueindex(3));
  lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, lua_upvalueindex(2)));
  while (++i <= n) {
    lua_rawgeti(L, lua_upvalueindex(2), i);
    lua_pushvalue(L, -1);
    lua_rawget(L, lua_upvalueindex(1));
    if (!lua_isnil(L, -1)) {
      lua_pushinteger(L, i);
      lua_replace(L, lua_upvalueindex(3));
      return 2;
    }
    lua_pop(L, 2);
  }
  lua_pushinteger(L, n);
  lua_replace(L, lua_upvalueindex(3));
  lua_pushnil(L);
  return 1;
}

int SortedPairs(lua_State* L) {
  luaL_checkany(L, 1);
  if (luaL_getmetafield(L, 1, "__pairs") != LUA_TNIL) {  // as Lua's pairs
    lua_pushvalue(L, 1);
    lua_call(L, 1, 3);
    return 3;
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_newtable(L);  // the keys, at 2
  lua_Integer n = 0;
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    lua_pop(L, 1);
    if (KeyRank(L, -1) < 0) {
      return luaL_error(L,
                        "pairs: a table with %s keys has no stable order (kiln iterates "
                        "tables in sorted key order so builds do not vary); use number, "
                        "string or boolean keys",
                        luaL_typename(L, -1));
    }
    lua_pushvalue(L, -1);
    lua_rawseti(L, 2, ++n);
  }
  if (n > 1) {  // table.sort (upvalue 1, captured at install) with KeyOrder
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 2);
    lua_pushcfunction(L, KeyOrder);
    lua_call(L, 2, 0);
  }
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, SortedNext, 3);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

int StableToString(lua_State* L) {
  luaL_checkany(L, 1);
  ToStableString(L, 1, nullptr);
  return 1;
}

// string.format, with "%s" of a table (or function, ...) named stably and
// "%p" refused. The original is upvalue 1.
int StableFormat(lua_State* L) {
  size_t len;
  const char* f = luaL_checklstring(L, 1, &len);
  int arg = 1;
  for (size_t i = 0; i < len; ++i) {
    if (f[i] != '%') continue;
    if (++i < len && f[i] == '%') continue;
    while (i < len && strchr("-+ #0", f[i]) != nullptr) ++i;
    while (i < len && (isdigit(static_cast<unsigned char>(f[i])) || f[i] == '.')) ++i;
    if (i >= len) break;
    ++arg;
    if (f[i] == 'p') {
      return luaL_error(L,
                        "string.format: %%p prints a memory address, which differs from run "
                        "to run; kiln does not offer it");
    }
    if (f[i] == 's' && arg <= lua_gettop(L) && !lua_isstring(L, arg)) {
      ToStableString(L, arg, nullptr);
      lua_replace(L, arg);
    }
  }
  int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, 1);
  return 1;
}

int SeededRandomseed(lua_State* L) {
  if (lua_gettop(L) == 0) {
    return luaL_error(L,
                      "math.randomseed needs a seed: without one it would seed from the "
                      "clock, and builds would differ (seed from a build arg, e.g. "
                      "math.randomseed(tonumber(kiln.args.SEED)))");
  }
  int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

// load() for source text only: bytecode can crash the VM.
int TextLoad(lua_State* L) {
  size_t len;
  const char* chunk = lua_tolstring(L, 1, &len);
  if (chunk == nullptr || lua_type(L, 1) != LUA_TSTRING) {
    return luaL_error(L, "load: only a string of Lua source can be loaded here");
  }
  const char* name = luaL_optstring(L, 2, "=(load)");
  const char* mode = luaL_optstring(L, 3, "t");
  if (strchr(mode, 't') == nullptr) {
    return luaL_error(L, "load: binary chunks are not allowed (mode \"%s\")", mode);
  }
  bool has_env = !lua_isnone(L, 4);
  if (luaL_loadbufferx(L, chunk, len, name, "t") != LUA_OK) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  if (has_env) {
    lua_pushvalue(L, 4);
    if (lua_setupvalue(L, -2, 1) == nullptr) lua_pop(L, 1);
  }
  return 1;
}

void SetField(lua_State* L, int table, const char* name, lua_CFunction f) {
  lua_pushcfunction(L, f);
  lua_setfield(L, table, name);
}

void WrapField(lua_State* L, int table, const char* name, lua_CFunction f) {
  lua_getfield(L, table, name);
  lua_pushcclosure(L, f, 1);
  lua_setfield(L, table, name);
}

}  // namespace

int LoadChunk(lua_State* L, std::string_view text, const std::string& filename) {
  std::string chunkname = "=" + filename;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::string source;
  if (!text.empty() && text[0] == '#') {  // keeps line numbers: the line becomes a comment
    source = absl::StrCat("--", std::string(text));
    text = source;
  }
  return luaL_loadbufferx(L, text.data(), text.size(), chunkname.c_str(), "t");
}

const char* ToStableString(lua_State* L, int index, size_t* len) {
  index = lua_absindex(L, index);
  int t = lua_type(L, index);
  if (t == LUA_TNIL || t == LUA_TBOOLEAN || t == LUA_TNUMBER || t == LUA_TSTRING ||
      luaL_getmetafield(L, index, "__tostring") != LUA_TNIL) {
    if (t != LUA_TNIL && t != LUA_TBOOLEAN && t != LUA_TNUMBER && t != LUA_TSTRING) {
      lua_pop(L, 1);
    }
    return luaL_tolstring(L, index, len);
  }
  lua_getfield(L, LUA_REGISTRYINDEX, kIdsKey);
  lua_pushvalue(L, index);
  lua_rawget(L, -2);
  lua_Integer id = lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (id == 0) {
    id = ++Sandbox::Of(L).next_id_;
    lua_pushvalue(L, index);
    lua_pushinteger(L, id);
    lua_rawset(L, -3);
  }
  lua_pop(L, 1);
  int name_type = luaL_getmetafield(L, index, "__name");
  const char* kind = name_type == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, index);
  const char* out = lua_pushfstring(L, "%s: %I", kind, static_cast<LUAI_UACINT>(id));
  if (name_type != LUA_TNIL) lua_remove(L, -2);
  if (len != nullptr) *len = strlen(out);
  return out;
}

absl::StatusOr<std::unique_ptr<Sandbox>> Sandbox::New(const Limits& limits) {
  std::unique_ptr<Sandbox> sb(new Sandbox(limits));
  sb->L_ = lua_newstate(&Sandbox::Alloc, sb.get());
  if (sb->L_ == nullptr) return absl::ResourceExhaustedError("lua: cannot create a Lua state");
  *static_cast<Sandbox**>(lua_getextraspace(sb->L_)) = sb.get();
  lua_pushcfunction(sb->L_, [](lua_State* L) {
    Sandbox::Of(L).Install();
    return 0;
  });
  if (lua_pcall(sb->L_, 0, 0, 0) != LUA_OK) {
    return absl::ResourceExhaustedError(
        absl::StrCat("lua: cannot set up the sandbox: ", lua_tostring(sb->L_, -1)));
  }
  lua_sethook(sb->L_, &Sandbox::Hook, LUA_MASKCOUNT, kHookEvery);
  return sb;
}

Sandbox::~Sandbox() {
  if (L_ != nullptr) lua_close(L_);
}

Sandbox& Sandbox::Of(lua_State* L) { return **static_cast<Sandbox**>(lua_getextraspace(L)); }

void* Sandbox::Alloc(void* ud, void* ptr, size_t osize, size_t nsize) {
  auto* sb = static_cast<Sandbox*>(ud);
  int64_t old = ptr == nullptr ? 0 : static_cast<int64_t>(osize);
  if (nsize == 0) {
    free(ptr);
    sb->memory_used_ -= old;
    return nullptr;
  }
  // Lua relies on shrinking never failing.
  int64_t grow = static_cast<int64_t>(nsize) - old;
  if (grow > 0 && sb->memory_used_ + grow > sb->limits_.max_memory) {
    sb->memory_refused_ = true;
    return nullptr;
  }
  void* p = realloc(ptr, nsize);
  if (p != nullptr) sb->memory_used_ += grow;
  return p;
}

void Sandbox::Hook(lua_State* L, lua_Debug* ar) {
  Sandbox& sb = Of(L);
  sb.instructions_ += kHookEvery;
  if (sb.limit_hit_.empty()) {
    std::string why;
    if (sb.instructions_ > sb.limits_.max_instructions) {
      why = absl::StrCat("the script ran more than ", sb.limits_.max_instructions,
                         " Lua instructions, the limit (an endless loop? raise it with --opt "
                         "lua-max-instructions=N)");
    } else if (absl::Now() > sb.deadline_) {
      why = absl::StrCat("the script ran longer than ", absl::FormatDuration(sb.limits_.timeout),
                         ", the limit (raise it with --opt lua-timeout=SECONDS)");
    }
    if (!why.empty()) {
      lua_Debug here;
      if (lua_getstack(L, 0, &here) != 0 && lua_getinfo(L, "Sl", &here) != 0 &&
          here.currentline > 0) {
        why = absl::StrCat(here.short_src, ":", here.currentline, ": ", why);
      }
      sb.limit_hit_ = std::move(why);
    }
  }
  if (!sb.limit_hit_.empty()) Rethrow(L);
}

void Sandbox::Rethrow(lua_State* L) {
  Sandbox& sb = Of(L);
  if (sb.limit_hit_.empty()) return;
  lua_pushstring(L, sb.limit_hit_.c_str());
  lua_error(L);
}

int Sandbox::FinishPcall(lua_State* L, int status, lua_KContext extra) {
  if (status != LUA_OK && status != LUA_YIELD) {
    Rethrow(L);
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);
    return 2;
  }
  return lua_gettop(L) - static_cast<int>(extra);
}

int Sandbox::Pcall(lua_State* L) {
  luaL_checkany(L, 1);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  int status = lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, 0, &Sandbox::FinishPcall);
  return FinishPcall(L, status, 0);
}

// The script's xpcall handler, called only while no limit is hit: a limit
// error raised by the hook reaches handlers with hooks off, where a looping
// handler could never be stopped.
int Sandbox::Handler(lua_State* L) {
  if (!Of(L).limit_hit_.empty()) return 1;
  int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, 1);
  return 1;
}

int Sandbox::Xpcall(lua_State* L) {
  int n = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, &Sandbox::Handler, 1);
  lua_replace(L, 2);
  lua_pushboolean(L, 1);
  lua_pushvalue(L, 1);
  lua_rotate(L, 3, 2);
  int status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, &Sandbox::FinishPcall);
  return FinishPcall(L, status, 2);
}

// setmetatable without __gc: finalizers run with hooks off, so a looping
// one could not be stopped. The original is upvalue 1.
int Sandbox::SetMetatable(lua_State* L) {
  if (lua_istable(L, 2)) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL) {
      return luaL_error(L,
                        "setmetatable: __gc finalizers are not available to build scripts "
                        "(they would run outside the script's limits)");
    }
    lua_pop(L, 1);
  }
  int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, 1);
  return 1;
}

int Sandbox::Resume(lua_State* L) {
  int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  Rethrow(L);
  return lua_gettop(L);
}

int Sandbox::Print(lua_State* L) {
  int n = lua_gettop(L);
  luaL_where(L, 1);
  for (int i = 1; i <= n; ++i) {
    if (i > 1) lua_pushliteral(L, "\t");
    ToStableString(L, i, nullptr);
  }
  lua_concat(L, n == 0 ? 1 : 2 * n);
  Sandbox& sb = Of(L);
  if (sb.printer_) {
    size_t len;
    const char* line = lua_tolstring(L, -1, &len);
    sb.printer_(std::string(line, len));
  }
  return 0;
}

int Sandbox::Require(lua_State* L) {
  size_t len;
  const char* name = luaL_checklstring(L, 1, &len);
  bool valid = len > 0 && name[0] != '.' && name[len - 1] != '.';
  for (size_t i = 0; valid && i < len; ++i) {
    char c = name[i];
    valid = isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
            (c == '.' && name[i + 1] != '.');
  }
  if (!valid) {
    return luaL_error(L,
                      "require \"%s\": a module name is words of letters, digits, '_' and '-' "
                      "joined by dots (\"lib.util\" is the file lib/util.lua of the context)",
                      name);
  }
  lua_getfield(L, LUA_REGISTRYINDEX, kLoadedKey);  // 2
  lua_getfield(L, 2, name);
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);
  lua_getfield(L, LUA_REGISTRYINDEX, kLoadingKey);  // 3
  if (lua_getfield(L, 3, name) != LUA_TNIL) {
    return luaL_error(L, "require \"%s\": the module requires itself (through a cycle)", name);
  }
  lua_pop(L, 1);
  Sandbox& sb = Of(L);
  int loaded;
  {
    std::string path(name, len);
    for (char& c : path) {
      if (c == '.') c = '/';
    }
    path += ".lua";
    absl::StatusOr<std::string> text =
        sb.module_reader_ ? sb.module_reader_(path)
                          : absl::NotFoundError("no module reader in this sandbox");
    if (text.ok()) {
      loaded = LoadChunk(L, *text, path);
    } else {
      std::string msg = absl::IsNotFound(text.status())
                            ? absl::StrCat("module \"", name, "\" not found: there is no ", path,
                                           " in the build context")
                            : absl::StrCat("module \"", name, "\": ", text.status().message());
      lua_pushlstring(L, msg.data(), msg.size());
      loaded = -1;
    }
  }
  if (loaded == -1) {
    luaL_where(L, 1);
    lua_insert(L, -2);
    lua_concat(L, 2);
    return lua_error(L);
  }
  if (loaded != LUA_OK) return lua_error(L);  // a syntax error, placed in the module
  lua_pushboolean(L, 1);
  lua_setfield(L, 3, name);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  lua_pushnil(L);
  lua_setfield(L, 3, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, 2, name);
  return 1;
}

void Sandbox::Install() {
  lua_State* L = L_;
  struct Lib {
    const char* name;
    lua_CFunction open;
  };
  for (const Lib& lib :
       {Lib{LUA_GNAME, luaopen_base}, Lib{LUA_STRLIBNAME, luaopen_string},
        Lib{LUA_TABLIBNAME, luaopen_table}, Lib{LUA_MATHLIBNAME, luaopen_math},
        Lib{LUA_UTF8LIBNAME, luaopen_utf8}, Lib{LUA_COLIBNAME, luaopen_coroutine}}) {
    luaL_requiref(L, lib.name, lib.open, 1);
    lua_pop(L, 1);
  }
  lua_newtable(L);  // ids of tables & co, for ToStableString; weak keys
  lua_newtable(L);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, kIdsKey);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kLoadedKey);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kLoadingKey);

  lua_pushglobaltable(L);
  int g = lua_gettop(L);
  for (const char* name : {"dofile", "loadfile", "collectgarbage"}) {
    lua_pushnil(L);
    lua_setfield(L, g, name);
  }
  SetField(L, g, "print", &Sandbox::Print);
  SetField(L, g, "load", TextLoad);
  SetField(L, g, "pcall", &Sandbox::Pcall);
  SetField(L, g, "xpcall", &Sandbox::Xpcall);
  SetField(L, g, "tostring", StableToString);
  lua_getfield(L, g, LUA_TABLIBNAME);
  lua_getfield(L, -1, "sort");  // kept: a script replacing table.sort changes nothing here
  lua_pushcclosure(L, SortedPairs, 1);
  lua_setfield(L, g, "pairs");
  lua_pop(L, 1);
  SetField(L, g, "require", &Sandbox::Require);
  WrapField(L, g, "setmetatable", &Sandbox::SetMetatable);

  lua_getfield(L, g, LUA_STRLIBNAME);
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  WrapField(L, lua_gettop(L), "format", StableFormat);
  lua_pop(L, 1);

  lua_getfield(L, g, LUA_MATHLIBNAME);
  lua_getfield(L, -1, "randomseed");
  lua_pushinteger(L, 0);
  lua_call(L, 1, 0);
  WrapField(L, lua_gettop(L), "randomseed", SeededRandomseed);
  lua_pop(L, 1);

  lua_getfield(L, g, LUA_COLIBNAME);
  WrapField(L, lua_gettop(L), "resume", &Sandbox::Resume);
  lua_pop(L, 1);
  lua_pop(L, 1);  // globals
}

int Sandbox::Traceback(lua_State* L) {
  if (lua_type(L, 1) != LUA_TSTRING) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
      lua_replace(L, 1);
    } else {
      lua_pushfstring(L, "(the script raised an error that is a %s, not a message)",
                      luaL_typename(L, 1));
      lua_replace(L, 1);
    }
  }
  lua_settop(L, 1);
  lua_Debug ar;
  int parts = 1, shown = 0;
  for (int level = 1; lua_getstack(L, level, &ar) != 0; ++level) {
    lua_getinfo(L, "Sln", &ar);
    if (ar.currentline <= 0) continue;  // C functions
    if (shown == 0) {
      lua_pushliteral(L, "\ntraceback:");
      ++parts;
    }
    if (++shown > 10) {
      lua_pushliteral(L, "\n  ...");
      ++parts;
      break;
    }
    if (*ar.what == 'm') {
      lua_pushfstring(L, "\n  %s:%d: in the main chunk", ar.short_src, ar.currentline);
    } else if (ar.name != nullptr) {
      lua_pushfstring(L, "\n  %s:%d: in function '%s'", ar.short_src, ar.currentline, ar.name);
    } else {
      lua_pushfstring(L, "\n  %s:%d: in a function defined at line %d", ar.short_src,
                      ar.currentline, ar.linedefined);
    }
    ++parts;
  }
  lua_concat(L, parts);
  return 1;
}

absl::Status Sandbox::Run(std::string_view text, const std::string& filename, int results) {
  lua_State* L = L_;
  deadline_ = absl::Now() + limits_.timeout;
  lua_pushcfunction(L, &Sandbox::Traceback);
  int handler = lua_gettop(L);
  int status = LoadChunk(L, text, filename);
  if (status == LUA_OK) status = lua_pcall(L, 0, results, handler);
  if (status == LUA_OK) {
    lua_remove(L, handler);
    return absl::OkStatus();
  }
  std::string message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "unknown error";
  lua_settop(L, handler - 1);
  if (status == LUA_ERRMEM || (memory_refused_ && message == "not enough memory")) {
    return absl::ResourceExhaustedError(
        absl::StrCat(filename, ": the script needs more than ", limits_.max_memory >> 20,
                     " MiB of memory, the limit (raise it with --opt lua-max-memory=MIB)"));
  }
  if (!limit_hit_.empty()) return absl::ResourceExhaustedError(message);
  return absl::InvalidArgumentError(message);
}

}  // namespace kiln::luafrontend
