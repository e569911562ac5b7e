// Slash-separated path arithmetic shared by the SDK and the engine.
#ifndef KILN_SDK_BASE_PATH_H_
#define KILN_SDK_BASE_PATH_H_

#include <string>
#include <string_view>

namespace kiln {

// The shortest lexically equivalent path, exactly as Go's path.Clean gives
// it (LLB paths computed by BuildKit clients go through it, and op digests
// depend on every byte): repeated slashes collapse, "." elements go, "x/.."
// pairs cancel, ".." at the start of an absolute path is dropped, trailing
// slashes go; "" becomes ".".
std::string CleanPath(std::string_view path);

}  // namespace kiln

#endif  // KILN_SDK_BASE_PATH_H_
