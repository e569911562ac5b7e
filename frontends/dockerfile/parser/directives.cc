#include "frontends/dockerfile/parser/directives.h"

#include <map>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "frontends/dockerfile/parser/json_array.h"
#include "frontends/dockerfile/shell/text.h"

namespace kiln::dockerfile::parser_internal {
namespace {

// `\s` of Go's regexp syntax (no \v).
bool IsRegexSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Matches `^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` as Go's regexp does.
bool MatchDirective(std::string_view s, std::string* name, std::string* value) {
  if (s.empty() || !IsAsciiAlpha(s[0])) return false;
  size_t i = 1;
  while (i < s.size() && (IsAsciiAlpha(s[i]) || (s[i] >= '0' && s[i] <= '9'))) ++i;
  *name = std::string(s.substr(0, i));
  while (i < s.size() && IsRegexSpace(s[i])) ++i;
  if (i >= s.size() || s[i] != '=') return false;
  std::string_view rest = s.substr(i + 1);
  size_t begin = 0;
  while (begin < rest.size() && IsRegexSpace(rest[begin])) ++begin;
  if (rest.empty() || rest.find('\n') != std::string_view::npos) return false;
  if (begin == rest.size()) {
    // All blanks: backtracking leaves the last blank as the value.
    *value = std::string(rest.substr(rest.size() - 1));
    return true;
  }
  size_t end = rest.size();
  while (end > begin && IsRegexSpace(rest[end - 1])) --end;
  *value = std::string(rest.substr(begin, end - begin));
  return true;
}

}  // namespace

absl::StatusOr<std::optional<Directive>> DirectiveParser::ParseLine(std::string_view line) {
  ++line_;
  if (done_) return std::nullopt;
  if (line.substr(0, comment_.size()) != comment_) {
    done_ = true;
    return std::nullopt;
  }
  std::string name, value;
  if (!MatchDirective(shell::TrimLeftSpace(line.substr(comment_.size())), &name, &value)) {
    done_ = true;
    return std::nullopt;
  }
  std::string key = absl::AsciiStrToLower(name);
  if (key != "syntax" && key != "escape" && key != "check") {
    done_ = true;
    return std::nullopt;
  }
  if (!seen_.insert(key).second) {
    return absl::InvalidArgumentError(
        absl::StrCat("only one ", key, " parser directive can be used"));
  }
  return Directive{key, value, line_};
}

namespace {

// BuildKit's ParseAll: directives from the leading lines of `text`, stopping
// at the first non-directive line or error.
std::vector<Directive> ParseAll(std::string_view text, DirectiveParser parser) {
  std::vector<Directive> out;
  for (size_t pos = 0; pos < text.size();) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto directive = parser.ParseLine(line);
    if (!directive.ok()) break;
    if (directive->has_value()) out.push_back(**directive);
    if (parser.done()) break;
  }
  return out;
}

std::optional<DirectiveMatch> Find(std::string_view key, std::string_view text,
                                   DirectiveParser parser) {
  for (const Directive& d : ParseAll(text, std::move(parser))) {
    if (d.name == key) return DirectiveMatch{d.value.substr(0, d.value.find(' ')), d.value, d.line};
  }
  return std::nullopt;
}

std::optional<DirectiveMatch> DetectDirective(std::string_view key, std::string_view text,
                                              bool any_format) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  int line = 0;
  if (text.substr(0, 2) == "#!") {
    size_t nl = text.find('\n');
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    line = 1;
  }
  if (auto found = Find(key, text, DirectiveParser("#", line))) return found;
  if (!any_format) return std::nullopt;
  if (auto found = Find(key, text, DirectiveParser("//", line))) return found;
  std::map<std::string, std::optional<std::string>> json;
  if (ParseJsonObjectStrings(text, &json)) {
    auto it = json.find(std::string(key));
    if (it != json.end() && it->second) return DirectiveMatch{*it->second, *it->second, line};
  }
  return std::nullopt;
}

}  // namespace
}  // namespace kiln::dockerfile::parser_internal

namespace kiln::dockerfile {

std::optional<DirectiveMatch> DetectSyntax(std::string_view dockerfile) {
  return parser_internal::DetectDirective("syntax", dockerfile, true);
}

std::optional<DirectiveMatch> FindDirective(std::string_view key, std::string_view dockerfile) {
  return parser_internal::DetectDirective(key, dockerfile, false);
}

}  // namespace kiln::dockerfile
