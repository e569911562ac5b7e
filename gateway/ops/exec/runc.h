// RuncExecutor: runs exec steps as runc containers, the way BuildKit's runc
// executor does.
//
// Each Run writes an OCI bundle (config.json, hosts, resolv.conf) under
// `state_dir/bundles`, runs `runc run` with `state_dir/runc` as runc's state
// root, streams the container's stdout and stderr as they arrive and removes
// the bundle afterwards. The root filesystem is used in place: the caller
// owns it and its mounts; the executor only adds the working directory and
// removes the empty mount-point stubs it caused.
//
// A new network namespace (NONE and UNSET) has only `lo`, which runc brings
// up itself. Needs root (runc without --rootless).
//
// Thread-safe: concurrent Runs use distinct container ids and bundles.
#ifndef KILN_GATEWAY_OPS_EXEC_RUNC_H_
#define KILN_GATEWAY_OPS_EXEC_RUNC_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/ops/exec/executor.h"

namespace kiln::exec {

struct RuncOptions {
  std::string runc = "runc";  // a path, or a name looked up on $PATH
  std::string state_dir;      // created 0700 when missing
};

class RuncExecutor : public Executor {
 public:
  // Errors: FailedPrecondition when runc cannot be found, InvalidArgument
  // for an empty state_dir, a system error when state_dir cannot be created.
  static absl::StatusOr<std::unique_ptr<RuncExecutor>> Create(const RuncOptions& options);

  // See Executor::Run. A command runc cannot start (not found in the root
  // filesystem, bad working directory) is InvalidArgument naming the command
  // and runc's message; other failures of runc are Internal.
  absl::StatusOr<int> Run(const Spec& spec, const OutputFn& output,
                          const CancelFn& cancelled) override;

  // runc's --root, for inspection (`runc --root R list`).
  const std::string& runc_root() const { return runc_root_; }

 private:
  RuncExecutor(std::string runc, std::string runc_root, std::string bundles)
      : runc_(std::move(runc)), runc_root_(std::move(runc_root)), bundles_(std::move(bundles)) {}

  std::string NewId();

  const std::string runc_;
  const std::string runc_root_;
  const std::string bundles_;
  std::atomic<uint64_t> next_id_{0};
};

}  // namespace kiln::exec

#endif  // KILN_GATEWAY_OPS_EXEC_RUNC_H_
