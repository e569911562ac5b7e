// Small parsers the converter shares: instruction flags, RUN --mount specs,
// Go durations, EXPOSE ports, paths, owners and spelling suggestions.
#include <algorithm>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "frontends/dockerfile/convert/internal.h"
#include "sdk/base/status_macros.h"

namespace kiln::dockerfile::convert_internal {

absl::StatusOr<Flags> Flags::Parse(const std::vector<std::string>& raw,
                                   const std::vector<std::string>& allowed) {
  Flags f;
  std::map<std::string, char> kinds;  // name -> '*' repeatable, '?' bool, ' ' string
  for (const std::string& a : allowed) {
    char k = a.empty() ? ' ' : a.back();
    if (k == '*' || k == '?') {
      kinds[a.substr(0, a.size() - 1)] = k;
    } else {
      kinds[a] = ' ';
    }
  }
  for (const std::string& arg : raw) {
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("arguments to instructions must start with --: ", arg));
    }
    std::string body = arg.substr(2);
    size_t eq = body.find('=');
    std::string name = body.substr(0, eq);
    auto kind = kinds.find(name);
    if (kind == kinds.end()) {
      std::vector<std::string> names;
      for (const auto& [n, _] : kinds) names.push_back(n);
      std::string hint = Suggest(name, names);
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag: --", name,
                       hint.empty() ? "" : absl::StrCat(" (did you mean --", hint, "?)")));
    }
    if (kind->second != '*' && f.values_.count(name) > 0) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate flag specified: --", name));
    }
    if (eq == std::string::npos) {
      if (kind->second != '?') {
        return absl::InvalidArgumentError(absl::StrCat("missing a value on flag: --", name));
      }
      f.bare_.insert(name);
      f.values_.emplace(name, "true");
    } else {
      f.values_.emplace(name, body.substr(eq + 1));
    }
  }
  return f;
}

std::string Flags::Get(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? "" : it->second;
}

std::vector<std::string> Flags::All(const std::string& name) const {
  std::vector<std::string> out;
  auto range = values_.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

absl::StatusOr<bool> Flags::Bool(const std::string& name) const {
  if (!Has(name)) return false;
  std::string v = absl::AsciiStrToLower(Get(name));
  if (v == "true" || v == "1") return true;
  if (v == "false" || v == "0") return false;
  return absl::InvalidArgumentError(
      absl::StrCat("expecting boolean value for flag --", name, ", not: ", Get(name)));
}

namespace {

absl::StatusOr<bool> ParseBool(const std::string& key, const std::string& v) {
  std::string l = absl::AsciiStrToLower(v);
  if (l == "true" || l == "1" || l == "t") return true;
  if (l == "false" || l == "0" || l == "f") return false;
  return absl::InvalidArgumentError(absl::StrCat("invalid value for ", key, ": ", v));
}

// Docker's RAMInBytes: "64m", "1g", "512k", "100" (bytes).
absl::StatusOr<int64_t> ParseSize(const std::string& v) {
  std::string s = absl::AsciiStrToLower(v);
  size_t i = 0;
  while (i < s.size() && (isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  double n;
  if (i == 0 || !absl::SimpleAtod(s.substr(0, i), &n)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid size: ", v));
  }
  std::string unit = s.substr(i);
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  if (!unit.empty() && unit.back() == 'i') unit.pop_back();
  static const std::map<std::string, double> kUnits = {{"", 1},
                                                       {"k", 1024.0},
                                                       {"m", 1024.0 * 1024},
                                                       {"g", 1024.0 * 1024 * 1024},
                                                       {"t", 1024.0 * 1024 * 1024 * 1024}};
  auto u = kUnits.find(unit);
  if (u == kUnits.end()) return absl::InvalidArgumentError(absl::StrCat("invalid size: ", v));
  return static_cast<int64_t>(n * u->second);
}

absl::StatusOr<uint32_t> ParseUint(const std::string& key, const std::string& v, int base) {
  char* end = nullptr;
  errno = 0;
  unsigned long n = v.empty() ? 0 : strtoul(v.c_str(), &end, base);
  if (v.empty() || *end != '\0' || errno != 0 || n > 0xffffffffUL || v[0] == '-') {
    return absl::InvalidArgumentError(absl::StrCat("invalid value ", v, " for ", key));
  }
  return static_cast<uint32_t>(n);
}

}  // namespace

std::vector<std::string> CsvFields(std::string_view v) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '"') {
      if (quoted && i + 1 < v.size() && v[i + 1] == '"') {
        cur += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == ',' && !quoted) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

absl::StatusOr<Flags> InstructionFlags(const Node& n) {
  static const std::map<std::string, std::vector<std::string>> kFlags = {
      {"FROM", {"platform"}},
      {"RUN", {"mount*", "network", "security"}},
      {"COPY", {"chown", "chmod", "from", "link?", "parents?", "exclude*"}},
      {"ADD", {"chown", "chmod", "link?", "keep-git-dir?", "checksum", "unpack?", "exclude*"}},
      {"HEALTHCHECK", {"interval", "timeout", "start-period", "start-interval", "retries"}}};
  auto allowed = kFlags.find(absl::AsciiStrToUpper(n.value));
  return Flags::Parse(n.flags,
                      allowed == kFlags.end() ? std::vector<std::string>{} : allowed->second);
}

absl::StatusOr<MountSpec> ParseMount(
    std::string_view value,
    const std::function<absl::StatusOr<std::string>(const std::string&)>& expand) {
  MountSpec m;
  bool ro_auto = true;
  static const std::vector<std::string> kKeys = {
      "type",     "from", "source",    "src", "target", "dst",     "destination",
      "readonly", "ro",   "readwrite", "rw",  "id",     "sharing", "required",
      "size",     "mode", "uid",       "gid", "env"};
  for (const std::string& field : CsvFields(value)) {
    size_t eq = field.find('=');
    std::string key = absl::AsciiStrToLower(field.substr(0, eq));
    if (eq == std::string::npos) {
      if (key == "readonly" || key == "ro") {
        m.readonly = true;
        ro_auto = false;
      } else if (key == "readwrite" || key == "rw") {
        m.readonly = false;
        ro_auto = false;
      } else if (key == "required" && (m.type == "secret" || m.type == "ssh")) {
        m.required = true;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid field '", field, "' must be a key=value pair"));
      }
      continue;
    }
    KILN_ASSIGN_OR_RETURN(std::string v, expand(field.substr(eq + 1)));
    if (key == "type") {
      m.type = absl::AsciiStrToLower(v);
      if (m.type != "bind" && m.type != "cache" && m.type != "tmpfs" && m.type != "secret" &&
          m.type != "ssh") {
        return absl::InvalidArgumentError(absl::StrCat(
            "unsupported mount type \"", v, "\" (want bind, cache, tmpfs, secret or ssh)"));
      }
    } else if (key == "from") {
      m.from = v;
    } else if (key == "source" || key == "src") {
      m.source = v;
    } else if (key == "target" || key == "dst" || key == "destination") {
      m.target = v;
    } else if (key == "readonly" || key == "ro") {
      KILN_ASSIGN_OR_RETURN(m.readonly, ParseBool(key, v));
      ro_auto = false;
    } else if (key == "readwrite" || key == "rw") {
      KILN_ASSIGN_OR_RETURN(bool rw, ParseBool(key, v));
      m.readonly = !rw;
      ro_auto = false;
    } else if (key == "required") {
      if (m.type != "secret" && m.type != "ssh") {
        return absl::InvalidArgumentError(
            absl::StrCat("unexpected key '", key, "' for mount type '", m.type, "'"));
      }
      KILN_ASSIGN_OR_RETURN(m.required, ParseBool(key, v));
    } else if (key == "size") {
      if (m.type != "tmpfs") {
        return absl::InvalidArgumentError(
            absl::StrCat("unexpected key '", key, "' for mount type '", m.type, "'"));
      }
      KILN_ASSIGN_OR_RETURN(m.size, ParseSize(v));
    } else if (key == "id") {
      m.id = v;
    } else if (key == "sharing") {
      m.sharing = absl::AsciiStrToLower(v);
      if (m.sharing != "shared" && m.sharing != "private" && m.sharing != "locked") {
        return absl::InvalidArgumentError(
            absl::StrCat("unsupported sharing value \"", v, "\" (want shared, private or locked)"));
      }
    } else if (key == "mode") {
      KILN_ASSIGN_OR_RETURN(m.mode, ParseUint("mode", v, 8));
    } else if (key == "uid") {
      KILN_ASSIGN_OR_RETURN(m.uid, ParseUint("uid", v, 10));
    } else if (key == "gid") {
      KILN_ASSIGN_OR_RETURN(m.gid, ParseUint("gid", v, 10));
    } else if (key == "env") {
      m.env = v;
    } else {
      std::string hint = Suggest(key, kKeys);
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected key '", key, "' in '", field, "'",
                       hint.empty() ? "" : absl::StrCat(" (did you mean ", hint, "?)")));
    }
  }
  bool file_info = m.type == "secret" || m.type == "ssh" || m.type == "cache";
  if (!file_info && (m.mode || m.uid || m.gid)) {
    return absl::InvalidArgumentError(absl::StrCat(m.mode  ? "mode"
                                                   : m.uid ? "uid"
                                                           : "gid",
                                                   " not allowed for \"", m.type,
                                                   "\" type mounts"));
  }
  if (ro_auto) m.readonly = !(m.type == "cache" || m.type == "tmpfs");
  if (m.type == "secret") {
    if (!m.from.empty()) return absl::InvalidArgumentError("secret mount should not have a from");
    if (!m.sharing.empty()) {
      return absl::InvalidArgumentError("secret mount should not define sharing");
    }
    if (m.source.empty() && m.target.empty() && m.id.empty()) {
      return absl::InvalidArgumentError("invalid secret mount. one of source, target required");
    }
    if (!m.source.empty() && !m.id.empty()) {
      return absl::InvalidArgumentError("both source and id can't be set");
    }
  }
  if (!m.sharing.empty() && m.type != "cache") {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid cache sharing set for ", m.type, " mount"));
  }
  return m;
}

absl::StatusOr<int64_t> ParseGoDuration(std::string_view sv) {
  std::string s(sv);
  static const std::vector<std::pair<std::string, double>> kUnits = {
      {"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  std::string_view rest = sv;
  bool neg = false;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    neg = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest == "0") return 0;
  if (rest.empty())
    return absl::InvalidArgumentError(absl::StrCat("time: invalid duration \"", s, "\""));
  double total = 0;
  while (!rest.empty()) {
    size_t i = 0;
    while (i < rest.size() && (isdigit(static_cast<unsigned char>(rest[i])) || rest[i] == '.')) ++i;
    double n;
    if (i == 0 || !absl::SimpleAtod(absl::string_view(rest.data(), i), &n)) {
      return absl::InvalidArgumentError(absl::StrCat("time: invalid duration \"", s, "\""));
    }
    rest.remove_prefix(i);
    const std::pair<std::string, double>* unit = nullptr;
    for (const auto& u : kUnits) {
      if (rest.substr(0, u.first.size()) == u.first &&
          (unit == nullptr || u.first.size() > unit->first.size())) {
        unit = &u;
      }
    }
    if (unit == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("time: missing or unknown unit in duration \"", s, "\""));
    }
    rest.remove_prefix(unit->first.size());
    total += n * unit->second;
  }
  return static_cast<int64_t>(neg ? -total : total);
}

}  // namespace kiln::dockerfile::convert_internal
