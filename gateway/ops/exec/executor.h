// Executor: runs one process of an exec step in a prepared root filesystem.
//
// The exec op runner (gateway/ops) turns an LLB ExecOp into a Spec: it
// mounts or prepares every input and hands the executor host paths only, so
// an executor knows nothing of snapshots or caching. The real executor
// (runc, with an OCI runtime spec) arrives with the container work; the fake
// in :testing records specs and lets a test act as the command.
//
// Implementations must be thread-safe: steps run in parallel.
#ifndef KILN_GATEWAY_OPS_EXEC_EXECUTOR_H_
#define KILN_GATEWAY_OPS_EXEC_EXECUTOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/llb/ops.pb.h"

namespace kiln::exec {

struct Mount {
  enum class Kind { kBind, kTmpfs };
  Kind kind = Kind::kBind;
  std::string dest;    // absolute path inside the container
  std::string source;  // host path (kBind)
  bool readonly = false;
  int64_t tmpfs_size = 0;  // bytes; 0 means the executor's default
};

struct Spec {
  std::vector<std::string> args;
  std::vector<std::string> env;  // "KEY=value"
  std::string cwd = "/";
  std::string user;  // as LLB gives it: "", "name", "uid", "name:group", "uid:gid"
  std::string hostname;
  pb::NetMode network = pb::NetMode::UNSET;  // UNSET is sandboxed like NONE
  bool readonly_rootfs = false;
  std::string rootfs;         // host path of the root filesystem, writable unless readonly
  std::vector<Mount> mounts;  // in mount order, below the root
  // When set, the process's stdin and stdout are this socket (a frontend
  // image's gRPC connection, as BuildKit gives it) and `output` carries
  // only stderr. The caller keeps the socket.
  int stdio_fd = -1;
};

// Receives the process's output as it happens: stream 1 stdout, 2 stderr.
using OutputFn = std::function<void(int stream, std::string_view data)>;
using CancelFn = std::function<bool()>;

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs spec.args to completion and returns its exit status; a non-zero
  // status is a result, not an error. Errors: the process could not start
  // (InvalidArgument naming what is wrong with the spec, Internal for the
  // runtime), Cancelled when `cancelled` turned true (the process is killed
  // and nothing stays mounted).
  virtual absl::StatusOr<int> Run(const Spec& spec, const OutputFn& output,
                                  const CancelFn& cancelled) = 0;
};

}  // namespace kiln::exec

#endif  // KILN_GATEWAY_OPS_EXEC_EXECUTOR_H_
