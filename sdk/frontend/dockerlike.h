// What BuildKit's Dockerfile frontend makes of its instructions, as building
// blocks for any frontend. A frontend whose steps use these gets the ops a
// Dockerfile gets for the same steps, byte for byte, and so shares their
// cache (kiln's dockerfile.v0 and yaml.v0 both do).
//
//   nlohmann::json image;
//   llb::State state;
//   KILN_RETURN_IF_ERROR(frontend::LoadBaseImage(resolved, platform, &state, &image));
//   frontend::ApplyBaseConfig(platform, &image, &state);       // FROM
//   frontend::RunMount cache;
//   cache.type = "cache";
//   cache.target = "/root/.cache";
//   KILN_ASSIGN_OR_RETURN(auto mount, frontend::MakeRunMount(cache, "/", context, &secret_env));
#ifndef KILN_SDK_FRONTEND_DOCKERLIKE_H_
#define KILN_SDK_FRONTEND_DOCKERLIKE_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sdk/frontend/frontend.h"
#include "sdk/llb/llb.h"

namespace kiln::frontend {

// The PATH a stage gets when its base image sets none.
inline constexpr char kDefaultPath[] =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The config document of an image with no config (scratch, a local
// context): WorkingDir "/" and the default PATH.
nlohmann::json EmptyImageConfig();

// Sets KEY=VALUE in a config's Env list, replacing an entry of that key.
void SetConfigEnv(nlohmann::json& env, const std::string& key, const std::string& value);

// A base image's filesystem and config document, as FROM loads them: the
// image pinned by its digest for `platform`, or scratch when it has no
// layers; "created" is dropped. InvalidArgument when the config is not a
// JSON object.
absl::Status LoadBaseImage(const ResolvedImage& image, const llb::Platform& platform,
                           llb::State* state, nlohmann::json* config);

// Adds PATH=kDefaultPath to a config document's Env when it sets no PATH.
void AddDefaultPath(nlohmann::json* image);

// What FROM takes from the base's config into the stage's state: its Env
// (AddDefaultPath first), WorkingDir
// (normalized in the config too), User, and the platform.
void ApplyBaseConfig(const llb::Platform& platform, nlohmann::json* config, llb::State* state);

// The directory WORKDIR `path` names: a relative one resolved against the
// config's WorkingDir.
std::string WorkdirPath(const nlohmann::json& image, const std::string& path);

// WORKDIR `dir` (from WorkdirPath): sets it in the config and on `state`
// and, unless it is "/", creates it (parents too, owned by the config's
// User) with a file op named by `op`. True when that made a layer.
bool ApplyWorkdir(const std::string& dir, const llb::OpOptions& op, nlohmann::json* image,
                  llb::State* state);

// One RUN --mount, with its options resolved.
struct RunMount {
  std::string type = "bind";       // bind, cache, tmpfs, secret, ssh
  std::string target;              // relative: to the step's working directory
  std::string source;              // sub-path of `from` to mount
  std::string id;                  // cache, secret, ssh
  std::string sharing;             // cache: shared (default), private, locked
  std::string env;                 // secret: also as this variable
  std::optional<llb::State> from;  // default: the context (bind), empty (cache)
  bool readonly = true;
  bool required = false;
  int64_t size = 0;  // tmpfs bytes; 0 for no limit
  std::optional<uint32_t> mode, uid, gid;
};

// The LLB mount RUN --mount makes of `m`. `cwd` is the step's working
// directory; `context` the build context's state. A secret's env entry goes
// to `secret_env`; a secret given only as env gives no mount (nullopt).
// InvalidArgument for a missing or "/" target.
absl::StatusOr<std::optional<llb::Mount>> MakeRunMount(const RunMount& m, const std::string& cwd,
                                                       const llb::State& context,
                                                       std::vector<llb::SecretEnv>* secret_env);

// The shell of shell-form commands: the config's Shell, else /bin/sh -c.
std::vector<std::string> ShellOf(const nlohmann::json& image);

// A source ADD fetches: a git repository (git@host:repo, git://, ssh://, or
// an http(s) URL ending in .git; "#ref" picks a ref) or an http(s) URL.
struct RemoteSource {
  enum class Kind { kNone, kGit, kHttp };
  Kind kind = Kind::kNone;
  std::string url;  // without the "#ref" of a git source
  std::string ref;
  // The file an http source gives (the URL path's last element, or
  // "__unnamed__"), or "/" for the root of a git checkout.
  std::string path;
};
RemoteSource ParseRemoteSource(const std::string& src);

// The state ADD copies a remote source from; `name` shows in progress.
llb::State RemoteSourceState(const RemoteSource& source, const std::string& checksum,
                             bool keep_git_dir, const std::string& name);

// The network BuildKit's "force-network-mode" option gives steps that name
// none ("none", "host"; "sandbox" or absent: UNSET). InvalidArgument for
// another value.
absl::StatusOr<pb::NetMode> ForcedNetwork(const std::map<std::string, std::string>& options);

// The network of a RUN step given `mode` ("none", "host"; "" or
// "default" inherit the build's `forced` network, from ForcedNetwork, as a
// Dockerfile's RUN --network does). InvalidArgument naming the value for
// anything else.
absl::StatusOr<pb::NetMode> RunNetwork(const std::string& mode, pb::NetMode forced);

// The proxy settings among build args (HTTP_PROXY, https_proxy, NO_PROXY,
// ...), which RUN passes to its process outside the env and the cache key;
// nullopt when there are none.
std::optional<pb::ProxyEnv> ProxyEnvFromBuildArgs(const std::map<std::string, std::string>& args);

// A port spec as EXPOSE takes it (Docker's nat.ParsePortSpec):
// [[IP:]HOST_PORT:]PORT[-LAST][/PROTO], PROTO tcp (the default), udp or
// sctp in any case. `ports` holds the ExposedPorts keys ("80/tcp"), one per
// container port; `host_mapping` says an IP or host port was given (EXPOSE
// ignores them, and BuildKit warns). InvalidArgument in Docker's words
// ("invalid containerPort: x", "invalid proto: x", ...).
struct PortSpec {
  std::vector<std::string> ports;
  bool host_mapping = false;
};
absl::StatusOr<PortSpec> ParsePortSpec(const std::string& spec);

}  // namespace kiln::frontend

#endif  // KILN_SDK_FRONTEND_DOCKERLIKE_H_
