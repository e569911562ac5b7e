// Reading the client's files from a frontend: the definition file, and the
// ignore file that narrows the build context.
//
//   KILN_ASSIGN_OR_RETURN(std::string text,
//                         frontend::ReadLocalFile(bridge, "dockerfile", "kiln.yaml"));
//   KILN_ASSIGN_OR_RETURN(std::vector<std::string> excludes,
//                         frontend::ReadContextExcludes(bridge, "kiln.yaml"));
//   llb::LocalOptions lo;
//   lo.exclude_patterns = excludes;
//
// The locals are the ones `kiln build` shares: "context" (the build context)
// and "dockerfile" (the directory of the file -f names).
#ifndef KILN_SDK_FRONTEND_CONTEXT_H_
#define KILN_SDK_FRONTEND_CONTEXT_H_

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sdk/frontend/frontend.h"
#include "sdk/llb/state.h"

namespace kiln::frontend {

// The bytes of `path` in local source `local`: only that file is transferred.
// When the bridge has an input of that name (Bridge::Inputs), the file is
// read from that input instead. NotFound when it is not there.
absl::StatusOr<std::string> ReadLocalFile(Bridge& bridge, const std::string& local,
                                          const std::string& path);

// The build context when it is not the client's "context" local, which
// the caller then makes itself (with its ignore patterns): the "context"
// input (Bridge::Inputs, as kiln.dockerfile passes it), else the tar that
// dockerd's Engine API uploads and names by an http URL in the "context"
// option (BuildKit unpacks it; ReadLocalFile reads definition files from it
// too); nullopt otherwise.
std::optional<llb::State> GivenContext(const Bridge& bridge);

// The build context as a converter uses it: the given state when the build
// has one, else the client's local source `name` with `excludes`, one node
// for every use. Its follow paths (local.followpaths) are the context paths
// the build reads, collected as BuildKit's dockerfile.v0 collects them
// (COPY/ADD sources, RUN mounts without from=) and fixed by Finish, so the
// engine reads and sends only those. Not thread-safe.
//
//   frontend::BuildContext context(given, "context", excludes, session_id);
//   context.Read(src);  // for each source a step copies from the context
//   llb::State s = base.File(llb::Copy(context.State(), src, dest));
//   ...
//   context.Finish();   // every step converted; then Marshal
class BuildContext {
 public:
  BuildContext(std::optional<llb::State> given, std::string name, std::vector<std::string> excludes,
               std::string session_id);
  llb::State State() const;
  // A path of the context a step reads ("src/a.txt"; "" or "/" for all).
  void Read(std::string_view path);
  void Finish();

 private:
  std::optional<llb::State> given_;
  std::string name_;
  std::vector<std::string> excludes_;
  std::string session_id_;
  std::set<std::string> paths_;
  std::shared_ptr<std::vector<std::string>> follow_;
  mutable std::optional<llb::State> state_;  // made on first use
};

// The patterns of an ignore file (.dockerignore syntax), read as BuildKit
// reads them: a UTF-8 BOM is dropped, lines whose first character is '#'
// are comments, lines are trimmed, blank ones skipped, and each pattern is
// cleaned with a leading "/" removed (a '!' prefix kept). Never fails.
std::vector<std::string> ParseIgnoreFile(std::string_view content);

// The context's exclude patterns: `<filename>.dockerignore` beside the
// definition file if there is one, else `.dockerignore` in the context,
// else none.
absl::StatusOr<std::vector<std::string>> ReadContextExcludes(Bridge& bridge,
                                                             const std::string& filename);

}  // namespace kiln::frontend

#endif  // KILN_SDK_FRONTEND_CONTEXT_H_
