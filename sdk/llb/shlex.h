// Shell-like word splitting for exec arguments, as BuildKit's llb.Shlex does
// (github.com/google/shlex rules): whitespace separates words; '...' is
// literal; "..." allows backslash escapes; a backslash outside quotes escapes
// the next character; '#' at the start of a word begins a comment to the end
// of the line. There is no variable expansion, globbing or operators.
//
//   KILN_ASSIGN_OR_RETURN(std::vector<std::string> argv,
//                         kiln::llb::Shlex("sh -c 'echo hi > /out'"));
//   // argv == {"sh", "-c", "echo hi > /out"}
//
// Stateless and thread-safe.
#ifndef KILN_SDK_LLB_SHLEX_H_
#define KILN_SDK_LLB_SHLEX_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::llb {

// The words of `command`. InvalidArgument naming the command when a quote is
// left open or the text ends in a lone backslash (Go's llb.Shlex silently
// keeps the partial words instead).
absl::StatusOr<std::vector<std::string>> Shlex(std::string_view command);

}  // namespace kiln::llb

#endif  // KILN_SDK_LLB_SHLEX_H_
