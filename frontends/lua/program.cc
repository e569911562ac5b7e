#include "frontends/lua/program.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sdk/base/digest.h"
#include "sdk/base/json.h"
#include "sdk/base/status_macros.h"
#include "sdk/base/suggest.h"
#include "sdk/frontend/context.h"
#include "sdk/frontend/dockerlike.h"
#include "sdk/llb/internal/go_path.h"

namespace kiln::luafrontend {
namespace {

using Json = nlohmann::json;
using llb_internal::NormalizeActionPath;

constexpr char kComment[] = "kiln.lua.v0";
constexpr char kProgramKey[] = "kiln.program";
constexpr char kStateMeta[] = "kiln.State";
constexpr char kExecMeta[] = "kiln.Exec";
constexpr char kMountMeta[] = "kiln.Mount";
constexpr char kResultMeta[] = "kiln.Result";

// The values scripts hold, as Lua userdata.
struct LState {
  llb::State state;
  // The config of the image the state was loaded from (kiln.image,
  // kiln.scratch, kiln.dockerfile), carried along for kiln.result.
  std::shared_ptr<const Json> image;
};
struct LExec {
  llb::ExecState exec;
  std::shared_ptr<const Json> image;
};
struct LMount {
  frontend::RunMount mount;
};
struct LResult {
  llb::State state;
  std::string config;
};

// What one run shares between API calls.
struct Program {
  frontend::Bridge& bridge;
  const ProgramOptions& options;
  std::map<std::string, std::string> args;    // kiln.args
  pb::NetMode forced_network = pb::UNSET;     // BuildKit's force-network-mode
  std::optional<pb::ProxyEnv> proxy_env;      // from the proxy build args
  std::map<std::string, LState> images;       // by reference as written
  std::map<std::string, std::string> solved;  // terminal digest -> result ref
  std::optional<std::vector<std::string>> context_excludes;
};

Program& P(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, kProgramKey);
  auto* p = static_cast<Program*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return *p;
}

template <typename T>
T* Push(lua_State* L, T value, const char* meta) {
  void* mem = lua_newuserdatauv(L, sizeof(T), 0);
  T* t = new (mem) T(std::move(value));
  luaL_setmetatable(L, meta);
  return t;
}

template <typename T>
int Gc(lua_State* L) {
  static_cast<T*>(lua_touserdata(L, 1))->~T();
  return 0;
}

template <typename T>
T* To(lua_State* L, int index, const char* meta) {
  return static_cast<T*>(luaL_testudata(L, index, meta));
}

// "a number", "a kiln.Exec", ... for messages.
std::string Describe(lua_State* L, int index) {
  for (const char* meta : {kStateMeta, kExecMeta, kMountMeta, kResultMeta}) {
    if (luaL_testudata(L, index, meta) != nullptr) return absl::StrCat("a ", meta);
  }
  if (lua_isnoneornil(L, index)) return "nothing (nil)";
  return absl::StrCat("a ", luaL_typename(L, index));
}

// "build.lua:12": where the script called the running API function.
std::string Where(lua_State* L) {
  lua_Debug ar;
  if (lua_getstack(L, 1, &ar) != 0 && lua_getinfo(L, "Sl", &ar) != 0 && ar.currentline > 0) {
    return absl::StrCat(ar.short_src, ":", ar.currentline);
  }
  return P(L).options.filename;
}

llb::OpOptions Op(lua_State* L, const std::string& what) {
  llb::OpOptions o;
  o.custom_name = absl::StrCat("[", Where(L), "] ", what);
  return o;
}

[[noreturn]] void Fail(const std::string& fn, const std::string& message) {
  throw Error(absl::StrCat(fn, ": ", message));
}

void Check(const absl::Status& st, const std::string& fn) {
  if (!st.ok()) Fail(fn, std::string(st.message()));
}

const LState& ArgState(lua_State* L, int index, const std::string& fn, const std::string& what) {
  if (LState* s = To<LState>(L, index, kStateMeta)) return *s;
  std::string hint;
  if (To<LExec>(L, index, kExecMeta) != nullptr) {
    hint =
        " (that is what state:run returns: use :root() for its root filesystem, or "
        ":mount(path) for a mount's)";
  }
  Fail(fn, absl::StrCat(what,
                        " must be a State (from kiln.image, kiln.scratch, kiln.context, "
                        "...), not ",
                        Describe(L, index), hint));
}

std::string ArgString(lua_State* L, int index, const std::string& fn, const std::string& what) {
  if (lua_type(L, index) != LUA_TSTRING) {
    Fail(fn, absl::StrCat(what, " must be a string, not ", Describe(L, index)));
  }
  size_t len;
  const char* s = lua_tolstring(L, index, &len);
  return std::string(s, len);
}

// A string, or a number written as Lua writes it.
std::optional<std::string> Scalar(lua_State* L, int index) {
  int t = lua_type(L, index);
  if (t != LUA_TSTRING && t != LUA_TNUMBER) return std::nullopt;
  lua_pushvalue(L, index);  // lua_tolstring converts in place: work on a copy
  size_t len;
  const char* s = lua_tolstring(L, -1, &len);
  std::string out(s, len);
  lua_pop(L, 1);
  return out;
}

// An options table: every key must be a known option.
class Opts {
 public:
  Opts(lua_State* L, int index, std::string fn, std::vector<std::string> known)
      : L_(L), index_(lua_absindex(L, index)), fn_(std::move(fn)) {
    if (lua_isnoneornil(L, index_)) {
      index_ = 0;
      return;
    }
    if (!lua_istable(L, index_)) {
      Fail(fn_, absl::StrCat("the options must be a table, not ", Describe(L, index_)));
    }
    lua_pushnil(L);
    while (lua_next(L, index_) != 0) {
      lua_pop(L, 1);
      if (lua_type(L, -1) != LUA_TSTRING) {
        lua_pop(L, 1);
        Fail(fn_,
             "option names are strings; this table has a key of another type (a list "
             "where options were expected?)");
      }
      std::string key = lua_tostring(L, -1);
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        lua_pop(L, 1);
        std::string hint = Suggest(key, known);
        Fail(fn_, absl::StrCat("unknown option \"", key, "\"",
                               hint.empty() ? "" : absl::StrCat(" (did you mean \"", hint, "\"?)"),
                               "; it takes ", absl::StrJoin(known, ", ")));
      }
    }
  }

  // Pushes the option's value (nil when absent); returns its type.
  int Get(const char* key) const {
    if (index_ == 0) {
      lua_pushnil(L_);
      return LUA_TNIL;
    }
    lua_pushstring(L_, key);
    return lua_rawget(L_, index_);
  }

  // The Lua type of option `key` (LUA_TNIL when absent).
  int Type(const char* key) const {
    int t = Get(key);
    lua_pop(L_, 1);
    return t;
  }

  std::optional<std::string> String(const char* key) const {
    int t = Get(key);
    std::optional<std::string> out;
    if (t != LUA_TNIL) out = Scalar(L_, -1);
    lua_pop(L_, 1);
    if (t != LUA_TNIL && !out.has_value()) Bad(key, "a string", t);
    return out;
  }

  std::optional<bool> Bool(const char* key) const {
    int t = Get(key);
    bool b = lua_toboolean(L_, -1) != 0;
    lua_pop(L_, 1);
    if (t == LUA_TNIL) return std::nullopt;
    if (t != LUA_TBOOLEAN) Bad(key, "true or false", t);
    return b;
  }

  std::optional<int64_t> Int(const char* key) const {
    int t = Get(key);
    int isnum = 0;
    lua_Integer v = lua_tointegerx(L_, -1, &isnum);
    lua_pop(L_, 1);
    if (t == LUA_TNIL) return std::nullopt;
    if (t != LUA_TNUMBER || isnum == 0) Bad(key, "an integer", t);
    return v;
  }

  // A file mode: an octal string ("0755") or an integer (0x1ed, 493).
  std::optional<uint32_t> Mode(const char* key) const {
    int t = Get(key);
    lua_pop(L_, 1);
    if (t == LUA_TNIL) return std::nullopt;
    if (t == LUA_TNUMBER) {
      std::optional<int64_t> v = Int(key);
      if (*v < 0 || *v > 07777) Fail(fn_, absl::StrCat("option \"", key, "\" is out of range"));
      return static_cast<uint32_t>(*v);
    }
    std::string s = *String(key);
    if (s.empty() || s.size() > 5 || s.find_first_not_of("01234567") != std::string::npos) {
      Fail(fn_, absl::StrCat("option \"", key,
                             "\" must be an octal string such as \"0755\", not \"", s, "\""));
    }
    return static_cast<uint32_t>(std::stoul(s, nullptr, 8));
  }

  // A string or a list of strings.
  std::vector<std::string> List(const char* key) const {
    std::vector<std::string> out;
    int t = Get(key);
    if (t == LUA_TSTRING) {
      out.push_back(lua_tostring(L_, -1));
    } else if (t == LUA_TTABLE) {
      int top = lua_gettop(L_);
      lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L_, top));
      for (lua_Integer i = 1; i <= n; ++i) {
        lua_rawgeti(L_, top, i);
        std::optional<std::string> s = Scalar(L_, -1);
        lua_pop(L_, 1);
        if (!s.has_value()) {
          lua_pop(L_, 1);
          Fail(fn_,
               absl::StrCat("option \"", key, "\" must be a list of strings; item ", i, " is not"));
        }
        out.push_back(std::move(*s));
      }
    } else if (t != LUA_TNIL) {
      lua_pop(L_, 1);
      Bad(key, "a string or a list of strings", t);
    }
    lua_pop(L_, 1);
    return out;
  }

  // A table of string keys to strings (or numbers), in key order.
  std::map<std::string, std::string> Map(const char* key) const {
    std::map<std::string, std::string> out;
    int t = Get(key);
    if (t == LUA_TNIL) {
      lua_pop(L_, 1);
      return out;
    }
    if (t != LUA_TTABLE) {
      lua_pop(L_, 1);
      Bad(key, "a table of names to strings", t);
    }
    int top = lua_gettop(L_);
    lua_pushnil(L_);
    while (lua_next(L_, top) != 0) {
      std::optional<std::string> v = Scalar(L_, -1);
      bool named = lua_type(L_, -2) == LUA_TSTRING;
      std::string k = named ? lua_tostring(L_, -2) : "";
      lua_pop(L_, 1);
      if (!named || !v.has_value()) {
        lua_settop(L_, top - 1);
        Fail(fn_, absl::StrCat("option \"", key, "\" must map names to strings; ",
                               named ? "\"" + k + "\"" : "a key", " is not"));
      }
      out[k] = std::move(*v);
    }
    lua_pop(L_, 1);
    return out;
  }

  [[noreturn]] void Bad(const char* key, const char* want, int type) const {
    Fail(fn_,
         absl::StrCat("option \"", key, "\" must be ", want, ", not a ", lua_typename(L_, type)));
  }

  const std::string& fn() const { return fn_; }

 private:
  lua_State* L_;
  int index_;
  std::string fn_;
};

std::string Cwd(const llb::State& s) { return s.GetDir().empty() ? "/" : s.GetDir(); }

std::optional<llb::Owner> OwnerOpt(const Opts& o) {
  std::optional<std::string> chown = o.String("chown");
  if (!chown.has_value()) return std::nullopt;
  if (chown->empty()) Fail(o.fn(), "option \"chown\" is empty");
  return llb::Owner::Parse(*chown);
}

// The build context: the client's, or the one the build was given.
// The build's given "context" input, when it is a single local source, as
// that source with `include` and `exclude` added to its own patterns.
std::optional<llb::State> WithPatterns(Program& p, const std::vector<std::string>& include,
                                       const std::vector<std::string>& exclude) {
  auto in = p.bridge.Inputs().find("context");
  if (in == p.bridge.Inputs().end() || in->second.def_size() != 2) return std::nullopt;
  pb::Op source;
  if (!source.ParseFromString(in->second.def(0)) || !source.has_source()) return std::nullopt;
  const pb::SourceOp& src = source.source();
  if (!absl::StartsWith(src.identifier(), "local://")) return std::nullopt;
  auto list = [&](const char* key) {
    auto it = src.attrs().find(key);
    if (it == src.attrs().end()) return std::vector<std::string>{};
    absl::StatusOr<std::vector<std::string>> v = ParseJsonStringArray(it->second);
    return v.ok() ? *v : std::vector<std::string>{};
  };
  auto attr = [&](const char* key) {
    auto it = src.attrs().find(key);
    return it == src.attrs().end() ? std::string() : it->second;
  };
  llb::LocalOptions lo;
  lo.include_patterns = list("local.includepattern");
  // Two include lists would widen each other: filter by a copy then.
  if (!lo.include_patterns.empty() && !include.empty()) return std::nullopt;
  lo.include_patterns.insert(lo.include_patterns.end(), include.begin(), include.end());
  lo.exclude_patterns = list("local.excludepatterns");
  lo.exclude_patterns.insert(lo.exclude_patterns.end(), exclude.begin(), exclude.end());
  lo.follow_paths = list("local.followpaths");
  lo.shared_key_hint = attr("local.sharedkeyhint");
  lo.session_id = attr("local.session");
  lo.unique_id = attr("local.unique");
  lo.op.custom_name = "[internal] load build context";
  return llb::Local(src.identifier().substr(strlen("local://")), lo);
}

llb::State Context(Program& p, const std::vector<std::string>& exclude,
                   const std::vector<std::string>& include) {
  if (std::optional<llb::State> given = frontend::GivenContext(p.bridge)) {
    if (include.empty() && exclude.empty()) return *given;
    // A forwarded build (BuildKit's dockerfile.v0 before a `# syntax=` image)
    // gives the context as a local source: the same source with the
    // script's patterns added, so no newer LLB feature is needed.
    if (std::optional<llb::State> local = WithPatterns(p, include, exclude)) return *local;
    // Another given context (the Engine API's upload, a remote context)
    // would need a filtering copy with patterns, which older BuildKits
    // lack: used as it is, and said so.
    p.bridge.Warn(
        "kiln.context: include/exclude are not applied to a context given as a "
        "build input that is not a local directory");
    return *given;
  }
  if (!p.context_excludes.has_value()) {
    absl::StatusOr<std::vector<std::string>> ex =
        frontend::ReadContextExcludes(p.bridge, p.options.filename);
    Check(ex.status(), "kiln.context");
    p.context_excludes = std::move(*ex);
  }
  llb::LocalOptions lo;
  lo.exclude_patterns = *p.context_excludes;
  lo.exclude_patterns.insert(lo.exclude_patterns.end(), exclude.begin(), exclude.end());
  lo.include_patterns = include;
  lo.shared_key_hint = "context";
  lo.session_id = p.bridge.SessionID();
  lo.op.custom_name = "[internal] load build context";
  return llb::Local("context", lo);
}

// Solves a state once per run and returns the result's reference.
std::string Solve(Program& p, const llb::State& state, const std::string& fn) {
  if (state.IsScratch()) Fail(fn, "the state is empty (scratch): it has no files");
  absl::StatusOr<pb::Definition> def = llb::Marshal(state);
  Check(def.status(), fn);
  std::string key = DigestOf(def->def(def->def_size() - 1));
  auto it = p.solved.find(key);
  if (it != p.solved.end()) return it->second;
  absl::StatusOr<std::string> ref = p.bridge.Solve(*def);
  Check(ref.status(), fn);
  p.solved[key] = *ref;
  return *ref;
}

void PushJson(lua_State* L, const Json& j, int depth) {
  if (depth > 64) throw Error("kiln.image_config: the config is nested too deeply");
  luaL_checkstack(L, 4, "kiln.image_config");
  switch (j.type()) {
    case Json::value_t::object:
      lua_createtable(L, 0, static_cast<int>(j.size()));
      for (const auto& [k, v] : j.items()) {
        lua_pushlstring(L, k.data(), k.size());
        PushJson(L, v, depth + 1);
        lua_rawset(L, -3);
      }
      return;
    case Json::value_t::array: {
      lua_createtable(L, static_cast<int>(j.size()), 0);
      lua_Integer i = 0;
      for (const Json& v : j) {
        PushJson(L, v, depth + 1);
        lua_rawseti(L, -2, ++i);
      }
      return;
    }
    case Json::value_t::string: {
      const std::string& s = j.get_ref<const std::string&>();
      lua_pushlstring(L, s.data(), s.size());
      return;
    }
    case Json::value_t::boolean:
      lua_pushboolean(L, j.get<bool>());
      return;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      lua_pushinteger(L, j.get<lua_Integer>());
      return;
    case Json::value_t::number_float:
      lua_pushnumber(L, j.get<double>());
      return;
    default:
      lua_pushnil(L);  // null: an absent field in Lua
  }
}

// The image config a state's result gets: its image's (or an empty one),
// with the state's env, working dir and user, as a Dockerfile stage's.
Json BaseConfig(const LState& s) {
  Json image = s.image ? *s.image : frontend::EmptyImageConfig();
  if (!image.is_object()) image = frontend::EmptyImageConfig();
  Json& config = image["config"];
  if (!config.is_object()) config = Json::object();
  std::vector<std::string> env = s.state.Env();
  if (!env.empty()) config["Env"] = env;
  config["WorkingDir"] = Cwd(s.state);
  if (!s.state.GetUser().empty()) config["User"] = s.state.GetUser();
  return image;
}

void History(Json& image, const std::string& created_by) {
  if (!image.contains("history") || !image["history"].is_array()) image["history"] = Json::array();
  image["history"].push_back(
      {{"created_by", created_by}, {"comment", kComment}, {"empty_layer", true}});
}

// A command: a string runs under the image's shell, a list as it is.
std::vector<std::string> Command(lua_State* L, int index, const Json& image, const std::string& fn,
                                 const std::string& what, bool* shell_form) {
  std::vector<std::string> out;
  if (lua_type(L, index) == LUA_TSTRING) {
    out = frontend::ShellOf(image);
    out.push_back(lua_tostring(L, index));
    if (shell_form != nullptr) *shell_form = true;
    return out;
  }
  if (!lua_istable(L, index)) {
    Fail(fn, absl::StrCat(what, " must be a string (run by the shell) or a list of strings, not ",
                          Describe(L, index)));
  }
  lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, index));
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, index, i);
    std::optional<std::string> s = Scalar(L, -1);
    lua_pop(L, 1);
    if (!s.has_value()) Fail(fn, absl::StrCat(what, ": item ", i, " is not a string"));
    out.push_back(std::move(*s));
  }
  if (shell_form != nullptr) *shell_form = false;
  return out;
}

// --- kiln.* ---------------------------------------------------------------

int KilnImage(lua_State* L) {
  Program& p = P(L);
  std::string ref = ArgString(L, 1, "kiln.image", "the image reference");
  Opts o(L, 2, "kiln.image", {});
  auto it = p.images.find(ref);
  if (it == p.images.end()) {
    absl::StatusOr<frontend::ResolvedImage> img = p.bridge.ResolveImageConfig(ref);
    Check(img.status(), "kiln.image");
    LState s;
    Json config;
    Check(frontend::LoadBaseImage(*img, p.options.platform, &s.state, &config), "kiln.image");
    frontend::ApplyBaseConfig(p.options.platform, &config, &s.state);
    s.image = std::make_shared<const Json>(std::move(config));
    it = p.images.emplace(ref, std::move(s)).first;
  }
  Push(L, it->second, kStateMeta);
  return 1;
}

int KilnScratch(lua_State* L) {
  Program& p = P(L);
  LState s;
  Json config = frontend::EmptyImageConfig();
  frontend::ApplyBaseConfig(p.options.platform, &config, &s.state);  // as FROM scratch
  s.image = std::make_shared<const Json>(std::move(config));
  Push(L, std::move(s), kStateMeta);
  return 1;
}

int KilnContext(lua_State* L) {
  Program& p = P(L);
  Opts o(L, 1, "kiln.context", {"exclude", "include"});
  Push(L, LState{Context(p, o.List("exclude"), o.List("include")), nullptr}, kStateMeta);
  return 1;
}

int KilnHttp(lua_State* L) {
  std::string url = ArgString(L, 1, "kiln.http", "the URL");
  if (!absl::StartsWith(url, "http://") && !absl::StartsWith(url, "https://")) {
    Fail("kiln.http", "the URL must start with http:// or https://: " + url);
  }
  Opts o(L, 2, "kiln.http", {"checksum", "chmod", "filename"});
  llb::HttpOptions h;
  h.checksum = o.String("checksum").value_or("");
  h.filename = o.String("filename").value_or("");
  h.perm = o.Mode("chmod").value_or(0);
  h.op = Op(L, "HTTP " + url);
  Push(L, LState{llb::Http(url, h), nullptr}, kStateMeta);
  return 1;
}

int KilnGit(lua_State* L) {
  std::string url = ArgString(L, 1, "kiln.git", "the repository URL");
  std::string ref;
  int opts = 2;
  if (lua_type(L, 2) == LUA_TSTRING) {
    ref = lua_tostring(L, 2);
    opts = 3;
  } else if (!lua_isnoneornil(L, 2) && !lua_istable(L, 2)) {
    Fail("kiln.git", "the ref must be a string (a branch, tag or commit), not " + Describe(L, 2));
  }
  Opts o(L, opts, "kiln.git", {"checksum", "keep_git_dir", "subdir"});
  llb::GitOptions g;
  g.keep_git_dir = o.Bool("keep_git_dir").value_or(false);
  g.subdir = o.String("subdir").value_or("");
  g.checksum = o.String("checksum").value_or("");
  g.op = Op(L, absl::StrCat("GIT ", url, ref.empty() ? "" : "#" + ref));
  Push(L, LState{llb::Git(url, ref, g), nullptr}, kStateMeta);
  return 1;
}

int KilnMerge(lua_State* L) {
  if (!lua_istable(L, 1) || To<LState>(L, 1, kStateMeta) != nullptr) {
    Fail("kiln.merge", "takes a list of States, not " + Describe(L, 1));
  }
  std::vector<llb::State> states;
  std::shared_ptr<const Json> image;
  lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, 1));
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, 1, i);
    const LState& s = ArgState(L, -1, "kiln.merge", absl::StrCat("item ", i));
    if (i == 1) image = s.image;
    states.push_back(s.state);
    lua_pop(L, 1);
  }
  Push(L, LState{llb::Merge(states, Op(L, absl::StrCat("MERGE ", n, " states"))), image},
       kStateMeta);
  return 1;
}

int KilnDiff(lua_State* L) {
  const LState& lower = ArgState(L, 1, "kiln.diff", "the lower state");
  const LState& upper = ArgState(L, 2, "kiln.diff", "the upper state");
  Push(L, LState{llb::Diff(lower.state, upper.state, Op(L, "DIFF")), lower.image}, kStateMeta);
  return 1;
}

int KilnReadFile(lua_State* L) {
  Program& p = P(L);
  const LState& s = ArgState(L, 1, "kiln.read_file", "the state");
  std::string path = ArgString(L, 2, "kiln.read_file", "the path");
  std::string ref = Solve(p, s.state, "kiln.read_file");
  absl::StatusOr<std::string> data =
      p.bridge.ReadFile(ref, NormalizeActionPath(Cwd(s.state), path, false));
  Check(data.status(), "kiln.read_file");
  lua_pushlstring(L, data->data(), data->size());
  return 1;
}

const char* FileType(uint32_t mode) {
  if (S_ISDIR(mode)) return "dir";
  if (S_ISREG(mode)) return "file";
  if (S_ISLNK(mode)) return "symlink";
  return "other";
}

void PushStat(lua_State* L, const frontend::FileStat& st) {
  lua_createtable(L, 0, 7);
  lua_pushstring(L, st.path.c_str());
  lua_setfield(L, -2, "name");
  lua_pushstring(L, FileType(st.mode));
  lua_setfield(L, -2, "type");
  lua_pushinteger(L, st.mode & 07777);
  lua_setfield(L, -2, "mode");
  lua_pushinteger(L, st.size);
  lua_setfield(L, -2, "size");
  lua_pushinteger(L, st.uid);
  lua_setfield(L, -2, "uid");
  lua_pushinteger(L, st.gid);
  lua_setfield(L, -2, "gid");
  if (!st.linkname.empty()) {
    lua_pushstring(L, st.linkname.c_str());
    lua_setfield(L, -2, "linkname");
  }
}

int KilnReadDir(lua_State* L) {
  Program& p = P(L);
  const LState& s = ArgState(L, 1, "kiln.read_dir", "the state");
  std::string path = ArgString(L, 2, "kiln.read_dir", "the path");
  Opts o(L, 3, "kiln.read_dir", {"pattern"});
  std::string ref = Solve(p, s.state, "kiln.read_dir");
  absl::StatusOr<std::vector<frontend::FileStat>> entries = p.bridge.ReadDir(
      ref, NormalizeActionPath(Cwd(s.state), path, false), o.String("pattern").value_or(""));
  Check(entries.status(), "kiln.read_dir");
  lua_createtable(L, static_cast<int>(entries->size()), 0);
  lua_Integer i = 0;
  for (const frontend::FileStat& e : *entries) {
    PushStat(L, e);
    lua_rawseti(L, -2, ++i);
  }
  return 1;
}

int KilnStat(lua_State* L) {
  Program& p = P(L);
  const LState& s = ArgState(L, 1, "kiln.stat", "the state");
  std::string path = ArgString(L, 2, "kiln.stat", "the path");
  std::string ref = Solve(p, s.state, "kiln.stat");
  absl::StatusOr<frontend::FileStat> st =
      p.bridge.StatFile(ref, NormalizeActionPath(Cwd(s.state), path, false));
  if (absl::IsNotFound(st.status())) {
    lua_pushnil(L);
    return 1;
  }
  Check(st.status(), "kiln.stat");
  PushStat(L, *st);
  return 1;
}

int KilnImageConfig(lua_State* L) {
  Program& p = P(L);
  std::string ref = ArgString(L, 1, "kiln.image_config", "the image reference");
  absl::StatusOr<frontend::ResolvedImage> img = p.bridge.ResolveImageConfig(ref);
  Check(img.status(), "kiln.image_config");
  Json config = Json::parse(img->config, nullptr, false);
  if (config.is_discarded()) Fail("kiln.image_config", "the config of " + ref + " is not JSON");
  PushJson(L, config, 0);
  return 1;
}

int KilnDockerfile(lua_State* L) {
  Program& p = P(L);
  const std::string fn = "kiln.dockerfile";
  const LState& where = ArgState(L, 1, fn, "the state holding the Dockerfile");
  Opts o(L, 2, fn, {"args", "context", "filename", "target"});
  std::map<std::string, std::string> options;
  options["filename"] = o.String("filename").value_or("Dockerfile");
  if (auto target = o.String("target")) options["target"] = *target;
  for (const auto& [k, v] : o.Map("args")) options["build-arg:" + k] = v;
  llb::State context = where.state;
  if (o.Get("context") != LUA_TNIL) context = ArgState(L, -1, fn, "option \"context\"").state;
  lua_pop(L, 1);
  std::map<std::string, pb::Definition> inputs;
  absl::StatusOr<pb::Definition> def = llb::Marshal(where.state);
  Check(def.status(), fn);
  inputs["dockerfile"] = std::move(*def);
  def = llb::Marshal(context);
  Check(def.status(), fn);
  inputs["context"] = std::move(*def);
  absl::StatusOr<frontend::Result> built = p.bridge.CallFrontend("dockerfile.v0", options, inputs);
  Check(built.status(), fn);
  LState out{llb::FromDefinition(built->definition), nullptr};
  auto md = built->metadata.find(frontend::kImageConfigKey);
  if (md != built->metadata.end()) {
    Json config = Json::parse(md->second, nullptr, false);
    if (config.is_object()) {
      frontend::ApplyBaseConfig(p.options.platform, &config, &out.state);  // as FROM a stage
      out.image = std::make_shared<const Json>(std::move(config));
    }
  }
  Push(L, std::move(out), kStateMeta);
  return 1;
}

int KilnWarn(lua_State* L) {
  std::string msg = ArgString(L, 1, "kiln.warn", "the message");
  P(L).bridge.Warn(absl::StrCat(Where(L), ": ", msg));
  return 0;
}

// --- mounts ---------------------------------------------------------------

int NewMount(lua_State* L, frontend::RunMount m) {
  Push(L, LMount{std::move(m)}, kMountMeta);
  return 1;
}

void MountOwner(const Opts& o, frontend::RunMount* m) {
  m->mode = o.Mode("mode");
  if (auto uid = o.Int("uid")) m->uid = static_cast<uint32_t>(*uid);
  if (auto gid = o.Int("gid")) m->gid = static_cast<uint32_t>(*gid);
}

int KilnCache(lua_State* L) {
  frontend::RunMount m;
  m.type = "cache";
  m.target = ArgString(L, 1, "kiln.cache", "the target path");
  Opts o(L, 2, "kiln.cache", {"from", "gid", "id", "mode", "readonly", "sharing", "source", "uid"});
  m.id = o.String("id").value_or("");
  m.sharing = o.String("sharing").value_or("shared");
  if (m.sharing != "shared" && m.sharing != "private" && m.sharing != "locked") {
    std::string hint = Suggest(m.sharing, {"shared", "private", "locked"});
    Fail("kiln.cache", absl::StrCat("sharing is shared, private or locked, not \"", m.sharing, "\"",
                                    hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
  }
  m.readonly = o.Bool("readonly").value_or(false);
  m.source = o.String("source").value_or("");
  if (o.Get("from") != LUA_TNIL) m.from = ArgState(L, -1, "kiln.cache", "option \"from\"").state;
  lua_pop(L, 1);
  MountOwner(o, &m);
  return NewMount(L, std::move(m));
}

int KilnBind(lua_State* L) {
  frontend::RunMount m;
  m.type = "bind";
  m.from = ArgState(L, 1, "kiln.bind", "the state to mount").state;
  m.target = ArgString(L, 2, "kiln.bind", "the target path");
  Opts o(L, 3, "kiln.bind", {"readonly", "source"});
  m.source = o.String("source").value_or("");
  m.readonly = o.Bool("readonly").value_or(true);
  return NewMount(L, std::move(m));
}

int KilnTmpfs(lua_State* L) {
  frontend::RunMount m;
  m.type = "tmpfs";
  m.target = ArgString(L, 1, "kiln.tmpfs", "the target path");
  Opts o(L, 2, "kiln.tmpfs", {"size"});
  m.size = o.Int("size").value_or(0);
  if (m.size < 0) Fail("kiln.tmpfs", "size must not be negative");
  m.readonly = false;
  return NewMount(L, std::move(m));
}

int KilnSecret(lua_State* L) {
  frontend::RunMount m;
  m.type = "secret";
  if (!lua_isnil(L, 1)) m.target = ArgString(L, 1, "kiln.secret", "the target path");
  Opts o(L, 2, "kiln.secret", {"env", "gid", "id", "mode", "required", "uid"});
  m.id = o.String("id").value_or("");
  m.env = o.String("env").value_or("");
  m.required = o.Bool("required").value_or(false);
  if (m.target.empty() && m.env.empty()) {
    Fail("kiln.secret", "give a target path, or nil and the \"env\" option");
  }
  MountOwner(o, &m);
  return NewMount(L, std::move(m));
}

int KilnSsh(lua_State* L) {
  frontend::RunMount m;
  m.type = "ssh";
  int opts = 1;
  if (lua_type(L, 1) == LUA_TSTRING) {
    m.target = lua_tostring(L, 1);
    opts = 2;
  }
  Opts o(L, opts, "kiln.ssh", {"gid", "id", "mode", "required", "uid"});
  m.id = o.String("id").value_or("");
  m.required = o.Bool("required").value_or(false);
  MountOwner(o, &m);
  return NewMount(L, std::move(m));
}

// --- kiln.result ----------------------------------------------------------

std::string ResultConfig(lua_State* L, const LState& s, int index) {
  const std::string fn = "kiln.result";
  Opts o(
      L, index, fn,
      {"cmd", "entrypoint", "env", "expose", "labels", "stopsignal", "user", "volumes", "workdir"});
  Json image = BaseConfig(s);
  Json& config = image["config"];
  if (o.Get("entrypoint") != LUA_TNIL) {
    std::vector<std::string> e = Command(L, lua_gettop(L), image, fn, "entrypoint", nullptr);
    if (e.empty()) {
      config.erase("Entrypoint");
    } else {
      config["Entrypoint"] = e;
    }
    config.erase("Cmd");  // as ENTRYPOINT resets CMD
    History(image, "ENTRYPOINT " + Json(e).dump());
  }
  lua_pop(L, 1);
  if (o.Get("cmd") != LUA_TNIL) {
    std::vector<std::string> c = Command(L, lua_gettop(L), image, fn, "cmd", nullptr);
    config["Cmd"] = c;
    History(image, "CMD " + Json(c).dump());
  }
  lua_pop(L, 1);
  std::map<std::string, std::string> env = o.Map("env");
  if (!env.empty()) {
    std::string msg = "ENV";
    for (const auto& [k, v] : env) {
      if (k.empty() || k.find('=') != std::string::npos) {
        Fail(fn, "env names must be non-empty and have no '=': \"" + k + "\"");
      }
      frontend::SetConfigEnv(config["Env"], k, v);
      absl::StrAppend(&msg, " ", k, "=", v);
    }
    History(image, msg);
  }
  std::map<std::string, std::string> labels = o.Map("labels");
  if (!labels.empty()) {
    Json& out = config["Labels"];
    if (!out.is_object()) out = Json::object();
    std::string msg = "LABEL";
    for (const auto& [k, v] : labels) {
      out[k] = v;
      absl::StrAppend(&msg, " ", k, "=", v);
    }
    History(image, msg);
  }
  std::vector<std::string> expose = o.List("expose");
  if (!expose.empty()) {
    Json& ports = config["ExposedPorts"];
    if (!ports.is_object()) ports = Json::object();
    for (const std::string& e : expose) {
      absl::StatusOr<frontend::PortSpec> p = frontend::ParsePortSpec(e);
      if (!p.ok() || p->host_mapping) {
        Fail(fn, "expose takes ports such as 80, \"443/tcp\", \"53/udp\" or \"8000-8002\", not \"" +
                     e + "\"");
      }
      for (const std::string& key : p->ports) ports[key] = Json::object();
    }
    History(image, "EXPOSE " + absl::StrJoin(expose, " "));
  }
  std::vector<std::string> volumes = o.List("volumes");
  if (!volumes.empty()) {
    Json& out = config["Volumes"];
    if (!out.is_object()) out = Json::object();
    for (const std::string& v : volumes) {
      if (v.empty()) Fail(fn, "a volume cannot be an empty string");
      out[v] = Json::object();
    }
    History(image, "VOLUME " + Json(volumes).dump());
  }
  if (auto user = o.String("user")) {
    config["User"] = *user;
    History(image, "USER " + *user);
  }
  if (auto wd = o.String("workdir")) {
    std::string dir = NormalizeActionPath(config.value("WorkingDir", "/"), *wd, false);
    config["WorkingDir"] = dir;
    History(image, "WORKDIR " + dir);
  }
  if (auto sig = o.String("stopsignal")) {
    if (sig->empty()) Fail(fn, "stopsignal is empty");
    config["StopSignal"] = *sig;
    History(image, "STOPSIGNAL " + *sig);
  }
  return image.dump();
}

int KilnResult(lua_State* L) {
  const LState& s = ArgState(L, 1, "kiln.result", "the result");
  LResult r{s.state, ResultConfig(L, s, 2)};
  Push(L, std::move(r), kResultMeta);
  return 1;
}

// --- State methods --------------------------------------------------------

const LState& Self(lua_State* L, const char* method) {
  if (LState* s = To<LState>(L, 1, kStateMeta)) return *s;
  Fail(absl::StrCat("state:", method), absl::StrCat("call it with a colon (state:", method,
                                                    "(...)) on a State, not on ", Describe(L, 1)));
}

int StateEnv(lua_State* L) {
  const LState& s = Self(L, "env");
  std::string k = ArgString(L, 2, "state:env", "the name");
  std::optional<std::string> v = Scalar(L, 3);
  if (!v.has_value()) Fail("state:env", "the value must be a string, not " + Describe(L, 3));
  if (k.empty() || k.find('=') != std::string::npos) {
    Fail("state:env", "the name must be non-empty and have no '=': \"" + k + "\"");
  }
  Push(L, LState{s.state.AddEnv(k, *v), s.image}, kStateMeta);
  return 1;
}

int StateDir(lua_State* L) {
  const LState& s = Self(L, "dir");
  std::string dir = ArgString(L, 2, "state:dir", "the directory");
  if (dir.empty()) Fail("state:dir", "the directory is empty");
  Push(L, LState{s.state.Dir(dir), s.image}, kStateMeta);
  return 1;
}

int StateUser(lua_State* L) {
  const LState& s = Self(L, "user");
  std::string user = ArgString(L, 2, "state:user", "the user");
  Push(L, LState{s.state.User(user), s.image}, kStateMeta);
  return 1;
}

int StateRun(lua_State* L) {
  Program& p = P(L);
  const std::string fn = "state:run";
  const LState& s = Self(L, "run");
  Json image = s.image ? *s.image : frontend::EmptyImageConfig();
  bool shell = false;
  llb::RunOptions run;
  run.args = Command(L, 2, image, fn, "the command", &shell);
  if (run.args.empty()) Fail(fn, "the command is an empty list");
  Opts o(L, 3, fn, {"dir", "env", "mounts", "network", "user"});
  for (const auto& [k, v] : o.Map("env")) run.env.emplace_back(k, v);
  std::string cwd = Cwd(s.state);
  if (auto dir = o.String("dir")) {
    run.cwd = *dir;
    cwd = NormalizeActionPath(cwd, *dir, false);
  }
  if (auto user = o.String("user")) run.user = *user;
  std::optional<std::string> net = o.String("network");
  // "sandbox" is BuildKit's name for the default.
  absl::StatusOr<pb::NetMode> network =
      frontend::RunNetwork(net && *net != "sandbox" ? *net : "", p.forced_network);
  if (!network.ok()) {
    std::string hint = Suggest(*net, {"default", "none", "host"});
    Fail(fn, absl::StrCat("network is \"default\", \"none\" or \"host\", not \"", *net, "\"",
                          hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
  }
  if (*network != pb::UNSET) run.network = *network;
  if (o.Get("mounts") != LUA_TNIL) {
    int list = lua_gettop(L);
    if (!lua_istable(L, list) || To<LMount>(L, list, kMountMeta) != nullptr) {
      Fail(fn, "option \"mounts\" must be a list of mounts (kiln.cache, kiln.bind, ...)");
    }
    lua_Integer n = static_cast<lua_Integer>(lua_rawlen(L, list));
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_rawgeti(L, list, i);
      LMount* m = To<LMount>(L, -1, kMountMeta);
      if (m == nullptr) {
        Fail(fn, absl::StrCat("mounts: item ", i,
                              " must be a mount (from kiln.cache, kiln.bind, kiln.tmpfs, "
                              "kiln.secret or kiln.ssh), not ",
                              Describe(L, -1)));
      }
      // Every bind names its state, so the default-context argument is unused.
      absl::StatusOr<std::optional<llb::Mount>> mount =
          frontend::MakeRunMount(m->mount, cwd, llb::Scratch(), &run.secret_env);
      if (!mount.ok()) {
        Fail(fn, absl::StrCat("mount ", i, " (", m->mount.type, " ", m->mount.target,
                              "): ", mount.status().message()));
      }
      if (mount->has_value()) {
        // A writable bind keeps its changes for exec:mount (a Dockerfile's
        // rw bind throws them away).
        if (m->mount.type == "bind" && !m->mount.readonly) (*mount)->no_output = false;
        run.mounts.push_back(std::move(**mount));
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  run.proxy_env = p.proxy_env;
  std::string shown = shell ? run.args.back() : Json(run.args).dump();
  if (size_t nl = shown.find('\n'); nl != std::string::npos) shown = shown.substr(0, nl) + " ...";
  run.op = Op(L, "RUN " + shown);
  Push(L, LExec{s.state.Run(run), s.image}, kExecMeta);
  return 1;
}

int StateCopy(lua_State* L) {
  const std::string fn = "state:copy";
  const LState& s = Self(L, "copy");
  const LState& src = ArgState(L, 2, fn, "the source");
  std::string from = ArgString(L, 3, fn, "the source path");
  std::string to = ArgString(L, 4, fn, "the destination path");
  Opts o(L, 5, fn, {"chmod", "chown", "exclude", "include", "link", "unpack"});
  llb::CopyOptions c;
  c.owner = OwnerOpt(o);
  // A number or an octal string is a mode (as `mode` elsewhere); any other
  // string is a chmod expression ("u+x").
  if (o.Type("chmod") == LUA_TNUMBER) {
    c.mode = o.Mode("chmod");
  } else if (auto chmod = o.String("chmod")) {
    if (!chmod->empty() && chmod->find_first_not_of("01234567") == std::string::npos) {
      c.mode = o.Mode("chmod");
    } else {
      c.mode_str = *chmod;
    }
  }
  c.include_patterns = o.List("include");
  c.exclude_patterns = o.List("exclude");
  c.attempt_unpack = o.Bool("unpack").value_or(false);
  c.create_dest_path = true;
  c.follow_symlinks = true;
  c.copy_dir_contents_only = true;
  c.allow_wildcard = true;
  c.allow_empty_wildcard = true;
  std::string dest = NormalizeActionPath(Cwd(s.state), to.empty() || to == "." ? "./" : to, true);
  llb::FileAction action =
      llb::Copy(src.state, NormalizeActionPath(Cwd(src.state), from, false), dest, c);
  llb::OpOptions op = Op(L, absl::StrCat("COPY ", from, " ", to));
  llb::State out;
  if (o.Bool("link").value_or(false)) {
    llb::OpOptions merge = op;
    merge.custom_name += " (link)";
    out = s.state.WithFilesystem(llb::Merge({s.state, llb::Scratch().File(action, op)}, merge));
  } else {
    out = s.state.File(action, op);
  }
  Push(L, LState{out, s.image}, kStateMeta);
  return 1;
}

int StateMkdir(lua_State* L) {
  const std::string fn = "state:mkdir";
  const LState& s = Self(L, "mkdir");
  std::string path = NormalizeActionPath(Cwd(s.state), ArgString(L, 2, fn, "the path"), false);
  Opts o(L, 3, fn, {"chown", "mode", "parents"});
  llb::MkdirOptions m;
  m.make_parents = o.Bool("parents").value_or(true);
  m.owner = OwnerOpt(o);
  llb::State out =
      s.state.File(llb::Mkdir(path, o.Mode("mode").value_or(0755), m), Op(L, "MKDIR " + path));
  Push(L, LState{out, s.image}, kStateMeta);
  return 1;
}

int StateMkfile(lua_State* L) {
  const std::string fn = "state:mkfile";
  const LState& s = Self(L, "mkfile");
  std::string path = NormalizeActionPath(Cwd(s.state), ArgString(L, 2, fn, "the path"), false);
  std::string data = ArgString(L, 3, fn, "the content");
  Opts o(L, 4, fn, {"chown", "mode"});
  llb::MkfileOptions m;
  m.owner = OwnerOpt(o);
  llb::State out = s.state.File(llb::Mkfile(path, o.Mode("mode").value_or(0644), data, m),
                                Op(L, "MKFILE " + path));
  Push(L, LState{out, s.image}, kStateMeta);
  return 1;
}

int StateSymlink(lua_State* L) {
  const std::string fn = "state:symlink";
  const LState& s = Self(L, "symlink");
  std::string target = ArgString(L, 2, fn, "the link target");
  std::string path = NormalizeActionPath(Cwd(s.state), ArgString(L, 3, fn, "the link path"), false);
  Opts o(L, 4, fn, {"chown"});
  llb::SymlinkOptions m;
  m.owner = OwnerOpt(o);
  llb::State out =
      s.state.File(llb::Symlink(target, path, m), Op(L, "SYMLINK " + path + " -> " + target));
  Push(L, LState{out, s.image}, kStateMeta);
  return 1;
}

int StateRm(lua_State* L) {
  const std::string fn = "state:rm";
  const LState& s = Self(L, "rm");
  std::string path = NormalizeActionPath(Cwd(s.state), ArgString(L, 2, fn, "the path"), false);
  Opts o(L, 3, fn, {"allow_not_found", "allow_wildcard"});
  llb::RmOptions r;
  r.allow_not_found = o.Bool("allow_not_found").value_or(false);
  r.allow_wildcard = o.Bool("allow_wildcard").value_or(false);
  Push(L, LState{s.state.File(llb::Rm(path, r), Op(L, "RM " + path)), s.image}, kStateMeta);
  return 1;
}

const luaL_Reg kStateMethods[] = {{"copy", Guard<StateCopy>},     {"dir", Guard<StateDir>},
                                  {"env", Guard<StateEnv>},       {"mkdir", Guard<StateMkdir>},
                                  {"mkfile", Guard<StateMkfile>}, {"rm", Guard<StateRm>},
                                  {"run", Guard<StateRun>},       {"symlink", Guard<StateSymlink>},
                                  {"user", Guard<StateUser>},     {nullptr, nullptr}};

bool IsStateMethod(const std::string& name) {
  for (const luaL_Reg* r = kStateMethods; r->name != nullptr; ++r) {
    if (name == r->name) return true;
  }
  return false;
}

// --- exec methods ---------------------------------------------------------

const LExec& ExecSelf(lua_State* L, const char* method) {
  if (LExec* e = To<LExec>(L, 1, kExecMeta)) return *e;
  Fail(absl::StrCat("exec:", method),
       absl::StrCat("call it with a colon (exec:", method,
                    "(...)) on what state:run returned, not on ", Describe(L, 1)));
}

int ExecRoot(lua_State* L) {
  const LExec& e = ExecSelf(L, "root");
  Push(L, LState{e.exec.Root(), e.image}, kStateMeta);
  return 1;
}

int ExecMount(lua_State* L) {
  const LExec& e = ExecSelf(L, "mount");
  std::string target = ArgString(L, 2, "exec:mount", "the mount's target path");
  Push(L, LState{e.exec.GetMount(target), nullptr}, kStateMeta);
  return 1;
}

// __index of States and execs: a method, or an error naming the near ones.
int Index(lua_State* L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  lua_pop(L, 1);
  std::string kind = lua_tostring(L, lua_upvalueindex(2));
  std::optional<std::string> key = Scalar(L, 2);
  std::vector<std::string> names;
  lua_pushnil(L);
  while (lua_next(L, lua_upvalueindex(1)) != 0) {
    lua_pop(L, 1);
    names.push_back(lua_tostring(L, -1));
  }
  std::sort(names.begin(), names.end());
  std::string name = key.value_or("?");
  std::string msg = absl::StrCat("a ", kind, " has no method or field \"", name, "\"");
  std::string hint = Suggest(name, names);
  if (!hint.empty()) absl::StrAppend(&msg, " (did you mean \"", hint, "\"?)");
  if (kind == "exec" && IsStateMethod(name)) {
    msg = absl::StrCat("an exec has no method \"", name,
                       "\": call :root() first to get its root filesystem as a State");
  }
  absl::StrAppend(&msg, "; it has ", absl::StrJoin(names, ", "));
  throw Error(msg);
}

void NewType(lua_State* L, const char* meta, const char* kind, const luaL_Reg* methods,
             lua_CFunction gc) {
  luaL_newmetatable(L, meta);
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  lua_pushstring(L, meta);
  lua_setfield(L, -2, "__metatable");  // getmetatable sees a name; setmetatable fails
  lua_newtable(L);
  if (methods != nullptr) luaL_setfuncs(L, methods, 0);
  lua_pushstring(L, kind);
  lua_pushcclosure(L, Guard<Index>, 2);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

void Install(lua_State* L, Program& p) {
  lua_pushlightuserdata(L, &p);
  lua_setfield(L, LUA_REGISTRYINDEX, kProgramKey);
  const luaL_Reg exec_methods[] = {
      {"mount", Guard<ExecMount>}, {"root", Guard<ExecRoot>}, {nullptr, nullptr}};
  NewType(L, kStateMeta, "State", kStateMethods, Gc<LState>);
  NewType(L, kExecMeta, "exec", exec_methods, Gc<LExec>);
  NewType(L, kMountMeta, "mount", nullptr, Gc<LMount>);
  NewType(L, kResultMeta, "result", nullptr, Gc<LResult>);

  const luaL_Reg kiln[] = {{"bind", Guard<KilnBind>},
                           {"cache", Guard<KilnCache>},
                           {"context", Guard<KilnContext>},
                           {"diff", Guard<KilnDiff>},
                           {"dockerfile", Guard<KilnDockerfile>},
                           {"git", Guard<KilnGit>},
                           {"http", Guard<KilnHttp>},
                           {"image", Guard<KilnImage>},
                           {"image_config", Guard<KilnImageConfig>},
                           {"merge", Guard<KilnMerge>},
                           {"read_dir", Guard<KilnReadDir>},
                           {"read_file", Guard<KilnReadFile>},
                           {"result", Guard<KilnResult>},
                           {"scratch", Guard<KilnScratch>},
                           {"secret", Guard<KilnSecret>},
                           {"ssh", Guard<KilnSsh>},
                           {"stat", Guard<KilnStat>},
                           {"tmpfs", Guard<KilnTmpfs>},
                           {"warn", Guard<KilnWarn>},
                           {nullptr, nullptr}};
  luaL_newlib(L, kiln);
  lua_createtable(L, 0, static_cast<int>(p.args.size()));
  for (const auto& [k, v] : p.args) {
    lua_pushlstring(L, v.data(), v.size());
    lua_setfield(L, -2, k.c_str());
  }
  lua_setfield(L, -2, "args");
  lua_pushstring(L, p.options.platform.ToString().c_str());
  lua_setfield(L, -2, "platform");
  lua_setglobal(L, "kiln");
}

}  // namespace

absl::StatusOr<ProgramResult> RunProgram(frontend::Bridge& bridge, std::string_view text,
                                         const ProgramOptions& options) {
  Program p{bridge, options};
  std::map<std::string, std::string> build_args;
  for (const auto& [k, v] : bridge.Options()) {
    if (absl::StartsWith(k, "build-arg:")) {
      build_args[k.substr(10)] = v;
    } else {
      p.args[k] = v;
    }
  }
  for (const auto& [k, v] : build_args) p.args[k] = v;  // build args win
  // Read once, and a bad value is an error, as in dockerfile.v0 and yaml.v0.
  KILN_ASSIGN_OR_RETURN(p.forced_network, frontend::ForcedNetwork(bridge.Options()));
  p.proxy_env = frontend::ProxyEnvFromBuildArgs(build_args);

  KILN_ASSIGN_OR_RETURN(std::unique_ptr<Sandbox> vm, Sandbox::New(options.limits));
  vm->SetModuleReader([&bridge](const std::string& path) {
    return frontend::ReadLocalFile(bridge, "context", path);
  });
  vm->SetPrinter([&bridge](const std::string& line) { bridge.Warn(line); });
  lua_State* L = vm->L();
  lua_pushcfunction(L, [](lua_State* L) {
    Install(L, *static_cast<Program*>(lua_touserdata(L, 1)));
    return 0;
  });
  lua_pushlightuserdata(L, &p);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    return absl::ResourceExhaustedError(
        absl::StrCat("lua: cannot set up the kiln module: ", lua_tostring(L, -1)));
  }
  KILN_RETURN_IF_ERROR(vm->Run(text, options.filename, 1));
  ProgramResult out;
  if (LResult* r = To<LResult>(L, -1, kResultMeta)) {
    out.state = r->state;
    out.image_config = r->config;
  } else if (LState* s = To<LState>(L, -1, kStateMeta)) {
    out.state = s->state;
    out.image_config = BaseConfig(*s).dump();
  } else {
    std::string got = Describe(L, -1);
    return absl::InvalidArgumentError(
        absl::StrCat(options.filename,
                     ": the script must end with `return kiln.result(state, {...})` or "
                     "return a State; it returned ",
                     got));
  }
  lua_pop(L, 1);
  return out;
}

}  // namespace kiln::luafrontend
