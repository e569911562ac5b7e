// chmod(1)-style mode strings ("755", "u+x", "go-w", "u=rwx,go=u-w", "+X"),
// as BuildKit accepts in COPY --chmod (FileActionCopy.modeStr). Parsing
// follows BSD setmode(3) with a zero umask, which is what BuildKit's
// dchapes-mode does: 'X' only takes effect with '+', "s" and "t" are ignored
// for "o" alone, and an empty "who" means all classes.
//
// A ModeSet is an immutable value; thread-safe.
#ifndef KILN_GATEWAY_FSUTIL_MODE_H_
#define KILN_GATEWAY_FSUTIL_MODE_H_

#include <sys/types.h>

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::fsutil {

class ModeSet {
 public:
  // Parses an octal (at most 07777) or symbolic mode. Errors: InvalidArgument
  // naming `text`.
  static absl::StatusOr<ModeSet> Parse(std::string_view text);

  // The permission bits (07777) that result from applying the changes to a
  // file whose st_mode is `st_mode` (its type matters for 'X').
  mode_t Apply(mode_t st_mode) const;

 private:
  struct Op {
    char cmd;              // '+', '-', 'X', or 'u'/'g'/'o' (copy from that class)
    char copy_op = 0;      // for copies: '+', '-' or '='
    unsigned targets = 0;  // for copies: bit 2 user, bit 1 group, bit 0 other
    mode_t bits;           // bits affected
  };
  class Parser;
  std::vector<Op> ops_;
};

}  // namespace kiln::fsutil

#endif  // KILN_GATEWAY_FSUTIL_MODE_H_
