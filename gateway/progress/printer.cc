#include "gateway/progress/printer.h"

#include <unistd.h>

#include <map>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "sdk/base/json.h"

namespace kiln::progress {
namespace {

std::string Seconds(absl::Duration d) { return absl::StrFormat("%.3fs", absl::ToDoubleSeconds(d)); }

// Numbers vertices in the order they first appear, as docker build does.
class Numbering {
 public:
  int Of(const std::string& vertex) {
    auto [it, added] = ids_.emplace(vertex, static_cast<int>(ids_.size()) + 1);
    return it->second;
  }

 private:
  std::map<std::string, int> ids_;
};

class PlainPrinter : public Printer {
 public:
  explicit PlainPrinter(FILE* out) : out_(out) {}
  void Emit(const Event& e) override {
    absl::MutexLock lock(&mu_);
    int n = ids_.Of(e.vertex);
    switch (e.kind) {
      case Event::Kind::kStarted:
        absl::FPrintF(out_, "#%d %s\n", n, e.name);
        break;
      case Event::Kind::kCompleted:
        if (!e.error.empty()) {
          absl::FPrintF(out_, "#%d ERROR: %s\n", n, e.error);
        } else if (e.cached) {
          absl::FPrintF(out_, "#%d CACHED\n", n);
        } else {
          absl::FPrintF(out_, "#%d DONE %s\n", n, Seconds(e.completed - e.started));
        }
        break;
      case Event::Kind::kLog:
        for (absl::string_view line : absl::StrSplit(e.data, '\n', absl::SkipEmpty())) {
          absl::FPrintF(out_, "#%d %s\n", n, line);
        }
        break;
      case Event::Kind::kWarning:
        absl::FPrintF(out_, "WARNING: %s\n", e.data);
        break;
    }
    fflush(out_);
  }
  void Finish() override {}

 private:
  FILE* out_;
  absl::Mutex mu_;
  Numbering ids_ ABSL_GUARDED_BY(mu_);
};

class JsonPrinter : public Printer {
 public:
  explicit JsonPrinter(FILE* out) : out_(out) {}
  void Emit(const Event& e) override {
    std::string line;
    std::string common =
        absl::StrCat("\"vertex\":", JsonQuote(e.vertex), ",\"name\":", JsonQuote(e.name));
    switch (e.kind) {
      case Event::Kind::kStarted:
        line = absl::StrCat("{\"type\":\"started\",", common,
                            ",\"started\":", JsonQuote(absl::FormatTime(e.started)), "}");
        break;
      case Event::Kind::kCompleted:
        line = absl::StrCat(
            "{\"type\":\"completed\",", common, ",\"cached\":", e.cached ? "true" : "false",
            e.shared ? ",\"shared\":true" : "", ",\"duration_ms\":",
            absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(e.completed - e.started)),
            e.error.empty() ? "" : absl::StrCat(",\"error\":", JsonQuote(e.error)), "}");
        break;
      case Event::Kind::kLog:
        line = absl::StrCat("{\"type\":\"log\",", common, ",\"stream\":", e.stream,
                            ",\"data\":", JsonQuote(e.data), "}");
        break;
      case Event::Kind::kWarning:
        line = absl::StrCat("{\"type\":\"warning\",\"data\":", JsonQuote(e.data), "}");
        break;
    }
    absl::MutexLock lock(&mu_);
    absl::FPrintF(out_, "%s\n", line);
    fflush(out_);
  }
  void Finish() override {}

 private:
  FILE* out_;
  absl::Mutex mu_;
};

// Finished steps are printed once and scroll away; running steps stay in a
// block at the bottom that is redrawn in place.
class TtyPrinter : public Printer {
 public:
  explicit TtyPrinter(FILE* out) : out_(out), start_(absl::Now()) {
    ticker_ = std::thread([this] { Tick(); });
  }
  ~TtyPrinter() override { Finish(); }

  void Emit(const Event& e) override {
    absl::MutexLock lock(&mu_);
    int n = ids_.Of(e.vertex);
    switch (e.kind) {
      case Event::Kind::kStarted:
        running_[n] = {e.name, e.started};
        break;
      case Event::Kind::kCompleted: {
        running_.erase(n);
        ++done_;
        std::string status = !e.error.empty() ? "ERROR"
                             : e.cached       ? "CACHED"
                                              : Seconds(e.completed - e.started);
        finished_.push_back(absl::StrFormat(" => #%d %-60s %s", n, e.name.substr(0, 60), status));
        if (!e.error.empty()) finished_.push_back("    " + e.error);
        break;
      }
      case Event::Kind::kLog:
        for (absl::string_view line : absl::StrSplit(e.data, '\n', absl::SkipEmpty())) {
          finished_.push_back(absl::StrCat("    #", n, " ", line));
        }
        break;
      case Event::Kind::kWarning:
        finished_.push_back("WARNING: " + e.data);
        break;
    }
  }

  void Finish() override {
    {
      absl::MutexLock lock(&mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    ticker_.join();
    absl::MutexLock lock(&mu_);
    Draw(true);
  }

 private:
  struct Running {
    std::string name;
    absl::Time started;
  };

  void Tick() {
    absl::MutexLock lock(&mu_);
    while (!stopped_) {
      Draw(false);
      mu_.AwaitWithTimeout(absl::Condition(&stopped_), absl::Milliseconds(100));
    }
  }

  void Draw(bool final) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::string s;
    for (int i = 0; i < drawn_; ++i) s += "\x1b[1A\x1b[2K";
    s += "\r";
    for (const std::string& line : finished_) absl::StrAppend(&s, line, "\n");
    finished_.clear();
    absl::Time now = absl::Now();
    drawn_ = 0;
    absl::StrAppend(
        &s, absl::StrFormat("[+] Building %.1fs (%d done)%s\n", absl::ToDoubleSeconds(now - start_),
                            done_, final ? " FINISHED" : ""));
    ++drawn_;
    if (!final) {
      for (const auto& [n, r] : running_) {
        absl::StrAppend(&s, absl::StrFormat(" => #%d %-60s %.1fs\n", n, r.name.substr(0, 60),
                                            absl::ToDoubleSeconds(now - r.started)));
        ++drawn_;
      }
    }
    fputs(s.c_str(), out_);
    fflush(out_);
  }

  FILE* out_;
  absl::Time start_;
  absl::Mutex mu_;
  Numbering ids_ ABSL_GUARDED_BY(mu_);
  std::map<int, Running> running_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> finished_ ABSL_GUARDED_BY(mu_);
  int done_ ABSL_GUARDED_BY(mu_) = 0;
  int drawn_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread ticker_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Printer>> NewPrinter(const std::string& mode, FILE* out) {
  std::string m = mode;
  if (m == "auto") m = isatty(fileno(out)) ? "tty" : "plain";
  if (m == "plain") return std::make_unique<PlainPrinter>(out);
  if (m == "rawjson") return std::make_unique<JsonPrinter>(out);
  if (m == "tty") return std::make_unique<TtyPrinter>(out);
  return absl::InvalidArgumentError(
      absl::StrCat("unknown progress mode \"", mode, "\": want auto, tty, plain or rawjson"));
}

}  // namespace kiln::progress
