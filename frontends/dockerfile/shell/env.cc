#include "frontends/dockerfile/shell/env.h"

#include "absl/strings/ascii.h"

namespace kiln::dockerfile::shell {

Env Env::FromList(const std::vector<std::string>& entries, KeyCase key_case) {
  Env env(key_case);
  for (const std::string& entry : entries) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos) {
      env.Set(entry, "");
    } else {
      env.Set(std::string_view(entry).substr(0, eq), std::string_view(entry).substr(eq + 1));
    }
  }
  return env;
}

void Env::Set(std::string_view key, std::string_view value) {
  values_[Normalize(key)] = std::string(value);
  // BuildKit lists every entry's key, duplicates included; keep that.
  keys_.emplace_back(key);
}

std::optional<std::string> Env::Get(std::string_view key) const {
  auto it = values_.find(Normalize(key));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Env::Normalize(std::string_view key) const {
  std::string out(key);
  if (key_case_ == KeyCase::kInsensitive) absl::AsciiStrToUpper(&out);
  return out;
}

}  // namespace kiln::dockerfile::shell
