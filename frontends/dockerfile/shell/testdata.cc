#include "frontends/dockerfile/shell/testdata.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace kiln::dockerfile::testing {
namespace {

bool IsDir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// Follows the runfile symlink of `anchor` back to the source tree and
// returns the workspace root, or "".
std::string WorkspaceFromRunfile(std::string_view anchor) {
  std::string srcdir = Env("TEST_SRCDIR"), ws = Env("TEST_WORKSPACE");
  if (srcdir.empty() || ws.empty()) return "";
  std::string runfile = absl::StrCat(srcdir, "/", ws, "/", std::string(anchor));
  char* real = realpath(runfile.c_str(), nullptr);
  if (real == nullptr) return "";
  std::string path = real;
  free(real);
  std::string suffix = absl::StrCat("/", std::string(anchor));
  if (path.size() <= suffix.size() ||
      path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return "";
  }
  return path.substr(0, path.size() - suffix.size());
}

}  // namespace

std::optional<std::string> FindBuildkitTestdata(std::string_view anchor) {
  std::string explicit_dir = Env("KILN_BUILDKIT_TESTDATA");
  if (!explicit_dir.empty() && IsDir(explicit_dir)) return explicit_dir;
  for (const std::string& root : {Env("BUILD_WORKSPACE_DIRECTORY"), WorkspaceFromRunfile(anchor)}) {
    if (root.empty()) continue;
    std::string dir = root + "/../shared/buildkit-testdata";
    if (IsDir(dir)) return dir;
  }
  return std::nullopt;
}

std::optional<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace kiln::dockerfile::testing
