#include "frontends/dockerfile/shell/pattern.h"

#include <algorithm>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "frontends/dockerfile/shell/text.h"
#include "re2/re2.h"
#include "sdk/base/status_macros.h"

namespace kiln::dockerfile::shell_internal {
namespace {

using shell::AppendRune;
using shell::DecodeRunes;
using shell::EncodeRunes;

constexpr char32_t kEof = static_cast<char32_t>(-1);

absl::Status BadPattern(std::string_view pattern, const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid pattern (", std::string(pattern), ") in substitution: ", why));
}

absl::StatusOr<std::unique_ptr<RE2>> Compile(std::string_view pattern, bool greedy, bool anchored) {
  auto regex = ShellPatternToRegex(pattern, greedy, anchored);
  if (!regex.ok()) return BadPattern(pattern, std::string(regex.status().message()));
  auto re = std::make_unique<RE2>(re2::StringPiece(regex->data(), regex->size()), RE2::Quiet);
  if (!re->ok()) return BadPattern(pattern, re->error());
  return re;
}

// Finds the leftmost-first match at or after `from`; false when none.
bool FindFrom(const RE2& re, std::string_view text, size_t from, size_t* begin, size_t* end) {
  re2::StringPiece piece(text.data(), text.size());
  re2::StringPiece match;
  if (!re.Match(piece, from, text.size(), RE2::UNANCHORED, &match, 1)) return false;
  *begin = match.data() - piece.data();
  *end = *begin + match.size();
  return true;
}

// Go's regexp template expansion with only group 0 present: $0 / ${0} is the
// match, $$ is '$', other well-formed references are empty, and a malformed
// '$' stays literal.
void ExpandTemplate(std::string_view tmpl, std::string_view match, std::string* out) {
  size_t i = 0;
  while (i < tmpl.size()) {
    if (tmpl[i] != '$') {
      out->push_back(tmpl[i++]);
      continue;
    }
    if (i + 1 < tmpl.size() && tmpl[i + 1] == '$') {
      out->push_back('$');
      i += 2;
      continue;
    }
    bool brace = i + 1 < tmpl.size() && tmpl[i + 1] == '{';
    size_t start = i + (brace ? 2 : 1), pos = start;
    while (pos < tmpl.size()) {
      shell::DecodedRune d = shell::DecodeRune(tmpl, pos);
      if (!shell::IsLetter(d.rune) && !shell::IsDigit(d.rune) && d.rune != '_') break;
      pos += d.width;
    }
    bool ok = pos > start && (!brace || (pos < tmpl.size() && tmpl[pos] == '}'));
    if (!ok) {
      out->push_back('$');
      ++i;
      continue;
    }
    if (tmpl.substr(start, pos - start) == "0") out->append(match);
    i = pos + (brace ? 1 : 0);
  }
}

}  // namespace

absl::StatusOr<std::string> ShellPatternToRegex(std::string_view pattern, bool greedy,
                                                bool anchored) {
  std::u32string runes = DecodeRunes(pattern);
  // Go's text/scanner skips a leading byte-order mark.
  if (!runes.empty() && runes[0] == 0xFEFF) runes.erase(0, 1);
  std::string out = anchored ? "^" : "";
  const char* star = greedy ? ".*" : ".*?";
  for (size_t i = 0; i < runes.size(); ++i) {
    char32_t tok = runes[i];
    char32_t peek = i + 1 < runes.size() ? runes[i + 1] : kEof;
    switch (tok) {
      case '*':
        out += star;
        continue;
      case '?':
        out += '.';
        continue;
      case '\\':
        // \} and \/ only protect the ${} syntax; the escape is not part of the pattern.
        if (peek == '}' || peek == '/') continue;
        out += '\\';
        tok = peek;
        ++i;
        if (tok != '*' && tok != '?' && tok != '\\') {
          std::string shown;
          AppendRune(&shown, tok == kEof ? shell::kRuneError : tok);
          return absl::InvalidArgumentError(absl::StrCat("invalid escape '\\", shown, "'"));
        }
        break;
      case '[':
      case ']':
      case '{':
      case '}':
      case '.':
      case '+':
      case '(':
      case ')':
      case '|':
      case '^':
      case '$':
        out += '\\';
        break;
      default:
        break;
    }
    AppendRune(&out, tok);
  }
  return out;
}

absl::StatusOr<std::string> TrimPrefix(std::string_view pattern, std::string_view value,
                                       bool greedy) {
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<RE2> re, Compile(pattern, greedy, true));
  size_t begin = 0, end = 0;
  if (FindFrom(*re, value, 0, &begin, &end)) return std::string(value.substr(end));
  return std::string(value);
}

std::string ReversePattern(std::string_view pattern) {
  std::u32string in = DecodeRunes(pattern);
  std::u32string out(in.size(), U'\0');
  size_t last = in.empty() ? 0 : in.size() - 1;
  for (size_t i = 0; i < in.size();) {
    size_t out_idx = last - i;
    if (in[i] == '\\' && i != last) {
      out[out_idx - 1] = in[i];
      out[out_idx] = in[i + 1];
      i += 2;
    } else {
      out[out_idx] = in[i];
      ++i;
    }
  }
  return EncodeRunes(out);
}

absl::StatusOr<std::string> TrimSuffix(std::string_view pattern, std::string_view value,
                                       bool greedy) {
  // Regular expressions find leftmost matches only, so search the reversed
  // value with the reversed pattern.
  std::u32string reversed = DecodeRunes(value);
  std::reverse(reversed.begin(), reversed.end());
  KILN_ASSIGN_OR_RETURN(std::string trimmed,
                        TrimPrefix(ReversePattern(pattern), EncodeRunes(reversed), greedy));
  std::u32string back = DecodeRunes(trimmed);
  std::reverse(back.begin(), back.end());
  return EncodeRunes(back);
}

absl::StatusOr<std::string> Replace(std::string_view pattern, std::string_view replacement,
                                    std::string_view value, bool all) {
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<RE2> re, Compile(pattern, true, false));
  size_t begin = 0, end = 0;
  if (!all) {
    if (!FindFrom(*re, value, 0, &begin, &end)) return std::string(value);
    return absl::StrCat(std::string(value.substr(0, begin)), std::string(replacement),
                        std::string(value.substr(end)));
  }
  // Go's ReplaceAllString: skip an empty match right after a match, and
  // always advance at least one rune.
  std::string out;
  size_t last_end = 0, search = 0;
  while (search <= value.size() && FindFrom(*re, value, search, &begin, &end)) {
    out.append(value.substr(last_end, begin - last_end));
    if (end > last_end || begin == 0) {
      ExpandTemplate(replacement, value.substr(begin, end - begin), &out);
    }
    last_end = end;
    size_t width = search < value.size() ? shell::DecodeRune(value, search).width : 1;
    if (search + width > end) {
      search += width;
    } else if (search + 1 > end) {
      search += 1;
    } else {
      search = end;
    }
  }
  out.append(value.substr(last_end));
  return out;
}

}  // namespace kiln::dockerfile::shell_internal
