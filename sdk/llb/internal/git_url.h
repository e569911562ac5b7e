// Git remote parsing as BuildKit's gitutil.ParseURL does it, so that llb::Git
// produces the same source identifiers as the Go client.
#ifndef KILN_SDK_LLB_INTERNAL_GIT_URL_H_
#define KILN_SDK_LLB_INTERNAL_GIT_URL_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace kiln::llb_internal {

struct GitRemote {
  std::string scheme;  // "http", "https", "ssh" or "git"
  std::string host;    // with port, as written
  std::string path;    // percent-decoded
  std::string remote;  // what git is given: the URL without query and fragment
};

// Parses "scheme://[user@]host[:port]/path[?query][#fragment]" for the four
// git schemes, or the scp form "user@host:path". NotFound when `url` has no
// scheme and is not scp-like (the caller may retry with "https://");
// InvalidArgument naming `url` for an unsupported scheme or a malformed URL.
absl::StatusOr<GitRemote> ParseGitUrl(std::string_view url);

}  // namespace kiln::llb_internal

#endif  // KILN_SDK_LLB_INTERNAL_GIT_URL_H_
