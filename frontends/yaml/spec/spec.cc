#include "frontends/yaml/spec/spec.h"

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "frontends/yaml/doc/doc.h"
#include "sdk/base/suggest.h"
#include "sdk/llb/image_ref.h"

namespace kiln::yamlspec {
namespace {

using yamldoc::Node;

// The value types of the language. The reader checks them and the schema
// describes them from the same tables.
enum class T {
  kString,   // a scalar
  kStrings,  // a scalar or a list of scalars
  kMap,      // string keys to scalar values
  kBool,     // true or false
  kMode,     // an octal mode string, "0755"
  kUint,     // a non-negative integer (uid, gid)
  kSize,     // bytes, with an optional k, m or g suffix
  kVersion,  // 1
  kArgs,     // arg names to defaults (null: no default)
  kStages,   // stage names to stages
  kSteps,    // a list of steps
  kMounts,   // a list of mounts
  kImage,    // the image config block
};

struct Key {
  const char* name;
  T type;
  bool required = false;
  std::vector<std::string> one_of = {};
};

const std::vector<Key> kTopKeys = {
    {"version", T::kVersion, true}, {"args", T::kArgs}, {"stages", T::kStages, true}};

const std::vector<Key> kStageKeys = {{"from", T::kString, true}, {"env", T::kMap},
                                     {"workdir", T::kString},    {"user", T::kString},
                                     {"steps", T::kSteps},       {"image", T::kImage}};

const std::vector<Key> kImageKeys = {
    {"entrypoint", T::kStrings}, {"cmd", T::kStrings},    {"env", T::kMap},
    {"labels", T::kMap},         {"expose", T::kStrings}, {"volumes", T::kStrings},
    {"user", T::kString},        {"workdir", T::kString}, {"stopsignal", T::kString}};

struct Verb {
  const char* name;
  T arg;  // the type of the verb key's value
  std::vector<Key> options;
};

const std::vector<Verb> kVerbs = {
    {"run",
     T::kStrings,
     {{"env", T::kMap},
      {"workdir", T::kString},
      {"user", T::kString},
      {"network", T::kString, false, {"none", "host"}},
      {"mounts", T::kMounts}}},
    {"copy",
     T::kStrings,
     {{"to", T::kString, true},
      {"from", T::kString},
      {"chown", T::kString},
      {"chmod", T::kString},
      {"exclude", T::kStrings},
      {"link", T::kBool}}},
    {"add",
     T::kStrings,
     {{"to", T::kString, true},
      {"checksum", T::kString},
      {"chown", T::kString},
      {"chmod", T::kString},
      {"exclude", T::kStrings},
      {"link", T::kBool},
      {"keep_git_dir", T::kBool}}},
    {"mkdir", T::kString, {{"mode", T::kMode}, {"owner", T::kString}, {"parents", T::kBool}}},
    {"file",
     T::kString,
     {{"content", T::kString, true}, {"mode", T::kMode}, {"owner", T::kString}}},
    {"rm", T::kString, {{"allow_not_found", T::kBool}}},
    {"symlink", T::kString, {{"target", T::kString, true}}},
};

struct MountType {
  const char* name;
  std::vector<Key> keys;  // besides "type"
};

const std::vector<MountType> kMountTypes = {
    {"bind",
     {{"target", T::kString, true},
      {"from", T::kString},
      {"source", T::kString},
      {"readonly", T::kBool}}},
    {"cache",
     {{"target", T::kString, true},
      {"id", T::kString},
      {"sharing", T::kString, false, {"shared", "private", "locked"}},
      {"from", T::kString},
      {"source", T::kString},
      {"readonly", T::kBool},
      {"mode", T::kMode},
      {"uid", T::kUint},
      {"gid", T::kUint}}},
    {"tmpfs", {{"target", T::kString, true}, {"size", T::kSize}}},
    {"secret",
     {{"target", T::kString},
      {"id", T::kString},
      {"env", T::kString},
      {"required", T::kBool},
      {"mode", T::kMode},
      {"uid", T::kUint},
      {"gid", T::kUint}}},
    {"ssh",
     {{"target", T::kString},
      {"id", T::kString},
      {"required", T::kBool},
      {"mode", T::kMode},
      {"uid", T::kUint},
      {"gid", T::kUint}}},
};

std::vector<std::string> Names(const std::vector<Key>& keys) {
  std::vector<std::string> out;
  for (const Key& k : keys) out.push_back(k.name);
  return out;
}

std::vector<std::string> VerbNames() {
  std::vector<std::string> out;
  for (const Verb& v : kVerbs) out.push_back(v.name);
  return out;
}

std::vector<std::string> MountTypeNames() {
  std::vector<std::string> out;
  for (const MountType& m : kMountTypes) out.push_back(m.name);
  return out;
}

const char* TypeText(T t) {
  switch (t) {
    case T::kString:
    case T::kMode:
    case T::kUint:
    case T::kSize:
      return "a string";
    case T::kStrings:
      return "a string or a list of strings";
    case T::kMap:
      return "a map of strings";
    case T::kBool:
      return "true or false";
    case T::kVersion:
      return "1";
    case T::kArgs:
      return "a map of arg names to defaults";
    case T::kStages:
      return "a map of stage names to stages";
    case T::kSteps:
      return "a list of steps";
    case T::kMounts:
      return "a list of mounts";
    case T::kImage:
      return "a map";
  }
  return "";
}

bool IsName(const std::string& s) {
  if (s.empty() || !(absl::ascii_isalpha(s[0]) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(c) || c == '_')) return false;
  }
  return true;
}

bool IsStageName(const std::string& s) {
  if (s.empty() || !absl::ascii_isalnum(s[0])) return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

Pos At(const Node& n) { return Pos{n.line, n.col}; }

std::string Quote(const std::string& s) { return absl::StrCat("\"", s, "\""); }

class Reader {
 public:
  Reader(const ReadOptions& options) : options_(options) {}

  absl::StatusOr<Spec> Run(std::string_view text) {
    absl::StatusOr<Node> root = yamldoc::Parse(text);
    if (!root.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(options_.filename, ":", root.status().message()));
    }
    Spec spec;
    if (!root->IsMap()) {
      Error(
          Pos{std::max(root->line, 1), std::max(root->col, 1)},
          absl::StrCat("a spec must be a map with version: 1 and stages, not ", root->KindName()));
      return Result();
    }
    auto top = Fields(*root, kTopKeys, "the spec");
    if (const Node* v = Get(top, "version"); v != nullptr && v->scalar != "1") {
      Error(At(*v),
            absl::StrCat("unsupported version ", Quote(v->scalar), "; this kiln reads version 1"));
    }
    if (const Node* a = Get(top, "args")) Args(*a);
    for (const auto& [k, v] : args_) {
      if (v.has_value()) spec.args[k] = *v;
    }
    if (const Node* s = Get(top, "stages")) Stages(*s, &spec);
    if (!spec.stages.empty()) Cycles(spec);
    if (!errors_.empty()) return Result();
    return spec;
  }

 private:
  // Every error, in the order of their places in the file.
  absl::Status Result() {
    std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
      return std::make_pair(a.first.line, a.first.col) < std::make_pair(b.first.line, b.first.col);
    });
    std::vector<std::string> lines;
    for (const auto& [p, msg] : errors_) {
      lines.push_back(absl::StrCat(options_.filename, ":", p.line, ":", p.col, ": ", msg));
    }
    return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
  }

  void Error(Pos p, const std::string& msg) { errors_.emplace_back(p, msg); }

  static const Node* Get(const std::map<std::string, const Node*>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? nullptr : it->second;
  }

  // Checks map `n` against `keys` (unknown and duplicate keys, missing
  // required ones, value types) and returns the values that passed. `what`
  // names the map in messages: "a stage", "a run step".
  std::map<std::string, const Node*> Fields(const Node& n, const std::vector<Key>& keys,
                                            const std::string& what,
                                            const std::set<std::string>& skip = {}) {
    std::map<std::string, const Node*> out;
    std::set<std::string> seen;
    for (size_t i = 0; i < n.keys.size(); ++i) {
      const Node& k = n.keys[i];
      const Node& v = n.items[i];
      if (!k.IsScalar()) {
        Error(At(k), absl::StrCat("a key in ", what, " must be a string, not ", k.KindName()));
        continue;
      }
      if (!seen.insert(k.scalar).second) {
        Error(At(k), absl::StrCat("duplicate key ", Quote(k.scalar), " in ", what));
        continue;
      }
      if (skip.count(k.scalar)) continue;
      const Key* key = nullptr;
      for (const Key& c : keys) {
        if (k.scalar == c.name) key = &c;
      }
      if (key == nullptr) {
        std::string hint = Suggest(k.scalar, Names(keys));
        Error(At(k),
              absl::StrCat("unknown key ", Quote(k.scalar), " in ", what,
                           hint.empty() ? "" : absl::StrCat(" (did you mean ", Quote(hint), "?)"),
                           hint.empty()
                               ? absl::StrCat("; known keys: ", absl::StrJoin(Names(keys), ", "))
                               : ""));
        continue;
      }
      if (TypeOk(v, *key)) out[k.scalar] = &v;
    }
    for (const Key& c : keys) {
      if (c.required && !seen.count(c.name)) {
        Error(At(n), absl::StrCat(what, " is missing the required key ", Quote(c.name)));
      }
    }
    return out;
  }

  bool TypeOk(const Node& v, const Key& k) {
    bool ok = false;
    switch (k.type) {
      case T::kString:
      case T::kMode:
      case T::kUint:
      case T::kSize:
      case T::kVersion:
        ok = v.IsScalar();
        break;
      case T::kBool:
        ok = v.IsScalar() && !v.quoted && (v.scalar == "true" || v.scalar == "false");
        break;
      case T::kStrings:
        ok = v.IsScalar();
        if (v.IsSequence()) {
          ok = true;
          for (const Node& i : v.items) {
            if (!i.IsScalar()) {
              Error(At(i), absl::StrCat("an item of ", Quote(k.name), " must be a string, not ",
                                        i.KindName()));
              return false;
            }
          }
        }
        break;
      case T::kMap:
      case T::kArgs:
        ok = v.IsMap();
        if (ok) {
          for (size_t i = 0; i < v.items.size(); ++i) {
            const Node& item = v.items[i];
            if (!item.IsScalar() && !(k.type == T::kArgs && item.IsNull())) {
              Error(At(item),
                    absl::StrCat("the value of ", Quote(v.keys[i].scalar), " in ", Quote(k.name),
                                 " must be a string, not ", item.KindName()));
              return false;
            }
          }
        }
        break;
      case T::kStages:
      case T::kImage:
        ok = v.IsMap();
        break;
      case T::kSteps:
      case T::kMounts:
        ok = v.IsSequence();
        break;
    }
    if (!ok) {
      Error(At(v), absl::StrCat(Quote(k.name), " must be ", TypeText(k.type), ", not ",
                                v.IsScalar() ? Quote(v.scalar) : v.KindName()));
    }
    return ok;
  }

  // ${NAME}, ${NAME:-default} and $$; nullopt after reporting an error.
  std::optional<std::string> Expand(const std::string& s, Pos pos) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '$' || i + 1 >= s.size() || (s[i + 1] != '$' && s[i + 1] != '{')) {
        out += s[i];
        continue;
      }
      if (s[i + 1] == '$') {
        out += '$';
        ++i;
        continue;
      }
      size_t close = s.find('}', i + 2);
      if (close == std::string::npos) {
        Error(pos, absl::StrCat("unterminated ", Quote(s.substr(i)),
                                ": want ${NAME} or ${NAME:-default}"));
        return std::nullopt;
      }
      std::string inner = s.substr(i + 2, close - i - 2);
      std::string name = inner;
      std::optional<std::string> def;
      if (size_t sep = inner.find(":-"); sep != std::string::npos) {
        name = inner.substr(0, sep);
        def = inner.substr(sep + 2);
      }
      if (!IsName(name)) {
        Error(pos, absl::StrCat("bad expansion ${", inner,
                                "}: want ${NAME} or ${NAME:-default} (write $$ for a literal $)"));
        return std::nullopt;
      }
      auto it = args_.find(name);
      if (it == args_.end()) {
        std::vector<std::string> names;
        for (const auto& [k, v] : args_) names.push_back(k);
        std::string hint = Suggest(name, names);
        Error(pos, absl::StrCat("${", name, "} names no build arg",
                                hint.empty() ? "" : absl::StrCat(" (did you mean ", hint, "?)"),
                                "; declare it under args:"));
        return std::nullopt;
      }
      if (it->second.has_value() && !(def.has_value() && it->second->empty())) {
        out += *it->second;
      } else if (def.has_value()) {
        out += *def;
      } else {
        Error(pos,
              absl::StrCat("build arg ", name, " is not set and has no default (give --build-arg ",
                           name, "=VALUE)"));
        return std::nullopt;
      }
      i = close;
    }
    return out;
  }

  Str String(const Node& n) {
    Str s;
    s.pos = At(n);
    s.set = true;
    std::optional<std::string> v = Expand(n.scalar, s.pos);
    expanded_ = v.has_value();
    if (v.has_value()) s.value = *v;
    return s;
  }

  Str StringOf(const std::map<std::string, const Node*>& m, const std::string& k,
               const std::vector<Key>& keys) {
    const Node* n = Get(m, k);
    if (n == nullptr) return Str();
    Str s = String(*n);
    for (const Key& key : keys) {
      if (k != key.name || key.one_of.empty()) continue;
      bool found = false;
      for (const std::string& o : key.one_of) found = found || o == s.value;
      if (!found) {
        Error(s.pos, absl::StrCat("bad ", k, " ", Quote(s.value), ": want one of ",
                                  absl::StrJoin(key.one_of, ", ")));
      }
    }
    return s;
  }

  std::vector<std::string> Strings(const Node* n) {
    std::vector<std::string> out;
    if (n == nullptr) return out;
    if (n->IsScalar()) {
      out.push_back(String(*n).value);
    } else {
      for (const Node& i : n->items) out.push_back(String(i).value);
    }
    return out;
  }

  Pairs Map(const Node* n) {
    Pairs out;
    if (n == nullptr) return out;
    for (size_t i = 0; i < n->keys.size(); ++i) {
      if (!n->keys[i].IsScalar()) {
        Error(At(n->keys[i]), absl::StrCat("a key must be a string, not ", n->keys[i].KindName()));
        continue;
      }
      std::string key = String(n->keys[i]).value;
      for (const auto& [k, v] : out) {
        if (k == key) Error(At(n->keys[i]), absl::StrCat("duplicate key ", Quote(key)));
      }
      out.emplace_back(key, String(n->items[i]).value);
    }
    return out;
  }

  bool Bool(const Node* n, bool def) { return n == nullptr ? def : n->scalar == "true"; }

  std::optional<uint32_t> Mode(const Node* n) {
    if (n == nullptr) return std::nullopt;
    Str s = String(*n);
    const std::string& v = s.value;
    if (v.empty() || v.size() > 5 || v.find_first_not_of("01234567") != std::string::npos ||
        strtoul(v.c_str(), nullptr, 8) > 07777) {
      Error(s.pos, absl::StrCat("bad mode ", Quote(v), ": want an octal mode such as \"0755\""));
      return std::nullopt;
    }
    return static_cast<uint32_t>(strtoul(v.c_str(), nullptr, 8));
  }

  std::optional<uint32_t> Uint(const Node* n, const char* what) {
    if (n == nullptr) return std::nullopt;
    Str s = String(*n);
    uint32_t v = 0;
    if (!absl::SimpleAtoi(s.value, &v)) {
      Error(s.pos, absl::StrCat("bad ", what, " ", Quote(s.value), ": want a number"));
      return std::nullopt;
    }
    return v;
  }

  int64_t Size(const Node* n) {
    if (n == nullptr) return 0;
    Str s = String(*n);
    std::string v = absl::AsciiStrToLower(s.value);
    int64_t mult = 1;
    if (!v.empty() && (v.back() == 'b')) v.pop_back();
    if (!v.empty() && (v.back() == 'k' || v.back() == 'm' || v.back() == 'g')) {
      mult = v.back() == 'k' ? 1 << 10 : v.back() == 'm' ? 1 << 20 : 1 << 30;
      v.pop_back();
    }
    int64_t x = 0;
    if (!absl::SimpleAtoi(v, &x) || x < 0 || x > (int64_t{1} << 40)) {
      Error(s.pos, absl::StrCat("bad size ", Quote(s.value), ": want bytes, such as 64m"));
      return 0;
    }
    return x * mult;
  }

  void Args(const Node& n) {
    for (size_t i = 0; i < n.keys.size(); ++i) {
      const Node& k = n.keys[i];
      if (!k.IsScalar() || !IsName(k.scalar)) {
        Error(At(k), absl::StrCat("bad arg name ", Quote(k.scalar),
                                  ": want letters, digits and _, not starting with a digit"));
        continue;
      }
      if (args_.count(k.scalar)) {
        Error(At(k), absl::StrCat("duplicate key ", Quote(k.scalar), " in args"));
        continue;
      }
      std::optional<std::string> value;
      auto given = options_.build_args.find(k.scalar);
      if (given != options_.build_args.end()) {
        value = given->second;
      } else if (n.items[i].IsScalar()) {
        value = Expand(n.items[i].scalar, At(n.items[i]));  // earlier args expand
        if (!value.has_value()) value = "";
      }
      args_[k.scalar] = value;
    }
  }

  // What `from` names: a stage, the context (when allowed) or an image.
  Source Resolve(const Str& from, bool context_allowed) {
    Source s;
    s.pos = from.pos;
    s.name = from.value;
    if (!expanded_) return s;  // already reported
    if (stage_names_.count(from.value)) {
      s.kind = Source::Kind::kStage;
      return s;
    }
    if (context_allowed && from.value == "context") return s;
    s.kind = Source::Kind::kImage;
    std::vector<std::string> names(stage_names_.begin(), stage_names_.end());
    std::string hint = Suggest(from.value, names);
    bool bare = from.value.find_first_of("/:@.") == std::string::npos;
    if (!llb::NormalizeImageRef(from.value).ok() || (bare && !hint.empty())) {
      Error(from.pos,
            absl::StrCat("unknown stage ", Quote(from.value),
                         hint.empty() ? "" : absl::StrCat(" (did you mean ", Quote(hint), "?)"),
                         bare && !hint.empty() ? absl::StrCat("; for an image of that name write ",
                                                              from.value, ":latest")
                                               : "; it is not an image reference either"));
    }
    return s;
  }

  void Stages(const Node& n, Spec* spec) {
    if (n.keys.empty()) {
      Error(At(n), "stages is empty; a spec needs at least one stage");
      return;
    }
    for (const Node& k : n.keys) {
      if (k.IsScalar()) stage_names_.insert(k.scalar);
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < n.keys.size(); ++i) {
      const Node& k = n.keys[i];
      const Node& v = n.items[i];
      if (!k.IsScalar() || !IsStageName(k.scalar) || k.scalar == "context" ||
          k.scalar == "scratch") {
        Error(At(k), absl::StrCat("bad stage name ", Quote(k.scalar),
                                  ": want letters, digits, '.', '_' and '-', and not "
                                  "\"context\" or \"scratch\""));
        continue;
      }
      if (!seen.insert(k.scalar).second) {
        Error(At(k), absl::StrCat("duplicate stage ", Quote(k.scalar)));
        continue;
      }
      if (!v.IsMap()) {
        Error(At(v.IsNull() ? k : v),
              absl::StrCat("stage ", Quote(k.scalar), " must be a map with from: and steps:, not ",
                           v.KindName()));
        continue;
      }
      Stage s;
      s.name = k.scalar;
      s.pos = At(k);
      std::string what = absl::StrCat("stage ", Quote(s.name));
      auto f = Fields(v, kStageKeys, what);
      if (const Node* from = Get(f, "from")) {
        s.from = String(*from);
        if (s.from.value == "scratch") {
          s.scratch = true;
        } else {
          s.base = Resolve(s.from, false);
        }
      }
      s.env = Map(Get(f, "env"));
      s.workdir = StringOf(f, "workdir", kStageKeys);
      s.user = StringOf(f, "user", kStageKeys);
      if (const Node* steps = Get(f, "steps")) {
        for (const Node& step : steps->items) Step(step, &s);
      }
      if (const Node* image = Get(f, "image")) Image(*image, &s.image);
      spec->stages.push_back(std::move(s));
    }
  }

  void Step(const Node& n, Stage* stage) {
    if (!n.IsMap()) {
      Error(At(n),
            absl::StrCat("a step must be a map with one of ", absl::StrJoin(VerbNames(), ", "),
                         ", not ", n.IsScalar() ? Quote(n.scalar) : n.KindName()));
      return;
    }
    const Verb* verb = nullptr;
    const Node* arg = nullptr;
    for (size_t i = 0; i < n.keys.size(); ++i) {
      for (const Verb& v : kVerbs) {
        if (!n.keys[i].IsScalar() || n.keys[i].scalar != v.name) continue;
        if (verb != nullptr) {
          Error(At(n.keys[i]), absl::StrCat("a step has one verb, and this one has both ",
                                            verb->name, " and ", v.name));
          return;
        }
        verb = &v;
        arg = &n.items[i];
      }
    }
    if (verb == nullptr) {
      std::string hint;
      for (const Node& k : n.keys) {
        if (hint.empty() && k.IsScalar()) hint = Suggest(k.scalar, VerbNames());
      }
      Error(At(n),
            absl::StrCat("a step needs one of ", absl::StrJoin(VerbNames(), ", "),
                         hint.empty() ? "" : absl::StrCat(" (did you mean ", Quote(hint), "?)")));
      return;
    }
    std::string what = absl::StrCat("a ", verb->name, " step");
    Key arg_key{verb->name, verb->arg, true};
    if (!TypeOk(*arg, arg_key)) return;
    auto f = Fields(n, verb->options, what, {verb->name});
    yamlspec::Step s;
    s.verb = verb->name;
    s.pos = At(n);
    if (arg->IsSequence()) {
      s.exec_form = true;
      for (const Node& i : arg->items) s.args.push_back(String(i));
      if (s.args.empty()) Error(At(*arg), absl::StrCat(Quote(verb->name), " is an empty list"));
    } else {
      s.args.push_back(String(*arg));
      if (arg->scalar.empty()) Error(At(*arg), absl::StrCat(Quote(verb->name), " is empty"));
    }
    const auto& keys = verb->options;
    s.env = Map(Get(f, "env"));
    s.workdir = StringOf(f, "workdir", keys);
    s.user = StringOf(f, "user", keys);
    s.network = StringOf(f, "network", keys);
    s.to = StringOf(f, "to", keys);
    s.chown = StringOf(f, "chown", keys);
    s.chmod = StringOf(f, "chmod", keys);
    if (s.chmod.set) {
      const std::string& v = s.chmod.value;
      bool octal = !v.empty() && v.find_first_not_of("01234567") == std::string::npos &&
                   v.size() <= 5 && strtoul(v.c_str(), nullptr, 8) <= 07777;
      bool symbolic = !v.empty() && v.find_first_not_of("ugoa+-=rwxXst,") == std::string::npos &&
                      v.find_first_of("+-=") != std::string::npos;
      if (!octal && !symbolic) {
        Error(s.chmod.pos, absl::StrCat("bad mode ", Quote(v),
                                        ": want an octal mode such as \"0644\" or a symbolic one "
                                        "such as u+x"));
      }
    }
    s.checksum = StringOf(f, "checksum", keys);
    s.owner = StringOf(f, "owner", keys);
    s.content = StringOf(f, "content", keys);
    s.target = StringOf(f, "target", keys);
    if (const Node* from = Get(f, "from")) {
      s.from = Resolve(String(*from), true);
      s.from_set = true;
    }
    s.exclude = Strings(Get(f, "exclude"));
    s.link = Bool(Get(f, "link"), false);
    s.keep_git_dir = Bool(Get(f, "keep_git_dir"), false);
    s.parents = Bool(Get(f, "parents"), true);
    s.allow_not_found = Bool(Get(f, "allow_not_found"), false);
    s.mode = Mode(Get(f, "mode"));
    if (const Node* mounts = Get(f, "mounts")) {
      for (const Node& m : mounts->items) Mount(m, &s);
    }
    stage->steps.push_back(std::move(s));
  }

  void Mount(const Node& n, yamlspec::Step* step) {
    if (!n.IsMap()) {
      Error(At(n),
            absl::StrCat("a mount must be a map with type: and target:, not ", n.KindName()));
      return;
    }
    const Node* type = nullptr;
    for (size_t i = 0; i < n.keys.size(); ++i) {
      if (n.keys[i].IsScalar() && n.keys[i].scalar == "type") type = &n.items[i];
    }
    if (type == nullptr || !type->IsScalar()) {
      Error(At(type ? *type : n),
            absl::StrCat("a mount needs type: one of ", absl::StrJoin(MountTypeNames(), ", ")));
      return;
    }
    const MountType* mt = nullptr;
    for (const MountType& m : kMountTypes) {
      if (type->scalar == m.name) mt = &m;
    }
    if (mt == nullptr) {
      std::string hint = Suggest(type->scalar, MountTypeNames());
      Error(At(*type),
            absl::StrCat("unknown mount type ", Quote(type->scalar),
                         hint.empty() ? absl::StrCat(" (want one of ",
                                                     absl::StrJoin(MountTypeNames(), ", "), ")")
                                      : absl::StrCat(" (did you mean ", Quote(hint), "?)")));
      return;
    }
    auto f = Fields(n, mt->keys, absl::StrCat("a ", mt->name, " mount"), {"type"});
    yamlspec::Mount m;
    m.type = mt->name;
    m.pos = At(n);
    m.target = StringOf(f, "target", mt->keys);
    m.source = StringOf(f, "source", mt->keys);
    m.id = StringOf(f, "id", mt->keys);
    m.sharing = StringOf(f, "sharing", mt->keys);
    m.env = StringOf(f, "env", mt->keys);
    if (const Node* from = Get(f, "from")) {
      m.from = Resolve(String(*from), true);
      m.from_set = true;
    }
    if (const Node* ro = Get(f, "readonly")) m.readonly = Bool(ro, false);
    m.required = Bool(Get(f, "required"), false);
    m.size = Size(Get(f, "size"));
    m.mode = Mode(Get(f, "mode"));
    m.uid = Uint(Get(f, "uid"), "uid");
    m.gid = Uint(Get(f, "gid"), "gid");
    if ((m.type == "secret" || m.type == "ssh") && !m.target.set && !m.id.set && !m.env.set) {
      Error(m.pos, absl::StrCat("a ", m.type, " mount needs a target or an id"));
    }
    step->mounts.push_back(std::move(m));
  }

  void Image(const Node& n, yamlspec::Image* img) {
    auto f = Fields(n, kImageKeys, "image");
    if (const Node* e = Get(f, "entrypoint")) {
      img->entrypoint = Strings(e);
      img->entrypoint_shell = e->IsScalar();
    }
    if (const Node* c = Get(f, "cmd")) {
      img->cmd = Strings(c);
      img->cmd_shell = c->IsScalar();
    }
    img->env = Map(Get(f, "env"));
    img->labels = Map(Get(f, "labels"));
    img->expose = Strings(Get(f, "expose"));
    img->volumes = Strings(Get(f, "volumes"));
    img->user = StringOf(f, "user", kImageKeys);
    img->workdir = StringOf(f, "workdir", kImageKeys);
    img->stopsignal = StringOf(f, "stopsignal", kImageKeys);
  }

  // Every dependency edge of a stage: its base, copies and mounts.
  static std::vector<const Source*> Deps(const Stage& s) {
    std::vector<const Source*> out;
    if (!s.scratch && s.from.set) out.push_back(&s.base);
    for (const yamlspec::Step& st : s.steps) {
      if (st.from_set) out.push_back(&st.from);
      for (const yamlspec::Mount& m : st.mounts) {
        if (m.from_set) out.push_back(&m.from);
      }
    }
    return out;
  }

  void Cycles(const Spec& spec) {
    std::map<std::string, int> color;  // 0 new, 1 on the path, 2 done
    std::vector<std::string> path;
    std::function<void(const Stage&)> visit = [&](const Stage& s) {
      color[s.name] = 1;
      path.push_back(s.name);
      for (const Source* d : Deps(s)) {
        if (d->kind != Source::Kind::kStage) continue;
        const Stage* next = spec.Find(d->name);
        if (next == nullptr) continue;
        if (color[next->name] == 1) {
          auto start = std::find(path.begin(), path.end(), next->name);
          std::vector<std::string> cycle(start, path.end());
          cycle.push_back(next->name);
          Error(d->pos, absl::StrCat("stage ", Quote(next->name), " depends on itself (",
                                     absl::StrJoin(cycle, " -> "), ")"));
        } else if (color[next->name] == 0) {
          visit(*next);
        }
      }
      path.pop_back();
      color[s.name] = 2;
    };
    for (const Stage& s : spec.stages) {
      if (color[s.name] == 0) visit(s);
    }
  }

  const ReadOptions& options_;
  std::vector<std::pair<Pos, std::string>> errors_;
  bool expanded_ = true;  // the last String() expanded without an error
  std::map<std::string, std::optional<std::string>> args_;
  std::set<std::string> stage_names_;
};

// ---- JSON Schema ----

using OJson = nlohmann::ordered_json;

OJson Scalar() { return OJson{{"type", OJson::array({"string", "number", "boolean"})}}; }

OJson TypeSchema(const Key& k) {
  switch (k.type) {
    case T::kString: {
      OJson j = Scalar();
      if (!k.one_of.empty()) j = OJson{{"enum", k.one_of}};
      return j;
    }
    case T::kStrings:
      return OJson{
          {"anyOf", OJson::array({Scalar(), OJson{{"type", "array"}, {"items", Scalar()}}})}};
    case T::kMap:
      return OJson{{"type", "object"}, {"additionalProperties", Scalar()}};
    case T::kBool:
      return OJson{{"type", "boolean"}};
    case T::kMode:
      return OJson{{"anyOf", OJson::array({OJson{{"type", "string"}, {"pattern", "^[0-7]{1,5}$"}},
                                           OJson{{"type", "integer"}, {"minimum", 0}}})}};
    case T::kUint:
      return OJson{{"anyOf", OJson::array({OJson{{"type", "string"}, {"pattern", "^[0-9]+$"}},
                                           OJson{{"type", "integer"}, {"minimum", 0}}})}};
    case T::kSize:
      return OJson{
          {"anyOf", OJson::array({OJson{{"type", "string"}, {"pattern", "^[0-9]+[kKmMgG]?[bB]?$"}},
                                  OJson{{"type", "integer"}, {"minimum", 0}}})}};
    case T::kVersion:
      return OJson{{"enum", OJson::array({1, "1"})}};
    case T::kArgs:
      return OJson{{"type", "object"},
                   {"propertyNames", {{"pattern", "^[A-Za-z_][A-Za-z0-9_]*$"}}},
                   {"additionalProperties",
                    {{"type", OJson::array({"string", "number", "boolean", "null"})}}}};
    case T::kStages:
      return OJson{{"type", "object"},
                   {"minProperties", 1},
                   {"propertyNames",
                    {{"pattern", "^[A-Za-z0-9][A-Za-z0-9._-]*$"},
                     {"not", {{"enum", OJson::array({"context", "scratch"})}}}}},
                   {"additionalProperties", {{"$ref", "#/definitions/stage"}}}};
    case T::kSteps:
      return OJson{{"type", "array"}, {"items", {{"$ref", "#/definitions/step"}}}};
    case T::kMounts:
      return OJson{{"type", "array"}, {"items", {{"$ref", "#/definitions/mount"}}}};
    case T::kImage:
      return OJson{{"$ref", "#/definitions/image"}};
  }
  return OJson::object();
}

OJson Object(const std::vector<Key>& keys, const std::vector<std::string>& extra_required = {},
             OJson extra_props = OJson::object()) {
  OJson props = std::move(extra_props);
  OJson required = OJson::array();
  for (const std::string& r : extra_required) required.push_back(r);
  for (const Key& k : keys) {
    props[k.name] = TypeSchema(k);
    if (k.required) required.push_back(k.name);
  }
  OJson j = {{"type", "object"}, {"properties", props}, {"additionalProperties", false}};
  if (!required.empty()) j["required"] = required;
  return j;
}

}  // namespace

const Stage* Spec::Find(const std::string& name) const {
  for (const Stage& s : stages) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

absl::StatusOr<Spec> Read(std::string_view text, const ReadOptions& options) {
  return Reader(options).Run(text);
}

std::string JsonSchema() {
  OJson defs = OJson::object();
  defs["stage"] = Object(kStageKeys);
  defs["image"] = Object(kImageKeys);
  OJson steps = OJson::array();
  for (const Verb& v : kVerbs) {
    OJson props = OJson::object();
    props[v.name] = TypeSchema(Key{v.name, v.arg});
    steps.push_back(Object(v.options, {v.name}, props));
  }
  defs["step"] = {{"oneOf", steps}};
  OJson mounts = OJson::array();
  for (const MountType& m : kMountTypes) {
    OJson props = OJson::object();
    props["type"] = {{"const", m.name}};
    mounts.push_back(Object(m.keys, {"type"}, props));
  }
  defs["mount"] = {{"oneOf", mounts}};
  OJson schema = {{"$schema", "http://json-schema.org/draft-07/schema#"},
                  {"$id", "https://kiln.invalid/schemas/yaml.v0.json"},
                  {"title", "kiln YAML build spec, version 1"}};
  OJson top = Object(kTopKeys);
  for (auto& [k, v] : top.items()) schema[k] = v;
  schema["definitions"] = defs;
  return schema.dump(2) + "\n";
}

}  // namespace kiln::yamlspec
