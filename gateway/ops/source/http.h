// HTTP(S) sources: download one URL into a directory as a single file, the
// way BuildKit's http source does.
//
// The body streams through libcurl into a temporary file inside dest_dir
// while it is hashed; the file gets its final name, mode, owner and mtime
// only once the download is complete and the checksum matches, so a failed
// fetch leaves nothing in dest_dir. FetchHttp is thread-safe (one curl
// handle per call); concurrent fetches must use different dest_dirs or
// filenames.
#ifndef KILN_GATEWAY_OPS_SOURCE_HTTP_H_
#define KILN_GATEWAY_OPS_SOURCE_HTTP_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/ops/source/cancel.h"

namespace kiln::ops {

struct HttpRequest {
  // Only http:// and https:// URLs are fetched.
  std::string url;
  // "sha256:<hex>" the body must hash to; empty accepts any body.
  std::string expected_checksum;
  // Name of the file in dest_dir. Empty: the Content-Disposition filename,
  // else the last segment of the URL path, else "download" (BuildKit's
  // rules). Whatever the source, only its base name is used.
  std::string filename;
  // Mode of the file, applied exactly (no umask). 0 means 0600, BuildKit's
  // default.
  mode_t perm = 0;
  // Owner of the file; left as created (this process's) when both are 0,
  // as BuildKit does.
  uid_t uid = 0;
  gid_t gid = 0;
  // Extra request headers (name, value); they replace kiln's defaults of the
  // same name (User-Agent).
  std::vector<std::pair<std::string, std::string>> headers;
  // Give up when no connection is made within this time.
  absl::Duration connect_timeout = absl::Seconds(30);
  // Give up when fewer than low_speed_bytes arrive per second for this long,
  // so a stalled server cannot hang a build forever.
  absl::Duration low_speed_time = absl::Seconds(60);
  int64_t low_speed_bytes = 1;
  // Redirects followed before failing (Go's http client, which BuildKit
  // uses, stops after 10).
  int max_redirects = 10;
  // Called with the bytes received so far, from the fetching thread.
  std::function<void(uint64_t)> on_progress;
};

struct HttpResult {
  std::string digest;  // "sha256:<hex>" of the body
  uint64_t size = 0;
  std::string filename;  // the name written in dest_dir
  // From the final response, when it sent them.
  std::optional<int64_t> last_modified;  // Unix seconds
  std::optional<std::string> etag;       // without a weak "W/" prefix
};

// Downloads `req.url` into `dest_dir` (which must exist), replacing a file
// of the same name. The file's mtime is the response's Last-Modified, or
// the Unix epoch when there is none, as BuildKit sets it. A body sent with
// Content-Encoding gzip is stored decoded (Go's client, hence BuildKit, does
// the same).
//
// Errors: InvalidArgument for a malformed URL, a scheme other than http(s),
// a malformed expected_checksum, or a body whose checksum differs ("checksum
// mismatch for <url>: expected sha256:..., got sha256:..."); NotFound for a
// 404/410 response; PermissionDenied for 401/403; Unavailable for other
// statuses >= 400, refused connections, unknown hosts, too many redirects and
// TLS failures; DeadlineExceeded when a timeout fires; Cancelled when
// `cancelled` returns true; Internal for local file errors. Every message
// names the URL.
absl::StatusOr<HttpResult> FetchHttp(const HttpRequest& req, const std::string& dest_dir,
                                     const CancelFn& cancelled = nullptr);

// BuildKit's file name choice, exposed for the solver's cache key: the
// explicit name, else the Content-Disposition filename (pass "" when there
// was no response header), else the URL's last path segment, else
// "download"; always a single safe path element.
std::string HttpFileName(const std::string& url, const std::string& explicit_name,
                         const std::string& content_disposition);

}  // namespace kiln::ops

#endif  // KILN_GATEWAY_OPS_SOURCE_HTTP_H_
