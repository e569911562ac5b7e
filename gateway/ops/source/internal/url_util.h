// URL and file-name helpers shared by the http and git sources.
#ifndef KILN_GATEWAY_OPS_SOURCE_INTERNAL_URL_UTIL_H_
#define KILN_GATEWAY_OPS_SOURCE_INTERNAL_URL_UTIL_H_

#include <optional>
#include <string>
#include <string_view>

namespace kiln::source_internal {

// `url` with the password of "scheme://user:password@host" replaced by
// "xxxxx"; anything else unchanged.
std::string RedactUrl(const std::string& url);

// One harmless path element from `name`: trimmed, reduced to its last
// element; "download" when that is empty, ".", "..", "/" or holds control
// characters (BuildKit's pathutil.SafeFileName).
std::string SafeFileName(std::string_view name);

// The filename parameter of a Content-Disposition value (RFC 6266, with
// RFC 2231 "filename*=UTF-8''..." preferred), or nullopt when the value
// does not parse or has none.
std::optional<std::string> ContentDispositionFilename(std::string_view value);

// The last element of the URL's decoded path, or nullopt when the URL does
// not parse or its path has no element ("", "/").
std::optional<std::string> UrlPathBase(const std::string& url);

}  // namespace kiln::source_internal

#endif  // KILN_GATEWAY_OPS_SOURCE_INTERNAL_URL_UTIL_H_
