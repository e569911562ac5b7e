// Slash-separated path arithmetic with the exact results of Go's `path`
// package, because LLB paths computed by BuildKit clients go through it and
// op digests depend on every byte of them.
#ifndef KILN_SDK_LLB_INTERNAL_GO_PATH_H_
#define KILN_SDK_LLB_INTERNAL_GO_PATH_H_

#include <initializer_list>
#include <string>
#include <string_view>

#include "sdk/base/path.h"

namespace kiln::llb_internal {

// Go path.Clean: the shortest equivalent path ("" -> ".", "/a/../b/" -> "/b").
using ::kiln::CleanPath;

// Go path.Join: the non-empty elements joined by "/" and cleaned; "" when all
// are empty.
std::string JoinPath(std::initializer_list<std::string_view> elems);

inline bool IsAbsPath(std::string_view path) { return !path.empty() && path[0] == '/'; }

// A file-action path resolved against the state's working directory. With
// `keep_slash`, a trailing "/" or "/." of `path` survives cleaning, because
// for copy destinations it means "into this directory".
std::string NormalizeActionPath(std::string_view parent, std::string_view path, bool keep_slash);

}  // namespace kiln::llb_internal

#endif  // KILN_SDK_LLB_INTERNAL_GO_PATH_H_
