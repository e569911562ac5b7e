// Leaf states: filesystems that come from outside the build. Each returns a
// State whose op is a pb::SourceOp with BuildKit's identifier scheme and
// attrs, so graphs built here mean the same to BuildKit.
//
//   llb::State busybox = llb::Image("busybox");  // docker.io/library/busybox:latest
//   llb::LocalOptions ctx_opts;
//   ctx_opts.exclude_patterns = {"bazel-*", ".git"};
//   llb::State ctx = llb::Local("context", ctx_opts);
//   llb::State repo = llb::Git("https://github.com/moby/buildkit.git", "v0.12.0");
//   llb::HttpOptions h;
//   h.checksum = "sha256:...";
//   llb::State tarball = llb::Http("https://example.com/x.tgz", h);
//
// Bad arguments (empty names, malformed references) are reported by Marshal
// as InvalidArgument naming the constructor and the text. Thread-safe.
#ifndef KILN_SDK_LLB_SOURCE_H_
#define KILN_SDK_LLB_SOURCE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sdk/llb/op_options.h"
#include "sdk/llb/platform.h"
#include "sdk/llb/state.h"

namespace kiln::llb {

// The empty filesystem. Marshal(Scratch()) is an empty Definition.
State Scratch();

enum class ResolveMode {
  kDefault,      // the solver's policy
  kForcePull,    // always ask the registry ("pull")
  kPreferLocal,  // use a local image of that name if present ("local")
};

struct ImageOptions {
  // Which variant of a multi-platform image; also becomes the State's
  // platform, so Run on it targets the same platform.
  std::optional<Platform> platform;
  ResolveMode resolve_mode = ResolveMode::kDefault;
  std::optional<int> layer_limit;  // use only the first N layers
  std::string checksum;            // expected manifest digest, "sha256:..."
  OpOptions op;
};

// A registry image. `ref` is normalized as Docker does ("busybox" ->
// "docker.io/library/busybox:latest"); see "sdk/llb/image_ref.h".
State Image(std::string_view ref, const ImageOptions& options = {});

struct LocalOptions {
  std::vector<std::string> include_patterns;  // .dockerignore syntax
  std::vector<std::string> exclude_patterns;
  std::vector<std::string> follow_paths;  // symlinks to follow when sending
  // More follow paths, read when the graph is marshaled, not now: a frontend
  // learns which paths of its context a build reads only once it has
  // converted every instruction (Go llb's mutable output does this job).
  // Fill it before Marshal and leave it alone from then on.
  std::shared_ptr<const std::vector<std::string>> follow_paths_later;
  std::string shared_key_hint;  // lets builds share a transfer cache
  std::string session_id;       // pin to one client session
  // "local.unique": makes otherwise identical local sources distinct. Empty
  // uses MarshalOptions::local_unique_id (and none when that is empty too).
  std::string unique_id;
  OpOptions op;
};

// A directory the client sends over its session, known by `name`.
State Local(std::string_view name, const LocalOptions& options = {});

struct HttpOptions {
  std::string checksum;  // expected content digest, "sha256:..."
  std::string filename;  // name of the downloaded file in the result
  uint32_t perm = 0;     // file mode bits (0 = default 0644)
  int uid = 0;
  int gid = 0;
  std::string auth_header_secret;  // secret holding an Authorization header
  OpOptions op;
};

// A single file downloaded from an http(s) URL.
State Http(std::string_view url, const HttpOptions& options = {});

struct GitOptions {
  bool keep_git_dir = false;
  std::string subdir;    // overrides a ":subdir" in `ref`
  std::string checksum;  // expected commit
  bool skip_submodules = false;
  // Names of the secrets consulted for https auth. The defaults are the
  // ones BuildKit always sends; an empty name leaves the attr out.
  std::string auth_token_secret = "GIT_AUTH_TOKEN";
  std::string auth_header_secret = "GIT_AUTH_HEADER";
  // ssh remotes only: known_hosts lines (kiln never scans hosts itself), and
  // the ssh agent id (default "default").
  std::string known_ssh_hosts;
  std::string mount_ssh_sock;
  OpOptions op;
};

// A git checkout. `url` is https://, http://, git://, ssh:// or scp-like
// "user@host:path"; a bare "host/path" means https. `ref` is a branch, tag or
// commit, optionally followed by ":subdir" (BuildKit's fragment syntax); empty
// means the default branch.
State Git(std::string_view url, std::string_view ref = "", const GitOptions& options = {});

}  // namespace kiln::llb

#endif  // KILN_SDK_LLB_SOURCE_H_
