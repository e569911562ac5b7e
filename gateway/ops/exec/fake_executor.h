// FakeExecutor: records every Spec and runs a handler in place of the
// command, for tests of what sits above the executor.
//
//   exec::FakeExecutor fake([](const exec::Spec& s, const exec::OutputFn& out) {
//     WriteFile(s.rootfs + "/built", "yes");
//     out(1, "compiling\n");
//     return 0;  // exit status
//   });
#ifndef KILN_GATEWAY_OPS_EXEC_FAKE_EXECUTOR_H_
#define KILN_GATEWAY_OPS_EXEC_FAKE_EXECUTOR_H_

#include <vector>

#include "absl/synchronization/mutex.h"
#include "gateway/ops/exec/executor.h"

namespace kiln::exec {

class FakeExecutor : public Executor {
 public:
  using Handler = std::function<int(const Spec&, const OutputFn&)>;
  explicit FakeExecutor(Handler handler = nullptr) : handler_(std::move(handler)) {}

  absl::StatusOr<int> Run(const Spec& spec, const OutputFn& output,
                          const CancelFn& cancelled) override {
    {
      absl::MutexLock lock(&mu_);
      specs_.push_back(spec);
    }
    if (cancelled && cancelled()) return absl::CancelledError("cancelled");
    return handler_ ? handler_(spec, output) : 0;
  }

  std::vector<Spec> specs() const {
    absl::MutexLock lock(&mu_);
    return specs_;
  }

 private:
  Handler handler_;
  mutable absl::Mutex mu_;
  std::vector<Spec> specs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kiln::exec

#endif  // KILN_GATEWAY_OPS_EXEC_FAKE_EXECUTOR_H_
