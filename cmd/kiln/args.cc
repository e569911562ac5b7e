#include "cmd/kiln/args.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace kiln::cli {

std::string ParsedArgs::Get(const std::string& name, const std::string& dflt) const {
  auto it = flags.find(name);
  return it == flags.end() || it->second.empty() ? dflt : it->second.back();
}

const std::vector<std::string>& ParsedArgs::All(const std::string& name) const {
  static const std::vector<std::string>* empty = new std::vector<std::string>();
  auto it = flags.find(name);
  return it == flags.end() ? *empty : it->second;
}

absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<FlagSpec>& specs) {
  ParsedArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      out.positional.insert(out.positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-' || a == "-") {
      out.positional.push_back(a);
      continue;
    }
    std::string name = a.substr(a[1] == '-' ? 2 : 1);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if ((a[1] == '-' && s.name == name) || (a[1] != '-' && s.alias == name)) spec = &s;
    }
    if (spec == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag ", a));
    if (spec->boolean) {
      if (has_value && value != "true" && value != "false") {
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", spec->name, " takes no value (or true/false)"));
      }
      if (!has_value || value == "true")
        out.flags[spec->name] = {"true"};
      else
        out.flags.erase(spec->name);
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat("flag --", spec->name, " needs a value"));
      }
      value = args[++i];
    }
    std::vector<std::string>& slot = out.flags[spec->name];
    if (!spec->repeated) slot.clear();
    slot.push_back(value);
  }
  return out;
}

absl::StatusOr<int64_t> ParseSize(const std::string& s) {
  std::string lower = absl::AsciiStrToLower(s);
  char* end = nullptr;
  double n = std::strtod(lower.c_str(), &end);
  std::string unit(absl::StripAsciiWhitespace(absl::string_view(end)));
  if (end == lower.c_str() || n < 0 || !std::isfinite(n)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", s, "\" is not a size (like 10GB)"));
  }
  static const std::pair<const char*, double> kUnits[] = {{"", 1},
                                                          {"b", 1},
                                                          {"k", 1e3},
                                                          {"kb", 1e3},
                                                          {"m", 1e6},
                                                          {"mb", 1e6},
                                                          {"g", 1e9},
                                                          {"gb", 1e9},
                                                          {"t", 1e12},
                                                          {"tb", 1e12},
                                                          {"kib", 1024.0},
                                                          {"mib", 1048576.0},
                                                          {"gib", 1073741824.0},
                                                          {"tib", 1099511627776.0}};
  for (const auto& [name, mult] : kUnits) {
    if (unit == name) return static_cast<int64_t>(n * mult);
  }
  return absl::InvalidArgumentError(absl::StrCat("\"", s, "\" has an unknown unit \"", unit,
                                                 "\" (want B, kB, MB, GB, TB or KiB..TiB)"));
}

std::string FormatSize(int64_t bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  return u == 0 ? absl::StrCat(bytes, "B") : absl::StrFormat("%.1f%s", v, kUnits[u]);
}

}  // namespace kiln::cli
