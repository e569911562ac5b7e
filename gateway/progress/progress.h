// Progress events of a solve, and the Sink that receives them.
//
// The solver emits one kStarted and one kCompleted event per vertex it
// visits (a cache hit too: `cached` says whether the step ran), and kLog
// events with a step's own output. The shape follows BuildKit's
// StatusResponse (vertexes and logs) so the control API can carry it.
//
// Sinks are called from many threads at once and must be thread-safe.
#ifndef KILN_GATEWAY_PROGRESS_PROGRESS_H_
#define KILN_GATEWAY_PROGRESS_PROGRESS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kiln::progress {

struct Event {
  enum class Kind { kStarted, kCompleted, kLog, kWarning };
  Kind kind = Kind::kStarted;
  std::string vertex;  // vertex digest
  std::string name;    // human name of the step
  absl::Time started;
  absl::Time completed;  // kCompleted only
  bool cached = false;   // kCompleted: served from the cache, nothing ran
  bool shared = false;   // kCompleted: another solve ran it at the same time
  std::string error;     // kCompleted: non-empty when the step failed
  int stream = 1;        // kLog: 1 stdout, 2 stderr
  std::string data;      // kLog / kWarning payload
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void Emit(const Event& event) = 0;
};

// Discards everything.
class NullSink : public Sink {
 public:
  void Emit(const Event&) override {}
};

// Keeps every event, for tests and for counting what ran.
class RecordingSink : public Sink {
 public:
  void Emit(const Event& event) override {
    absl::MutexLock lock(&mu_);
    events_.push_back(event);
  }
  std::vector<Event> events() const {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  // Completed events with cached == false and no error.
  int Ran() const;
  int Cached() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<Event> events_ ABSL_GUARDED_BY(mu_);
};

// Forwards to several sinks.
class TeeSink : public Sink {
 public:
  explicit TeeSink(std::vector<Sink*> sinks) : sinks_(std::move(sinks)) {}
  void Emit(const Event& event) override {
    for (Sink* s : sinks_) s->Emit(event);
  }

 private:
  std::vector<Sink*> sinks_;
};

}  // namespace kiln::progress

#endif  // KILN_GATEWAY_PROGRESS_PROGRESS_H_
