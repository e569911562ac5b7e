#include "gateway/fsutil/filter.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/internal/sys.h"
#include "gateway/fsutil/path.h"
#include "gateway/fsutil/wildcard.h"
#include "sdk/base/status_macros.h"

namespace kiln::fsutil {
namespace {

constexpr std::string_view kPatternChars = "*[]?^\\";

std::string WithoutTrailingGlob(std::string p) {
  auto strip = [&p](std::string_view suffix) {
    if (p.size() >= suffix.size() &&
        p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0)
      p.resize(p.size() - suffix.size());
  };
  strip("/**");
  strip("/*");
  return p;
}

bool HasPrefixSlash(const std::vector<std::string>& prefixes, std::string_view dir) {
  for (const std::string& p : prefixes) {
    if (p.size() > dir.size() && p.compare(0, dir.size(), dir) == 0 && p[dir.size()] == '/')
      return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<Filter> Filter::Create(const std::vector<std::string>& include_patterns,
                                      const std::vector<std::string>& exclude_patterns) {
  Filter f;
  auto inc = PatternMatcher::Create(include_patterns);
  if (!inc.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("include patterns: ", inc.status().message()));
  }
  auto exc = PatternMatcher::Create(exclude_patterns);
  if (!exc.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("exclude patterns: ", exc.status().message()));
  }
  f.include_ = *std::move(inc);
  f.exclude_ = *std::move(exc);
  f.has_include_ = !f.include_.empty();
  f.has_exclude_ = !f.exclude_.empty();
  for (const auto& p : f.include_.patterns()) {
    if (p.exclusion) continue;
    std::string stem = WithoutTrailingGlob(p.text);
    if (stem.find_first_of(kPatternChars) != std::string::npos) f.only_prefix_includes_ = false;
    f.include_prefixes_.push_back(stem + "/");
  }
  for (const auto& p : f.exclude_.patterns()) {
    if (!p.exclusion) continue;
    std::string stem = WithoutTrailingGlob(p.text);
    if (stem.find_first_of(kPatternChars) != std::string::npos) f.only_prefix_exceptions_ = false;
    f.exception_prefixes_.push_back(stem + "/");
  }
  return f;
}

bool Filter::IncludePrefixBelow(std::string_view rel_dir) const {
  return HasPrefixSlash(include_prefixes_, rel_dir);
}

bool Filter::ExceptionPrefixBelow(std::string_view rel_dir) const {
  return HasPrefixSlash(exception_prefixes_, rel_dir);
}

Filter::Decision Filter::Evaluate(std::string_view rel, bool is_dir, const State& parent,
                                  State* state) const {
  Decision d;
  State scratch;
  State* out = state != nullptr ? state : &scratch;
  if (has_include_ && !include_.MatchesUsingParent(rel, parent.include, &out->include)) {
    d.keep = false;
    if (is_dir && only_prefix_includes_ && !IncludePrefixBelow(rel)) {
      d.descend = false;
      return d;
    }
  }
  if (has_exclude_ && exclude_.MatchesUsingParent(rel, parent.exclude, &out->exclude)) {
    d.keep = false;
    if (is_dir && only_prefix_exceptions_ && !ExceptionPrefixBelow(rel)) d.descend = false;
  }
  return d;
}

bool Filter::Keep(std::string_view rel, bool is_dir) const {
  return Evaluate(rel, is_dir, State(), nullptr).keep;
}

bool Filter::MayDescend(std::string_view rel_dir) const {
  return Evaluate(rel_dir, true, State(), nullptr).descend;
}

namespace {

// fsutil's symlink resolver: the paths below `root` that following
// `follow` reads, symlinks and their targets, relative ("a/b"), "." for the
// root.
class LinkResolver {
 public:
  explicit LinkResolver(const std::string& root) : root_(root) {}

  absl::Status Add(const std::string& path, int depth = 0) {
    if (depth > kMaxLinks) return absl::OkStatus();  // a loop: what was seen so far
    std::string rest = CleanPath("/" + path).substr(1);
    std::string current;
    for (;;) {
      size_t slash = rest.find('/');
      std::string part = rest.substr(0, slash);
      rest = slash == std::string::npos ? "" : rest.substr(slash + 1);
      current = current.empty() ? part : current + "/" + part;
      if (current.empty()) current = ".";
      KILN_ASSIGN_OR_RETURN(std::vector<std::string> targets, Links(current, true));
      if ((rest.empty() || !targets.empty()) && resolved_.count(current)) return absl::OkStatus();
      if (!targets.empty()) {
        resolved_.insert(current);
        for (const std::string& t : targets) {
          KILN_RETURN_IF_ERROR(Add(rest.empty() ? t : t + "/" + rest, depth + 1));
        }
        return absl::OkStatus();
      }
      if (rest.empty()) {
        resolved_.insert(current);
        return absl::OkStatus();
      }
    }
  }

  const std::set<std::string>& resolved() const { return resolved_; }

 private:
  static constexpr int kMaxLinks = 255;

  // The targets (root-relative) of the symlink at `rel`, or of every
  // symlink its last component's wildcard matches; none for other files.
  absl::StatusOr<std::vector<std::string>> Links(const std::string& rel, bool wildcard) {
    if (rel == ".") return std::vector<std::string>{};
    size_t slash = rel.rfind('/');
    std::string dir = slash == std::string::npos ? "" : rel.substr(0, slash);
    std::string base = slash == std::string::npos ? rel : rel.substr(slash + 1);
    std::vector<std::string> out;
    if (wildcard && ContainsWildcards(base)) {
      absl::StatusOr<std::vector<std::string>> names =
          fsutil_internal::ListDirPath(dir.empty() ? root_ : root_ + "/" + dir);
      if (!names.ok()) {
        if (absl::IsNotFound(names.status()) || absl::IsFailedPrecondition(names.status())) {
          return out;
        }
        return names.status();
      }
      for (const std::string& name : *names) {
        if (!GlobMatch(base, name)) continue;
        KILN_ASSIGN_OR_RETURN(std::vector<std::string> t,
                              Links(dir.empty() ? name : dir + "/" + name, false));
        out.insert(out.end(), t.begin(), t.end());
      }
      return out;
    }
    std::string full = root_ + "/" + rel;
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return out;
    char buf[PATH_MAX];
    ssize_t n = ::readlink(full.c_str(), buf, sizeof(buf) - 1);
    if (n < 0) return ErrnoToStatus(errno, "readlink", full);
    std::string link(buf, n);
    // Inside the root whatever the link says.
    std::string target = CleanPath(link[0] == '/' ? link : "/" + dir + "/" + link);
    out.push_back(target == "/" ? "." : target.substr(1));
    return out;
  }

  const std::string& root_;
  std::set<std::string> resolved_;
};

}  // namespace

absl::StatusOr<std::vector<std::string>> IncludeFollowPaths(
    const std::string& root, std::vector<std::string> include,
    const std::vector<std::string>& follow) {
  if (follow.empty()) return include;
  LinkResolver r(root);
  for (const std::string& p : follow) KILN_RETURN_IF_ERROR(r.Add(p));
  if (r.resolved().count(".")) return include;  // the whole root: no narrowing
  std::set<std::string> seen(include.begin(), include.end());
  for (const std::string& p : r.resolved()) {
    if (seen.insert(p).second) include.push_back(p);
  }
  return include;
}

}  // namespace kiln::fsutil
