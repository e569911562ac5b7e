// JSON text exactly as Go's encoding/json.Marshal writes a []string, because
// BuildKit clients put such arrays into source attrs and the bytes end up in
// op digests.
#ifndef KILN_SDK_LLB_INTERNAL_GO_JSON_H_
#define KILN_SDK_LLB_INTERNAL_GO_JSON_H_

#include <string>
#include <vector>

namespace kiln::llb_internal {

// `["a","b"]` with Go's escaping: HTML-sensitive <, >, & and U+2028/U+2029
// become \u escapes, invalid UTF-8 becomes \ufffd.
std::string GoJsonStringArray(const std::vector<std::string>& values);

}  // namespace kiln::llb_internal

#endif  // KILN_SDK_LLB_INTERNAL_GO_JSON_H_
