#include "gateway/fsutil/filter.h"

#include "absl/strings/str_cat.h"

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

}  // namespace kiln::fsutil
