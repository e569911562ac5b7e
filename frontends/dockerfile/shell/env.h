// Env is the set of variables a Dockerfile word is expanded against: ARG and
// ENV values in scope, built from "KEY=VALUE" strings the way BuildKit's
// shell.EnvsFromSlice does (a later key wins; "KEY" alone means KEY="").
//
// Key lookup is case-sensitive, or case-insensitive for Windows images
// (BuildKit normalises keys to upper case there).
//
// A value type; const methods are safe to call concurrently.
#ifndef KILN_FRONTENDS_DOCKERFILE_SHELL_ENV_H_
#define KILN_FRONTENDS_DOCKERFILE_SHELL_ENV_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::dockerfile::shell {

enum class KeyCase { kSensitive, kInsensitive };

class Env {
 public:
  explicit Env(KeyCase key_case = KeyCase::kSensitive) : key_case_(key_case) {}

  // Builds from "KEY=VALUE" entries in order; the last entry for a key wins.
  static Env FromList(const std::vector<std::string>& entries,
                      KeyCase key_case = KeyCase::kSensitive);

  // Sets (or replaces) one variable.
  void Set(std::string_view key, std::string_view value);

  // The value of `key`, or nullopt when it is not set.
  std::optional<std::string> Get(std::string_view key) const;

  // The keys in the order they were first given (as written, not normalised).
  const std::vector<std::string>& Keys() const { return keys_; }

  KeyCase key_case() const { return key_case_; }

 private:
  std::string Normalize(std::string_view key) const;

  KeyCase key_case_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> keys_;
};

}  // namespace kiln::dockerfile::shell

#endif  // KILN_FRONTENDS_DOCKERFILE_SHELL_ENV_H_
