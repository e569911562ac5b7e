// Printers: progress events rendered for a person or a script.
//
//   plain    one line per step event and the step's own output:
//              #3 mkfile /a
//              #3 DONE 0.012s
//              #4 local://context
//              #4 CACHED
//   tty      a live view: finished steps scroll, running ones are redrawn
//            with their timers every 100 ms (like docker build)
//   rawjson  one JSON object per event per line, for scripts:
//              {"type":"completed","vertex":"sha256:..","name":"..",
//               "cached":false,"duration_ms":12.3}
//   auto     tty on a terminal, plain otherwise
//
// Thread-safe. Finish() stops the redraw thread and prints a summary line.
#ifndef KILN_GATEWAY_PROGRESS_PRINTER_H_
#define KILN_GATEWAY_PROGRESS_PRINTER_H_

#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/progress/progress.h"

namespace kiln::progress {

class Printer : public Sink {
 public:
  virtual void Finish() = 0;
};

// InvalidArgument for an unknown mode. `out` must outlive the printer.
absl::StatusOr<std::unique_ptr<Printer>> NewPrinter(const std::string& mode, FILE* out);

}  // namespace kiln::progress

#endif  // KILN_GATEWAY_PROGRESS_PRINTER_H_
