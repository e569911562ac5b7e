// The frontend API: what a build language implementation (a Dockerfile,
// YAML or Lua frontend, or an in-house DSL) sees of the engine.
//
// A frontend turns a build definition into LLB. It reaches the build only
// through a Bridge, whose calls mirror BuildKit's LLBBridge gateway API:
// read the build's options, solve a definition (for example to read the
// Dockerfile out of the client's context), read a file of a solved result,
// and resolve an image's config. Built-in frontends get the engine's Bridge
// in-process; frontend images will get the same calls over gRPC.
//
// A Frontend object serves one build, from one thread. Bridge methods may be
// called from any thread the frontend uses.
#ifndef KILN_SDK_FRONTEND_FRONTEND_H_
#define KILN_SDK_FRONTEND_FRONTEND_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/llb/ops.pb.h"

namespace kiln::frontend {

// Result metadata keys, as BuildKit's exporters read them.
inline constexpr char kImageConfigKey[] = "containerimage.config";

// An image as ResolveImageConfig finds it.
struct ResolvedImage {
  std::string ref;     // normalized: docker.io/library/busybox:latest
  std::string digest;  // manifest digest, "sha256:..."
  std::string config;  // the image config JSON, as stored
};

// A file's metadata, as ReadDir and StatFile give it. `mode` is the Unix
// st_mode (type and permission bits); `path` is the entry's name for
// ReadDir and the path asked for for StatFile.
struct FileStat {
  std::string path;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t size = 0;
  int64_t mod_time_ns = 0;
  std::string linkname;  // a symlink's target
};

// What a frontend returns: the definition of the build's result, and
// metadata for the exporters (kImageConfigKey: the image config JSON,
// history included, that image outputs start from).
struct Result {
  pb::Definition definition;
  std::map<std::string, std::string> metadata;
};

class Bridge {
 public:
  virtual ~Bridge() = default;
  // The build's options: --opt K=V as given, build args as "build-arg:K",
  // the target as "target", the definition file as "filename", named
  // contexts as "context:NAME".
  virtual const std::map<std::string, std::string>& Options() const = 0;
  // Solves `def` now and returns a reference to its result for ReadFile.
  virtual absl::StatusOr<std::string> Solve(const pb::Definition& def) = 0;
  // The bytes of `path` in a solved result. NotFound naming the path.
  virtual absl::StatusOr<std::string> ReadFile(const std::string& ref, const std::string& path) = 0;
  // The entries of directory `path` of a solved result, sorted by name;
  // with `include_pattern` (a path.Match pattern), only the names matching
  // it. NotFound naming the path; FailedPrecondition when it is not a
  // directory.
  virtual absl::StatusOr<std::vector<FileStat>> ReadDir(const std::string& ref,
                                                        const std::string& path,
                                                        const std::string& include_pattern) = 0;
  // `path` of a solved result itself (a symlink is not followed). NotFound
  // naming the path.
  virtual absl::StatusOr<FileStat> StatFile(const std::string& ref, const std::string& path) = 0;
  // The config of image `ref` (any Docker reference form). NotFound naming
  // the reference and saying how to get the image.
  virtual absl::StatusOr<ResolvedImage> ResolveImageConfig(const std::string& ref) = 0;
  // The client session's id, which local sources name (BuildKit's
  // BUILDKIT_SESSION_ID); empty in kiln, whose locals come from the one
  // client of a build.
  virtual std::string SessionID() const { return ""; }
  // A one-line notice for the client's progress output (a lint warning,
  // which frontend serves a `# syntax=`).
  virtual void Warn(const std::string& message) = 0;
  // Definitions given to this frontend in place of the client's locals,
  // by name ("context", "dockerfile"): LLBBridge's Inputs. Empty for a
  // build that came from the client.
  virtual const std::map<std::string, pb::Definition>& Inputs() const = 0;
  // Runs another frontend, `name`, with `options` in place of this build's,
  // and `inputs` as its Inputs(), and returns its result: BuildKit's Solve
  // with a frontend. A Dockerfile whose `# syntax=` names a built-in
  // frontend (yaml.v0) forwards this way; lua.v0's kiln.dockerfile passes
  // the Dockerfile and context as inputs. NotFound naming the frontend when
  // there is none of that name.
  virtual absl::StatusOr<Result> CallFrontend(
      const std::string& name, const std::map<std::string, std::string>& options,
      const std::map<std::string, pb::Definition>& inputs) = 0;
};

class Frontend {
 public:
  virtual ~Frontend() = default;
  virtual absl::StatusOr<Result> Build(Bridge& bridge) = 0;
};

}  // namespace kiln::frontend

#endif  // KILN_SDK_FRONTEND_FRONTEND_H_
