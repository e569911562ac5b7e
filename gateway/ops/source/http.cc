#include "gateway/ops/source/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gateway/ops/source/internal/url_util.h"
#include "sdk/base/digest.h"
#include "sdk/base/status_macros.h"

namespace kiln::ops {
namespace {

using source_internal::RedactUrl;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// A file being downloaded into dest_dir under a hidden name; unlinked on
// destruction unless Commit() gave it its final name.
class TempFile {
 public:
  static absl::StatusOr<TempFile> Create(const std::string& dir) {
    std::string path = dir + "/.kiln-http-XXXXXX";
    int fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd < 0) {
      return absl::InternalError(
          absl::StrCat("http: cannot create a file in ", dir, ": ", strerror(errno)));
    }
    return TempFile(fd, std::move(path));
  }
  TempFile(TempFile&& o) noexcept
      : fd_(std::exchange(o.fd_, -1)), path_(std::exchange(o.path_, "")) {}
  TempFile& operator=(TempFile&&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }

  absl::Status Commit(const std::string& final_path) {
    int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0 || ::rename(path_.c_str(), final_path.c_str()) != 0) {
      return absl::InternalError(
          absl::StrCat("http: cannot write ", final_path, ": ", strerror(errno)));
    }
    path_.clear();
    return absl::OkStatus();
  }

 private:
  TempFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

// State shared with curl's callbacks during one transfer.
struct Transfer {
  CURL* curl = nullptr;
  const HttpRequest* req = nullptr;
  const CancelFn* cancelled = nullptr;
  int fd = -1;
  Sha256 hash;
  uint64_t size = 0;
  long bad_status = 0;  // set when a body arrives with an error status
  int write_errno = 0;
  // Headers of the latest response (reset at each status line, so that
  // after redirects these belong to the final one).
  std::string last_modified, etag, content_disposition;
};

size_t OnHeader(char* data, size_t size, size_t n, void* p) {
  Transfer* t = static_cast<Transfer*>(p);
  absl::string_view line(data, size * n);
  if (absl::StartsWith(line, "HTTP/")) {
    t->last_modified.clear();
    t->etag.clear();
    t->content_disposition.clear();
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return size * n;
  std::string name = absl::AsciiStrToLower(line.substr(0, colon));
  std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  if (name == "last-modified") t->last_modified = value;
  if (name == "etag") t->etag = value;
  if (name == "content-disposition") t->content_disposition = value;
  return size * n;
}

bool ErrorStatus(long code) { return code < 200 || code >= 400; }

size_t OnBody(char* data, size_t size, size_t n, void* p) {
  Transfer* t = static_cast<Transfer*>(p);
  long code = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
  if (ErrorStatus(code)) {
    t->bad_status = code;  // no point downloading an error page
    return 0;
  }
  for (size_t done = 0; done < size * n;) {
    ssize_t w = ::write(t->fd, data + done, size * n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      t->write_errno = errno;
      return 0;
    }
    done += w;
  }
  t->hash.Update(std::string_view(data, size * n));
  t->size += size * n;
  if (t->req->on_progress) t->req->on_progress(t->size);
  return size * n;
}

int OnProgress(void* p, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return IsCancelled(*static_cast<Transfer*>(p)->cancelled) ? 1 : 0;
}

absl::Status StatusError(long code, const std::string& url) {
  std::string msg = absl::StrCat("http: GET ", url, " returned status ", code);
  if (code == 404 || code == 410) return absl::NotFoundError(msg);
  if (code == 401 || code == 403) return absl::PermissionDeniedError(msg);
  return absl::UnavailableError(msg);
}

absl::Status CurlError(CURLcode rc, const Transfer& t, const char* errbuf, const std::string& url) {
  if (t.bad_status != 0) return StatusError(t.bad_status, url);
  if (t.write_errno != 0) {
    return absl::InternalError(
        absl::StrCat("http: writing the body of ", url, " failed: ", strerror(t.write_errno)));
  }
  std::string msg =
      absl::StrCat("http: GET ", url, ": ", errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
  switch (rc) {
    case CURLE_ABORTED_BY_CALLBACK:
      return absl::CancelledError(absl::StrCat("http: GET ", url, " cancelled"));
    case CURLE_OPERATION_TIMEDOUT:
      return absl::DeadlineExceededError(msg);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return absl::InvalidArgumentError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// Configures `c` for `req`; the header list must outlive the transfer.
std::unique_ptr<curl_slist, SlistDeleter> Configure(CURL* c, const HttpRequest& req, Transfer* t,
                                                    char* errbuf) {
  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, static_cast<long>(req.max_redirects));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(req.connect_timeout)));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(req.low_speed_bytes));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(absl::ToInt64Seconds(req.low_speed_time)));
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "kiln");
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, t);
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : req.headers) {
    headers = curl_slist_append(headers, absl::StrCat(name, ": ", value).c_str());
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  return std::unique_ptr<curl_slist, SlistDeleter>(headers);
}

absl::Status ValidateRequest(const HttpRequest& req, const std::string& url) {
  if (!req.expected_checksum.empty()) {
    absl::Status s = ValidateDigest(req.expected_checksum);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("http: bad checksum for ", url, ": ", s.message()));
    }
  }
  std::string lower = absl::AsciiStrToLower(req.url);
  if (!absl::StartsWith(lower, "http://") && !absl::StartsWith(lower, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("http: unsupported URL \"", url, "\": only http and https"));
  }
  return absl::OkStatus();
}

// What the completed transfer produced.
HttpResult Describe(const HttpRequest& req, Transfer& t) {
  HttpResult r;
  r.digest = t.hash.Digest();
  r.size = t.size;
  r.filename = HttpFileName(req.url, req.filename, t.content_disposition);
  if (!t.last_modified.empty()) {
    time_t lm = curl_getdate(t.last_modified.c_str(), nullptr);
    if (lm != -1) r.last_modified = lm;
  }
  if (!t.etag.empty()) r.etag = std::string(absl::StripPrefix(t.etag, "W/"));
  return r;
}

// Gives the downloaded file its final owner, mode, mtime (Last-Modified, or
// the epoch as BuildKit) and name.
absl::Status Finish(TempFile tmp, const HttpRequest& req, const HttpResult& result,
                    const std::string& path) {
  const time_t mtime = result.last_modified.value_or(0);
  struct timespec times[2] = {{mtime, 0}, {mtime, 0}};
  // chown first: it would clear set-id bits that chmod applied.
  if (((req.uid != 0 || req.gid != 0) && ::fchown(tmp.fd(), req.uid, req.gid) != 0) ||
      ::fchmod(tmp.fd(), req.perm != 0 ? req.perm : 0600) != 0 ||
      ::futimens(tmp.fd(), times) != 0) {
    return absl::InternalError(
        absl::StrCat("http: cannot set metadata of ", path, ": ", strerror(errno)));
  }
  return tmp.Commit(path);
}

}  // namespace

std::string HttpFileName(const std::string& url, const std::string& explicit_name,
                         const std::string& content_disposition) {
  if (!explicit_name.empty()) return source_internal::SafeFileName(explicit_name);
  std::optional<std::string> cd = source_internal::ContentDispositionFilename(content_disposition);
  if (cd.has_value() && !absl::EndsWith(*cd, "/")) {
    return source_internal::SafeFileName(*cd);
  }
  std::optional<std::string> base = source_internal::UrlPathBase(url);
  return source_internal::SafeFileName(base.value_or(""));
}

absl::StatusOr<HttpResult> FetchHttp(const HttpRequest& req, const std::string& dest_dir,
                                     const CancelFn& cancelled) {
  const std::string url = RedactUrl(req.url);
  KILN_RETURN_IF_ERROR(ValidateRequest(req, url));
  GlobalInit();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (curl == nullptr) return absl::InternalError("http: curl_easy_init failed");
  KILN_ASSIGN_OR_RETURN(TempFile tmp, TempFile::Create(dest_dir));

  Transfer t;
  t.curl = curl.get();
  t.req = &req;
  t.cancelled = &cancelled;
  t.fd = tmp.fd();
  char errbuf[CURL_ERROR_SIZE] = {};
  auto headers = Configure(curl.get(), req, &t, errbuf);
  CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) return CurlError(rc, t, errbuf, url);
  long code = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &code);
  if (ErrorStatus(code)) return StatusError(code, url);

  HttpResult result = Describe(req, t);
  if (!req.expected_checksum.empty() && result.digest != req.expected_checksum) {
    return absl::InvalidArgumentError(absl::StrCat("checksum mismatch for ", url, ": expected ",
                                                   req.expected_checksum, ", got ", result.digest));
  }
  KILN_RETURN_IF_ERROR(Finish(std::move(tmp), req, result, dest_dir + "/" + result.filename));
  return result;
}

}  // namespace kiln::ops
