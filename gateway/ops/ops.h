// The op runners the solver uses: LLB source (local, http, git), file,
// merge, diff and exec ops, over the snapshotter. Exec runs through an
// exec::Executor and image sources through an image::Store (the runc
// executor and the real store come with the container work; without them
// those ops fail with a message that says so).
//
// Thread-safe: one resolver serves every solve.
#ifndef KILN_GATEWAY_OPS_OPS_H_
#define KILN_GATEWAY_OPS_OPS_H_

#include <map>
#include <memory>
#include <string>

#include "gateway/cache/cache_mounts.h"
#include "gateway/image/store.h"
#include "gateway/ops/exec/executor.h"
#include "gateway/solver/op.h"

namespace kiln::ops {

struct OpsOptions {
  // Where per-context scan indexes live (ROOT/locals), so an unchanged
  // context is recognised from its metadata without reading every file.
  std::string state_dir;
  // Runs exec ops; null until a runtime is configured (exec ops then fail
  // with a message saying so). Not owned.
  exec::Executor* executor = nullptr;
  // Resolves docker-image:// sources; null until the image store exists
  // (image sources then fail with a message saying so). Not owned.
  image::Store* images = nullptr;
  // Directories behind exec cache mounts. Not owned; required for them.
  cache::CacheMounts* cache_mounts = nullptr;
};

std::unique_ptr<solver::OpResolver> NewOpResolver(const OpsOptions& options);

// A Session over directories of this machine: the embedded engine's.
class LocalSession : public solver::Session {
 public:
  // `ssh`: ssh agent id -> the path of the agent's socket.
  explicit LocalSession(std::map<std::string, std::string> dirs,
                        std::map<std::string, std::string> secrets = {},
                        const std::map<std::string, std::string>& ssh = {});
  absl::StatusOr<std::string> LocalDir(const std::string& name, const solver::LocalFilter& filter,
                                       solver::OpContext*) const override;
  absl::StatusOr<std::string> Secret(const std::string& id) const override;
  absl::StatusOr<std::shared_ptr<solver::SshAgent>> Ssh(const std::string& id) const override;

 private:
  std::map<std::string, std::string> dirs_;
  std::map<std::string, std::string> secrets_;  // id -> value
  std::map<std::string, std::shared_ptr<solver::SshAgent>> ssh_;
};

// The digest of an op for its cache map: its bytes without the inputs
// (inputs count through their own keys) and with `kind` in front.
std::string OpDigest(std::string_view kind, const pb::Op& op);

}  // namespace kiln::ops

#endif  // KILN_GATEWAY_OPS_OPS_H_
