#include "gateway/fsutil/wildcard.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/internal/sys.h"
#include "gateway/fsutil/path.h"

namespace kiln::fsutil {
namespace {

using fsutil_internal::ListDir;
using fsutil_internal::UniqueFd;

// Decodes one UTF-8 rune (invalid bytes decode as themselves).
uint32_t DecodeRune(std::string_view s, size_t* len) {
  *len = fsutil_internal::Utf8Length(s);
  unsigned char c = s[0];
  if (*len == 1) return c;
  uint32_t r = c & (0x7F >> *len);
  for (size_t i = 1; i < *len; ++i) r = (r << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
  return r;
}

// A class endpoint: may not be '-' or ']' unescaped; '\' escapes.
bool GetEsc(std::string_view* chunk, uint32_t* r) {
  if (chunk->empty() || (*chunk)[0] == '-' || (*chunk)[0] == ']') return false;
  if ((*chunk)[0] == '\\') {
    chunk->remove_prefix(1);
    if (chunk->empty()) return false;
  }
  size_t n;
  *r = DecodeRune(*chunk, &n);
  chunk->remove_prefix(n);
  return true;
}

// Consumes the class "[...]" at the front of *chunk and tells whether rune
// `r` is in it. Returns false for a malformed class.
bool MatchClass(std::string_view* chunk, uint32_t r, bool* in) {
  chunk->remove_prefix(1);
  bool negated = !chunk->empty() && (*chunk)[0] == '^';
  if (negated) chunk->remove_prefix(1);
  bool match = false;
  for (int nrange = 0;; ++nrange) {
    if (!chunk->empty() && (*chunk)[0] == ']' && nrange > 0) {
      chunk->remove_prefix(1);
      break;
    }
    uint32_t lo, hi;
    if (!GetEsc(chunk, &lo)) return false;
    hi = lo;
    if (!chunk->empty() && (*chunk)[0] == '-') {
      chunk->remove_prefix(1);
      if (!GetEsc(chunk, &hi)) return false;
    }
    if (lo <= r && r <= hi) match = true;
  }
  *in = match != negated;
  return true;
}

// Matches `chunk` (no '*') against a prefix of `s`; on success *rest is the
// unmatched tail. Returns false on mismatch or malformed pattern (*bad set).
// Like Go, the whole chunk is checked for syntax even after a mismatch.
bool MatchChunk(std::string_view chunk, std::string_view s, std::string_view* rest, bool* bad) {
  bool failed = false;
  while (!chunk.empty()) {
    if (!failed && s.empty()) failed = true;
    char c = chunk[0];
    if (c == '[') {
      uint32_t r = 0;
      if (!failed) {
        size_t n;
        r = DecodeRune(s, &n);
        s.remove_prefix(n);
      }
      bool in = false;
      if (!MatchClass(&chunk, r, &in)) return *bad = true, false;
      if (!in) failed = true;
    } else if (c == '?') {
      if (!failed) {
        if (s[0] == '/') failed = true;
        s.remove_prefix(fsutil_internal::Utf8Length(s));
      }
      chunk.remove_prefix(1);
    } else {
      if (c == '\\') {
        chunk.remove_prefix(1);
        if (chunk.empty()) return *bad = true, false;
      }
      if (!failed) {
        if (chunk[0] != s[0]) failed = true;
        s.remove_prefix(1);
      }
      chunk.remove_prefix(1);
    }
  }
  if (failed) return false;
  *rest = s;
  return true;
}

// Splits off the leading stars and the chunk up to the next star.
void ScanChunk(std::string_view* pattern, bool* star, std::string_view* chunk) {
  *star = false;
  while (!pattern->empty() && (*pattern)[0] == '*') {
    pattern->remove_prefix(1);
    *star = true;
  }
  bool in_range = false;
  size_t i = 0;
  for (; i < pattern->size(); ++i) {
    char c = (*pattern)[i];
    if (c == '\\') {
      if (i + 1 < pattern->size()) ++i;
    } else if (c == '[') {
      in_range = true;
    } else if (c == ']') {
      in_range = false;
    } else if (c == '*' && !in_range) {
      break;
    }
  }
  *chunk = pattern->substr(0, i);
  pattern->remove_prefix(i);
}

class Resolver {
 public:
  Resolver(std::vector<std::string> globs) : globs_(std::move(globs)) {}

  absl::Status Match(int dirfd, const std::string& host, const std::string& rel, size_t level) {
    auto names = ListDir(dirfd, host);
    if (!names.ok()) return names.status();
    const bool last = level + 1 == globs_.size();
    for (const std::string& name : *names) {
      if (!GlobMatch(globs_[level], name)) continue;
      std::string child_rel = absl::StrCat(rel, "/", name);
      if (last) {
        out_.push_back(std::move(child_rel));
        continue;
      }
      UniqueFd fd(openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd.valid()) continue;  // not a directory (or a symlink): nothing below matches
      absl::Status s = Match(fd.get(), JoinPath(host, name), child_rel, level + 1);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }
  std::vector<std::string> take() { return std::move(out_); }

 private:
  std::vector<std::string> globs_;
  std::vector<std::string> out_;
};

}  // namespace

bool ContainsWildcards(std::string_view path) {
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '\\') {
      ++i;
    } else if (c == '*' || c == '?' || c == '[') {
      return true;
    }
  }
  return false;
}

bool GlobMatch(std::string_view pattern, std::string_view name) {
  bool bad = false;
  while (!pattern.empty()) {
    bool star;
    std::string_view chunk;
    ScanChunk(&pattern, &star, &chunk);
    if (star && chunk.empty()) return name.find('/') == std::string_view::npos;
    std::string_view rest;
    if (MatchChunk(chunk, name, &rest, &bad) && (rest.empty() || !pattern.empty())) {
      name = rest;
      continue;
    }
    if (bad) return false;
    bool advanced = false;
    if (star) {
      for (size_t i = 0; i < name.size() && name[i] != '/'; ++i) {
        if (MatchChunk(chunk, name.substr(i + 1), &rest, &bad)) {
          if (pattern.empty() && !rest.empty()) continue;
          name = rest;
          advanced = true;
          break;
        }
        if (bad) return false;
      }
    }
    if (!advanced) return false;
  }
  return name.empty();
}

absl::StatusOr<std::vector<std::string>> ResolveWildcards(const std::string& root,
                                                          std::string_view path,
                                                          bool follow_links) {
  std::string clean = CleanPath(absl::StrCat("/", std::string(path)));
  std::string base = "/";
  std::vector<std::string> globs;
  size_t i = 1;
  while (i < clean.size()) {
    size_t j = clean.find('/', i);
    if (j == std::string::npos) j = clean.size();
    std::string_view comp = std::string_view(clean).substr(i, j - i);
    if (globs.empty() && !ContainsWildcards(comp)) {
      base = JoinPath(base, comp);
    } else {
      globs.emplace_back(comp);
    }
    i = j + 1;
  }
  if (globs.empty()) return std::vector<std::string>{clean};
  auto base_rel = ResolveInRootRel(root, base, follow_links);
  if (!base_rel.ok()) return base_rel.status();
  std::string host = *base_rel == "/" ? root : root + *base_rel;
  struct stat st;
  if (lstat(host.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return absl::NotFoundError(absl::StrCat(base, ": no such file or directory"));
    }
    return ErrnoToStatus(errno, "lstat", host);
  }
  if (!S_ISDIR(st.st_mode)) return std::vector<std::string>();
  UniqueFd fd(open(host.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return ErrnoToStatus(errno, "open", host);
  Resolver r(std::move(globs));
  absl::Status s = r.Match(fd.get(), host, *base_rel == "/" ? "" : *base_rel, 0);
  if (!s.ok()) return s;
  return r.take();
}

}  // namespace kiln::fsutil
