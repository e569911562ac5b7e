#include "sdk/base/patterns.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "re2/re2.h"
#include "sdk/base/path.h"
#include "sdk/base/utf8.h"

namespace kiln {
namespace {

enum class Kind { kExact, kPrefix, kSuffix, kRegexp };

// Appends the character at p[*i] (a whole UTF-8 sequence) as a regexp
// literal and advances *i.
void AppendLiteral(std::string_view p, size_t* i, std::string* re) {
  unsigned char c = p[*i];
  if (c < 0x80) {
    if (!absl::ascii_isalnum(c) && c != '_') re->push_back('\\');
    re->push_back(static_cast<char>(c));
    ++*i;
    return;
  }
  size_t len = Utf8Length(p.substr(*i));
  re->append(p.substr(*i, len));
  *i += len;
}

// One endpoint of a class range, with Go's filepath.Match rules: it may not
// be '-' or ']' unescaped, and '\' escapes the next character.
bool ClassChar(std::string_view p, size_t* i, std::string* re) {
  if (*i >= p.size() || p[*i] == '-' || p[*i] == ']') return false;
  if (p[*i] == '\\') {
    ++*i;
    if (*i >= p.size()) return false;
  }
  AppendLiteral(p, i, re);
  return true;
}

// Translates "[...]" starting at p[*i] == '['.
bool AppendClass(std::string_view p, size_t* i, std::string* re) {
  ++*i;
  re->push_back('[');
  if (*i < p.size() && p[*i] == '^') {
    re->push_back('^');
    ++*i;
  }
  for (int nrange = 0;; ++nrange) {
    if (*i < p.size() && p[*i] == ']' && nrange > 0) {
      ++*i;
      re->push_back(']');
      return true;
    }
    if (!ClassChar(p, i, re)) return false;
    if (*i < p.size() && p[*i] == '-') {
      ++*i;
      re->push_back('-');
      if (!ClassChar(p, i, re)) return false;
    }
  }
}

absl::Status BadPattern(std::string_view p, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid pattern \"", std::string(p), "\": ", std::string(why)));
}

}  // namespace

struct PatternMatcher::Compiled {
  Kind kind = Kind::kExact;
  std::string text;
  std::unique_ptr<RE2> re;
};

namespace {

// Mirrors patternmatcher's classification: exact and "**" prefix/suffix
// patterns are compared as strings; anything else becomes an RE2.
absl::Status Translate(std::string_view p, Kind* kind, std::string* re) {
  *kind = Kind::kExact;
  size_t i = 0;
  while (i < p.size()) {
    char c = p[i];
    if (c == '*' && i + 1 < p.size() && p[i + 1] == '*') {
      bool leading = i == 0;
      i += 2;
      if (i < p.size() && p[i] == '/') ++i;
      if (i == p.size()) {
        if (*kind == Kind::kExact) {
          *kind = Kind::kPrefix;
        } else {
          re->append(".*");
          *kind = Kind::kRegexp;
        }
      } else {
        re->append("(.*/)?");
        *kind = Kind::kRegexp;
      }
      if (leading) *kind = Kind::kSuffix;
    } else if (c == '*') {
      re->append("[^/]*");
      *kind = Kind::kRegexp;
      ++i;
    } else if (c == '?') {
      re->append("[^/]");
      *kind = Kind::kRegexp;
      ++i;
    } else if (c == '\\') {
      if (++i >= p.size()) return BadPattern(p, "trailing backslash");
      AppendLiteral(p, &i, re);
      *kind = Kind::kRegexp;
    } else if (c == '[') {
      if (!AppendClass(p, &i, re)) return BadPattern(p, "malformed character class");
      *kind = Kind::kRegexp;
    } else {
      AppendLiteral(p, &i, re);
    }
  }
  return absl::OkStatus();
}

}  // namespace

PatternMatcher::PatternMatcher() = default;
PatternMatcher::~PatternMatcher() = default;
PatternMatcher::PatternMatcher(const PatternMatcher&) = default;
PatternMatcher& PatternMatcher::operator=(const PatternMatcher&) = default;
PatternMatcher::PatternMatcher(PatternMatcher&&) noexcept = default;
PatternMatcher& PatternMatcher::operator=(PatternMatcher&&) noexcept = default;

absl::StatusOr<PatternMatcher> PatternMatcher::Create(const std::vector<std::string>& patterns) {
  PatternMatcher pm;
  for (const std::string& raw : patterns) {
    std::string p(absl::StripAsciiWhitespace(raw));
    if (p.empty()) continue;
    Pattern pat;
    if (p[0] == '!') {
      if (p.size() == 1) return absl::InvalidArgumentError("illegal exclusion pattern: \"!\"");
      pat.exclusion = true;
      pm.exclusions_ = true;
      p = p.substr(1);
    }
    p = CleanPath(p);
    if (p.size() > 1 && p[0] == '/') p = p.substr(1);
    auto c = std::make_shared<Compiled>();
    std::string re;
    absl::Status st = Translate(p, &c->kind, &re);
    if (!st.ok()) return st;
    if (c->kind == Kind::kRegexp) {
      RE2::Options opts;
      opts.set_log_errors(false);
      opts.set_dot_nl(true);
      c->re = std::make_unique<RE2>(re, opts);
      if (!c->re->ok()) return BadPattern(p, c->re->error());
    }
    c->text = p;
    pat.text = std::move(p);
    pm.patterns_.push_back(std::move(pat));
    pm.compiled_.push_back(std::move(c));
  }
  return pm;
}

bool PatternMatcher::MatchOne(size_t i, std::string_view path) const {
  const Compiled& c = *compiled_[i];
  switch (c.kind) {
    case Kind::kExact:
      return path == c.text;
    case Kind::kPrefix:
      return path.substr(0, c.text.size() - 2) ==
             std::string_view(c.text).substr(0, c.text.size() - 2);
    case Kind::kSuffix: {
      std::string_view suffix = std::string_view(c.text).substr(2);
      if (path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix) {
        return true;
      }
      return !suffix.empty() && suffix[0] == '/' && path == suffix.substr(1);
    }
    case Kind::kRegexp:
      return RE2::FullMatch(re2::StringPiece(path.data(), path.size()), *c.re);
  }
  return false;
}

bool PatternMatcher::MatchOneOrParents(size_t i, std::string_view path) const {
  if (MatchOne(i, path)) return true;
  for (size_t slash = path.find('/'); slash != std::string_view::npos;
       slash = path.find('/', slash + 1)) {
    if (MatchOne(i, path.substr(0, slash))) return true;
  }
  return false;
}

bool PatternMatcher::Matches(std::string_view rel_path) const {
  std::string clean = CleanPath(rel_path);
  if (clean.size() > 1 && clean[0] == '/') clean.erase(0, 1);
  bool matched = false;
  for (size_t i = 0; i < patterns_.size(); ++i) {
    if (patterns_[i].exclusion != matched) continue;
    if (MatchOneOrParents(i, clean)) matched = !patterns_[i].exclusion;
  }
  return matched;
}

bool PatternMatcher::MatchesUsingParent(std::string_view rel_path, const MatchInfo& parent,
                                        MatchInfo* info) const {
  const size_t n = patterns_.size();
  const bool have_parent = parent.matched.size() == n && n != 0;
  info->matched.assign(n, false);
  bool matched = false;
  for (size_t i = 0; i < n; ++i) {
    bool m = have_parent && parent.matched[i];
    if (!m) {
      if (patterns_[i].exclusion != matched) continue;
      m = have_parent ? MatchOne(i, rel_path) : MatchOneOrParents(i, rel_path);
    }
    info->matched[i] = m;
    if (m) matched = !patterns_[i].exclusion;
  }
  return matched;
}

}  // namespace kiln
