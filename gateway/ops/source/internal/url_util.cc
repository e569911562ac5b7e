#include "gateway/ops/source/internal/url_util.h"

#include <curl/curl.h>

#include <map>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace kiln::source_internal {
namespace {

constexpr char kDefaultName[] = "download";

bool IsTokenChar(char c) {
  return c > 0x20 && c < 0x7f &&
         std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

// Parses the parameters after the disposition type; nullopt on bad syntax
// (like Go's mime.ParseMediaType, which then yields no parameters at all).
std::optional<std::map<std::string, std::string>> ParseParams(std::string_view v) {
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
  };
  auto token = [&] {
    size_t start = i;
    while (i < v.size() && IsTokenChar(v[i])) ++i;
    return std::string(v.substr(start, i - start));
  };
  skip_ws();
  if (token().empty()) return std::nullopt;
  std::map<std::string, std::string> params;
  for (;;) {
    skip_ws();
    if (i == v.size()) return params;
    if (v[i++] != ';') return std::nullopt;
    skip_ws();
    if (i == v.size()) return params;
    std::string key = absl::AsciiStrToLower(token());
    skip_ws();
    if (key.empty() || i == v.size() || v[i++] != '=') return std::nullopt;
    skip_ws();
    std::string value;
    if (i < v.size() && v[i] == '"') {
      for (++i; i < v.size() && v[i] != '"'; ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) ++i;
        value.push_back(v[i]);
      }
      if (i++ == v.size()) return std::nullopt;
    } else {
      value = token();
      if (value.empty()) return std::nullopt;
    }
    params[key] = value;
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// RFC 2231 "charset'lang'pct-encoded"; only UTF-8 and US-ASCII, as Go.
std::optional<std::string> DecodeExtValue(std::string_view v) {
  size_t q1 = v.find('\'');
  size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return std::nullopt;
  std::string charset = absl::AsciiStrToLower(std::string(v.substr(0, q1)));
  if (charset != "utf-8" && charset != "us-ascii") return std::nullopt;
  std::string out;
  for (size_t i = q2 + 1; i < v.size(); ++i) {
    if (v[i] != '%') {
      out.push_back(v[i]);
      continue;
    }
    if (i + 2 >= v.size() + 0 || HexValue(v[i + 1]) < 0 || HexValue(v[i + 2]) < 0) {
      return std::nullopt;
    }
    out.push_back(static_cast<char>(HexValue(v[i + 1]) * 16 + HexValue(v[i + 2])));
    i += 2;
  }
  return out;
}

struct UrlDeleter {
  void operator()(CURLU* h) const { curl_url_cleanup(h); }
};

}  // namespace

std::string RedactUrl(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t host_start = scheme + 3;
  size_t host_end = url.find_first_of("/?#", host_start);
  std::string authority = url.substr(host_start, host_end - host_start);
  size_t at = authority.rfind('@');
  if (at == std::string::npos) return url;
  size_t colon = authority.find(':');
  if (colon == std::string::npos || colon > at) return url;
  return absl::StrCat(url.substr(0, host_start), authority.substr(0, colon), ":xxxxx",
                      url.substr(host_start + at));
}

std::string SafeFileName(std::string_view name) {
  std::string s(absl::StripAsciiWhitespace(absl::string_view(name.data(), name.size())));
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  size_t slash = s.rfind('/');
  if (slash != std::string::npos && s.size() > 1) s = s.substr(slash + 1);
  if (s.empty() || s == "." || s == ".." || s == "/") return kDefaultName;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    bool c1_control = c == 0xc2 && i + 1 < s.size() &&
                      static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
                      static_cast<unsigned char>(s[i + 1]) <= 0x9f;
    if (c < 0x20 || c == 0x7f || c1_control) return kDefaultName;
  }
  return s;
}

std::optional<std::string> ContentDispositionFilename(std::string_view value) {
  std::optional<std::map<std::string, std::string>> params = ParseParams(value);
  if (!params.has_value()) return std::nullopt;
  std::optional<std::string> name;
  if (auto it = params->find("filename*"); it != params->end()) {
    name = DecodeExtValue(it->second);
  }
  if (!name.has_value()) {
    auto it = params->find("filename");
    if (it != params->end()) name = it->second;
  }
  if (!name.has_value() || name->empty()) return std::nullopt;
  return name;
}

std::optional<std::string> UrlPathBase(const std::string& url) {
  std::unique_ptr<CURLU, UrlDeleter> h(curl_url());
  if (h == nullptr ||
      curl_url_set(h.get(), CURLUPART_URL, url.c_str(), CURLU_PATH_AS_IS) != CURLUE_OK) {
    return std::nullopt;
  }
  char* raw = nullptr;
  if (curl_url_get(h.get(), CURLUPART_PATH, &raw, CURLU_URLDECODE) != CURLUE_OK) {
    return std::nullopt;
  }
  std::string path(raw);
  curl_free(raw);
  while (!path.empty() && path.back() == '/') path.pop_back();
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  if (base.empty() || base == ".") return std::nullopt;
  return base;
}

}  // namespace kiln::source_internal
