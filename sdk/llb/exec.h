// Running commands: State::Run builds a pb::ExecOp that runs `args` in a
// container whose root filesystem is the state, with extra mounts.
//
//   llb::RunOptions run;
//   run.shlex = "go build -o /out/app ./cmd/app";
//   run.env = {{"CGO_ENABLED", "0"}};
//   run.mounts.push_back({"/src", llb::Local("context")});   // read-write copy
//   llb::Mount out;
//   out.target = "/out";                                    // starts empty
//   run.mounts.push_back(out);
//   llb::Mount cache;
//   cache.target = "/root/.cache/go-build";
//   cache.cache = llb::CacheMount{"go-build"};
//   run.mounts.push_back(cache);
//   llb::ExecState exec = llb::Image("golang:1.22").Dir("/src").Run(run);
//   llb::State binary = exec.GetMount("/out");
//   llb::State rootfs = exec.Root();
//
// The process gets the state's env, working dir, user, hostname, network
// and security mode, as overridden by RunOptions (Go llb's rules: RunOptions
// changes apply to this exec only, not to the returned Root()).
//
// Outputs follow BuildKit's numbering: mounts are sorted by target; the root
// and every writable bind mount get output indexes 0, 1, ... in that order;
// readonly, cache, tmpfs and no_output mounts get none (-1). Secret and ssh
// mounts come after the sorted mounts and, exactly as BuildKit writes them,
// leave their output field unset (0).
//
// Errors (no arguments, a mount with two kinds, a repeated target, a tmpfs
// with a source, an unclosed quote in `shlex`) surface from Marshal as
// InvalidArgument naming the exec. Values; thread-compatible.
#ifndef KILN_SDK_LLB_EXEC_H_
#define KILN_SDK_LLB_EXEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/llb/ops.pb.h"
#include "sdk/llb/op_options.h"
#include "sdk/llb/state.h"

namespace kiln::llb {

// A persistent directory kept by the engine across builds under `id`.
struct CacheMount {
  std::string id;
  pb::CacheSharingOpt sharing = pb::SHARED;
};

struct TmpfsMount {
  int64_t size = 0;  // bytes; 0 means the kernel default
};

// A secret from the client session, as a file at the mount target.
struct SecretMount {
  std::string id;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t mode = 0400;
  bool optional = false;
};

// The client's ssh agent socket at the mount target (default
// /run/buildkit/ssh_agent.N); SSH_AUTH_SOCK points at the first one.
struct SshMount {
  std::string id;  // empty means "default"
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t mode = 0600;
  bool optional = false;
};

// One filesystem mounted into the container. A plain mount binds `source`
// (default: empty) at `target`; at most one of cache/tmpfs/secret/ssh makes
// it another kind.
struct Mount {
  std::string target;
  State source;
  std::string selector;  // sub-path of `source` to mount
  bool readonly = false;
  bool no_output = false;  // writable, but the result is thrown away
  std::optional<CacheMount> cache;
  std::optional<TmpfsMount> tmpfs;
  std::optional<SecretMount> secret;
  std::optional<SshMount> ssh;
  pb::MountContentCache content_cache = pb::DEFAULT;
};

// A secret exposed as an environment variable.
struct SecretEnv {
  std::string id;
  std::string name;
  bool optional = false;
};

struct RunOptions {
  std::vector<std::string> args;
  // Used when `args` is empty: split into args by Shlex ("sdk/llb/shlex.h").
  std::string shlex;
  std::vector<std::pair<std::string, std::string>> env;  // added to the state's env
  std::string cwd;                                       // relative to the state's dir
  std::optional<std::string> user;                       // default: the state's user
  std::optional<std::string> hostname;
  std::optional<pb::NetMode> network;
  std::optional<pb::SecurityMode> security;
  std::vector<Mount> mounts;
  std::vector<SecretEnv> secret_env;
  bool readonly_rootfs = false;
  std::optional<std::vector<int32_t>> valid_exit_codes;  // default: only 0
  // HTTP_PROXY and friends for the process; not part of the cache key.
  std::optional<pb::ProxyEnv> proxy_env;
  OpOptions op;
};

// The result of State::Run.
class ExecState {
 public:
  // The root filesystem after the command, carrying the original state's
  // env, dir and user. With readonly_rootfs, the unchanged input state.
  const State& Root() const { return root_; }
  // The filesystem at mount `target` after the command (a readonly mount
  // gives back its source). A target that is not mounted, or whose mount has
  // no output, gives a State that fails to marshal.
  State GetMount(std::string_view target) const;

 private:
  friend class State;
  State root_;
  std::vector<std::pair<std::string, State>> mounts_;
};

}  // namespace kiln::llb

#endif  // KILN_SDK_LLB_EXEC_H_
