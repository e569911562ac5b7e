// llb::State: one filesystem in a BuildKit LLB graph under construction,
// plus the process settings (env, working dir, user, ...) that ops built
// from it inherit. This is the API frontends use to describe builds; see
// "sdk/llb/llb.h", which includes everything, and Marshal in
// "sdk/llb/marshal.h" to turn a State into a pb::Definition.
//
//   #include "sdk/llb/llb.h"
//   namespace llb = kiln::llb;
//
//   llb::State base = llb::Image("busybox").AddEnv("LANG", "C").Dir("/work");
//   llb::RunOptions run;
//   run.shlex = "sh -c 'make > log'";
//   llb::State built = base.Run(run).Root();
//   llb::State out = llb::Scratch().File(llb::Copy(built, "log", "/log"));
//   KILN_ASSIGN_OR_RETURN(pb::Definition def, llb::Marshal(out));
//
// States are immutable values: every method returns a new State and leaves
// the receiver untouched. Copies are cheap (two shared pointers) and share
// the op graph. A State may be used from several threads at once.
//
// Mistakes (an empty image name, a Run without arguments, reading a mount
// that has no output) do not fail where they are made: the resulting State
// carries the error and Marshal returns it as InvalidArgument. No method
// here fails or throws.
#ifndef KILN_SDK_LLB_STATE_H_
#define KILN_SDK_LLB_STATE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/llb/ops.pb.h"
#include "sdk/llb/op_options.h"
#include "sdk/llb/platform.h"

namespace kiln::llb_internal {
class Node;
struct StateMeta;
class StateAccess;
}  // namespace kiln::llb_internal

namespace kiln::llb {

class ExecState;
class FileAction;
struct RunOptions;

class State {
 public:
  // The empty filesystem, like Scratch().
  State();

  // True for the empty filesystem (Scratch(), or a Merge/Diff that reduces to it).
  bool IsScratch() const;

  // Process settings, inherited by Run and used to resolve relative paths.
  // AddEnv replaces an existing `key` and moves it last, as Go's llb does.
  State AddEnv(std::string_view key, std::string_view value) const;
  // An absolute `path` is kept as written; a relative one is joined to the
  // current dir and cleaned.
  State Dir(std::string_view path) const;
  State User(std::string_view user) const;
  State Hostname(std::string_view hostname) const;
  State Network(pb::NetMode mode) const;
  State Security(pb::SecurityMode mode) const;
  // The platform Run ops on this state are built for (normalized).
  State WithPlatform(const Platform& platform) const;

  std::optional<std::string> GetEnv(std::string_view key) const;
  // "KEY=value" entries in order.
  std::vector<std::string> Env() const;
  const std::string& GetDir() const;
  const std::string& GetUser() const;
  const std::string& GetHostname() const;
  pb::NetMode GetNetwork() const;
  pb::SecurityMode GetSecurity() const;
  const std::optional<Platform>& GetPlatform() const;

  // Runs a command in a container whose root filesystem is this state; see
  // "sdk/llb/exec.h".
  ExecState Run(const RunOptions& options) const;
  // `fs`'s filesystem with this state's process settings (Go llb's
  // WithOutput); e.g. the result of a Merge that should keep the env.
  State WithFilesystem(const State& fs) const;
  // Applies a chain of file actions in one FileOp; see "sdk/llb/file.h".
  State File(const FileAction& action, const OpOptions& options = {}) const;

 private:
  friend class llb_internal::StateAccess;

  std::shared_ptr<const llb_internal::Node> node_;  // null: scratch
  int64_t index_ = 0;
  std::shared_ptr<const llb_internal::StateMeta> meta_;  // never null
};

}  // namespace kiln::llb

#endif  // KILN_SDK_LLB_STATE_H_
