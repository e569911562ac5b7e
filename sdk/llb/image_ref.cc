#include "sdk/llb/image_ref.h"

#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "re2/re2.h"

namespace kiln::llb {
namespace {

// The grammar of distribution/reference, spelled out once.
constexpr char kAlnum[] = "[a-z0-9]+";
constexpr char kSeparator[] = "(?:[._]|__|[-]+)";
constexpr char kDomainComponent[] = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
constexpr char kTag[] = "[\\w][\\w.-]{0,127}";
constexpr char kDigest[] =
    "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}";

struct Grammar {
  std::string domain_and_port;
  std::string remote_name;
  Grammar() {
    std::string domain_name = absl::StrCat(kDomainComponent, "(?:\\.", kDomainComponent, ")*");
    std::string host = absl::StrCat("(?:", domain_name, "|\\[(?:[a-fA-F0-9:]+)\\])");
    domain_and_port = absl::StrCat(host, "(?::[0-9]+)?");
    std::string path_component = absl::StrCat(kAlnum, "(?:", kSeparator, kAlnum, ")*");
    remote_name = absl::StrCat(path_component, "(?:/", path_component, ")*");
  }
};

const Grammar& G() {
  static const Grammar* g = new Grammar();
  return *g;
}

const RE2& ReferenceRe() {
  static const RE2* re = new RE2(absl::StrCat("((?:", G().domain_and_port, "/)?", G().remote_name,
                                              ")(?::(", kTag, "))?(?:@(", kDigest, "))?"));
  return *re;
}

const RE2& NameRe() {
  static const RE2* re =
      new RE2(absl::StrCat("(?:(", G().domain_and_port, ")/)?(", G().remote_name, ")"));
  return *re;
}

absl::Status Invalid(std::string_view ref, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid image reference \"", std::string(ref), "\": ", std::string(why)));
}

// Splits off the registry the way Docker does: the first component is a
// registry only if it looks like a host (has '.' or ':', is "localhost", or
// has capitals); Docker Hub names gain "library/" when they have no
// namespace.
void SplitDomain(std::string_view name, std::string* domain, std::string* remainder) {
  size_t slash = name.find('/');
  std::string first(name.substr(0, slash == std::string_view::npos ? name.size() : slash));
  if (slash == std::string_view::npos) {
    *domain = "docker.io";
    *remainder = absl::StrCat("library/", std::string(name));
    return;
  }
  std::string rest(name.substr(slash + 1));
  if (first == "localhost" || first.find_first_of(".:") != std::string::npos ||
      absl::AsciiStrToLower(first) != first) {
    *domain = first == "index.docker.io" ? "docker.io" : first;
    *remainder = rest;
  } else {
    *domain = "docker.io";
    *remainder = std::string(name);
  }
  if (*domain == "docker.io" && remainder->find('/') == std::string::npos) {
    *remainder = "library/" + *remainder;
  }
}

absl::Status ValidateImageDigest(std::string_view ref, const std::string& digest) {
  size_t colon = digest.find(':');
  std::string algorithm = digest.substr(0, colon);
  std::string encoded = digest.substr(colon + 1);
  size_t want;
  if (algorithm == "sha256") {
    want = 64;
  } else if (algorithm == "sha384") {
    want = 96;
  } else if (algorithm == "sha512") {
    want = 128;
  } else {
    return Invalid(ref, absl::StrCat("unsupported digest algorithm \"", algorithm, "\""));
  }
  if (encoded.size() != want) return Invalid(ref, "invalid checksum digest length");
  for (char c : encoded) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) {
      return Invalid(ref, "invalid checksum digest format");
    }
  }
  return absl::OkStatus();
}

}  // namespace

namespace {

absl::StatusOr<std::string> Normalize(std::string_view ref) {
  if (ref.empty()) return Invalid(ref, "repository name must have at least one component");
  static const RE2* const kImageId = new RE2("[a-f0-9]{64}");  // compiled once
  if (RE2::FullMatch(ref, *kImageId)) {
    return Invalid(ref, "cannot specify 64-byte hexadecimal strings");
  }
  std::string domain, remainder;
  SplitDomain(ref, &domain, &remainder);
  std::string remote = remainder.substr(0, remainder.find(':'));
  if (absl::AsciiStrToLower(remote) != remote) {
    return Invalid(ref, absl::StrCat("repository name (", remote, ") must be lowercase"));
  }
  std::string full = absl::StrCat(domain, "/", remainder);
  std::string name, tag, digest;
  if (!RE2::FullMatch(full, ReferenceRe(), &name, &tag, &digest)) {
    if (RE2::FullMatch(absl::AsciiStrToLower(full), ReferenceRe())) {
      return Invalid(ref, "repository name must be lowercase");
    }
    return Invalid(ref, "invalid reference format");
  }
  std::string name_domain, path;
  if (!RE2::FullMatch(name, NameRe(), &name_domain, &path)) {
    return Invalid(ref, "invalid reference format");
  }
  if (path.size() > 255) {
    return Invalid(ref, "repository name must not be more than 255 characters");
  }
  if (!digest.empty()) {
    absl::Status st = ValidateImageDigest(ref, digest);
    if (!st.ok()) return st;
  }
  if (tag.empty() && digest.empty()) tag = "latest";
  std::string out = name;
  if (!tag.empty()) absl::StrAppend(&out, ":", tag);
  if (!digest.empty()) absl::StrAppend(&out, "@", digest);
  return out;
}

}  // namespace

absl::StatusOr<std::string> NormalizeImageRef(std::string_view ref) {
  // A pure function of `ref`, and a build names the same few images many
  // times (a FROM per stage), while the grammar's regular expression with
  // captures is slow: valid results are remembered, up to a bound.
  static std::mutex mu;
  static auto* memo = new std::unordered_map<std::string, std::string>();
  constexpr size_t kMemoEntries = 4096;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = memo->find(std::string(ref));
    if (it != memo->end()) return it->second;
  }
  absl::StatusOr<std::string> out = Normalize(ref);
  if (out.ok()) {
    std::lock_guard<std::mutex> lock(mu);
    if (memo->size() >= kMemoEntries) memo->clear();
    memo->emplace(std::string(ref), *out);
  }
  return out;
}

}  // namespace kiln::llb
