// Test-only lookup of BuildKit's conformance tables (kept outside the
// workspace, in ../shared/buildkit-testdata next to the checkout).
#ifndef KILN_FRONTENDS_DOCKERFILE_SHELL_TESTDATA_H_
#define KILN_FRONTENDS_DOCKERFILE_SHELL_TESTDATA_H_

#include <optional>
#include <string>
#include <string_view>

namespace kiln::dockerfile::testing {

// The buildkit-testdata directory, tried in order: $KILN_BUILDKIT_TESTDATA;
// $BUILD_WORKSPACE_DIRECTORY/../shared/buildkit-testdata; the workspace found
// by following the runfile symlink of `anchor` (a workspace-relative path of
// a data file of the test) plus ../shared/buildkit-testdata. nullopt if none
// exists.
std::optional<std::string> FindBuildkitTestdata(std::string_view anchor);

// The whole file, or nullopt when it cannot be read.
std::optional<std::string> ReadFileToString(const std::string& path);

}  // namespace kiln::dockerfile::testing

#endif  // KILN_FRONTENDS_DOCKERFILE_SHELL_TESTDATA_H_
