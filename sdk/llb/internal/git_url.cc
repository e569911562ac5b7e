#include "sdk/llb/internal/git_url.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "re2/re2.h"

namespace kiln::llb_internal {
namespace {

absl::Status Invalid(std::string_view url, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid git URL \"", std::string(url), "\": ", std::string(why)));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      *out += in[i];
      continue;
    }
    int hi = i + 1 < in.size() ? HexValue(in[i + 1]) : -1;
    int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) return false;
    *out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

absl::StatusOr<GitRemote> ParseStandard(std::string_view url, size_t scheme_end) {
  GitRemote r;
  r.scheme = absl::AsciiStrToLower(std::string(url.substr(0, scheme_end)));
  // file:// reaches repositories on the builder's machine (kiln runs git
  // for them; a remote BuildKit worker has its own filesystem).
  if (r.scheme != "http" && r.scheme != "https" && r.scheme != "ssh" && r.scheme != "git" &&
      r.scheme != "file") {
    return Invalid(url, absl::StrCat("unsupported protocol \"", r.scheme, "\""));
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Invalid(url, "control character");
    }
  }
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('#'));
  rest = rest.substr(0, rest.find('?'));
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view raw_path = slash == std::string_view::npos ? "" : rest.substr(slash);
  size_t at = authority.rfind('@');
  std::string_view host = at == std::string_view::npos ? authority : authority.substr(at + 1);
  size_t port_colon = host.rfind(':');
  if (port_colon != std::string_view::npos &&
      host.find(']', port_colon) == std::string_view::npos) {
    for (char c : host.substr(port_colon + 1)) {
      if (!absl::ascii_isdigit(c)) return Invalid(url, "invalid port");
    }
  }
  if (!PercentDecode(raw_path, &r.path)) return Invalid(url, "invalid escape in path");
  r.host = std::string(host);
  r.remote = absl::StrCat(r.scheme, "://", std::string(authority), std::string(raw_path));
  return r;
}

}  // namespace

absl::StatusOr<GitRemote> ParseGitUrl(std::string_view url) {
  std::string scheme;
  if (RE2::PartialMatch(url, "^([a-zA-Z0-9]+)://", &scheme)) {
    return ParseStandard(url, scheme.size());
  }
  static const RE2* scp = new RE2("([a-zA-Z0-9_-]+)@([a-zA-Z0-9.-]+):(.*?)(?:\\?(.*?))?(?:#(.*))?");
  std::string user, host, path;
  if (RE2::FullMatch(url, *scp, &user, &host, &path, nullptr, nullptr)) {
    GitRemote r;
    r.scheme = "ssh";
    r.host = host;
    r.path = path;
    r.remote = absl::StrCat(user, "@", host, ":", path);
    return r;
  }
  return absl::NotFoundError(absl::StrCat("no protocol in git URL \"", std::string(url), "\""));
}

}  // namespace kiln::llb_internal
