// A small command-line parser for kiln's git-style subcommands:
// `--flag value`, `--flag=value`, short aliases (-f, -o), repeatable flags
// and booleans. Unknown flags and missing values are errors naming the flag.
#ifndef KILN_CMD_KILN_ARGS_H_
#define KILN_CMD_KILN_ARGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::cli {

struct FlagSpec {
  std::string name;   // "file"
  std::string alias;  // "f", or empty
  bool boolean = false;
  bool repeated = false;
};

struct ParsedArgs {
  std::map<std::string, std::vector<std::string>> flags;
  std::vector<std::string> positional;

  bool Has(const std::string& name) const { return flags.count(name) > 0; }
  // The last value given, or `dflt`.
  std::string Get(const std::string& name, const std::string& dflt = "") const;
  const std::vector<std::string>& All(const std::string& name) const;
};

// Parses args (without the program and command names). Flags may appear
// before or after positional arguments; "--" ends flags.
absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args,
                                     const std::vector<FlagSpec>& specs);

// "10GB", "512m", "1.5g", "4096" -> bytes. InvalidArgument otherwise.
absl::StatusOr<int64_t> ParseSize(const std::string& s);
// 1536 -> "1.5kB".
std::string FormatSize(int64_t bytes);

}  // namespace kiln::cli

#endif  // KILN_CMD_KILN_ARGS_H_
