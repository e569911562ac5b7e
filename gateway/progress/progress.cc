#include "gateway/progress/progress.h"

namespace kiln::progress {

int RecordingSink::Ran() const {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const Event& e : events_) {
    if (e.kind == Event::Kind::kCompleted && !e.cached && e.error.empty()) ++n;
  }
  return n;
}

int RecordingSink::Cached() const {
  absl::MutexLock lock(&mu_);
  int n = 0;
  for (const Event& e : events_) {
    if (e.kind == Event::Kind::kCompleted && e.cached) ++n;
  }
  return n;
}

}  // namespace kiln::progress
