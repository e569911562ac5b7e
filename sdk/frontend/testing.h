// A Bridge for unit tests of frontends: images and local files from maps,
// solves recorded, no engine.
//
//   frontend::FakeBridge bridge;
//   bridge.options["build-arg:V"] = "1";
//   bridge.AddBusybox();
//   bridge.locals["context"]["MODULES"] = "a\nb\n";
//   KILN_ASSIGN_OR_RETURN(frontend::Result r, my_frontend->Build(bridge));
//
// Solve accepts any definition and remembers it. ReadFile, ReadDir and
// StatFile answer for results whose target is a local source (from
// `locals`, by the local's name; include patterns are not applied);
// anything that would need ops run is Unimplemented. CallFrontend
// records the call and returns `frontend_result`. Single-threaded.
#ifndef KILN_SDK_FRONTEND_TESTING_H_
#define KILN_SDK_FRONTEND_TESTING_H_

#include <map>
#include <string>
#include <vector>

#include "sdk/frontend/frontend.h"

namespace kiln::frontend {

class FakeBridge : public Bridge {
 public:
  struct Call {
    std::string name;
    std::map<std::string, std::string> options;
    std::map<std::string, pb::Definition> inputs;
  };

  std::map<std::string, std::string> options;
  // Image configs by normalized reference.
  std::map<std::string, ResolvedImage> images;
  // Files of local sources: local name -> path (no leading "/") -> content.
  std::map<std::string, std::map<std::string, std::string>> locals;
  std::map<std::string, pb::Definition> inputs;
  std::vector<pb::Definition> solved;
  std::vector<std::string> warnings;
  std::vector<Call> calls;
  absl::StatusOr<Result> frontend_result = absl::UnimplementedError("no frontend result set");

  // docker.io/library/busybox:latest: one layer; Env PATH and HOME,
  // WorkingDir /srv.
  void AddBusybox();

  const std::map<std::string, std::string>& Options() const override { return options; }
  absl::StatusOr<std::string> Solve(const pb::Definition& def) override;
  absl::StatusOr<std::string> ReadFile(const std::string& ref, const std::string& path) override;
  absl::StatusOr<std::vector<FileStat>> ReadDir(const std::string& ref, const std::string& path,
                                                const std::string& include_pattern) override;
  absl::StatusOr<FileStat> StatFile(const std::string& ref, const std::string& path) override;
  const std::map<std::string, pb::Definition>& Inputs() const override { return inputs; }
  absl::StatusOr<ResolvedImage> ResolveImageConfig(const std::string& ref) override;
  void Warn(const std::string& message) override { warnings.push_back(message); }
  absl::StatusOr<Result> CallFrontend(const std::string& name,
                                      const std::map<std::string, std::string>& options,
                                      const std::map<std::string, pb::Definition>& inputs) override;

 private:
  // The files of a solved result: a local source's.
  absl::StatusOr<const std::map<std::string, std::string>*> Files(const std::string& ref);
};

}  // namespace kiln::frontend

#endif  // KILN_SDK_FRONTEND_TESTING_H_
