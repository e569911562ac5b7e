#include "frontends/dockerfile/parser/heredoc.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "frontends/dockerfile/shell/env.h"
#include "frontends/dockerfile/shell/lex.h"
#include "sdk/base/status_macros.h"

namespace kiln::dockerfile::parser_internal {
namespace {

bool IsRegexSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

size_t CountQuotes(const std::string& s) {
  return std::count(s.begin(), s.end(), '\'') + std::count(s.begin(), s.end(), '"');
}

// Go's strconv.ParseUint with the error ignored: saturates on overflow.
uint64_t ParseFd(std::string_view digits) {
  uint64_t fd = 0;
  for (char c : digits) {
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (fd > (std::numeric_limits<uint64_t>::max() - d) / 10) {
      return std::numeric_limits<uint64_t>::max();
    }
    fd = fd * 10 + d;
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::optional<Heredoc>> ParseHeredoc(std::string_view src) {
  // `^(\d*)<<(-?)\s*([^<]*)$`
  size_t i = 0;
  while (i < src.size() && src[i] >= '0' && src[i] <= '9') ++i;
  if (src.substr(i, 2) != "<<") return std::nullopt;
  Heredoc heredoc;
  heredoc.file_descriptor = ParseFd(src.substr(0, i));
  size_t j = i + 2;
  heredoc.chomp = j < src.size() && src[j] == '-';
  if (heredoc.chomp) ++j;
  while (j < src.size() && IsRegexSpace(src[j])) ++j;
  std::string_view rest = src.substr(j);
  if (rest.find('<') != std::string_view::npos || rest.empty()) return std::nullopt;

  // Lex the delimiter with and without quotes: a difference in quote count
  // means part of it was quoted, which turns expansion off.
  shell::Lex lex('\\');
  lex.set_skip_unset_env(true);
  shell::Env empty;
  KILN_ASSIGN_OR_RETURN(std::vector<std::string> words, lex.ProcessWords(rest, empty));
  if (words.size() != 1) return std::nullopt;
  lex.set_raw_quotes(true);
  KILN_ASSIGN_OR_RETURN(std::vector<std::string> raw, lex.ProcessWords(rest, empty));
  if (raw.size() != words.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "internal lexing of heredoc produced inconsistent results: ", std::string(rest)));
  }
  heredoc.expand = CountQuotes(words[0]) == CountQuotes(raw[0]);
  heredoc.name = std::move(words[0]);
  return heredoc;
}

absl::StatusOr<std::vector<Heredoc>> HeredocsFromLine(std::string_view line) {
  shell::Lex lex('\\');
  lex.set_raw_quotes(true);
  lex.set_raw_escapes(true);
  lex.set_skip_unset_env(true);
  // BuildKit ignores lexing errors of the whole line here.
  auto words = lex.ProcessWords(line, shell::Env());
  std::vector<Heredoc> docs;
  if (!words.ok()) return docs;
  for (const std::string& word : *words) {
    KILN_ASSIGN_OR_RETURN(std::optional<Heredoc> heredoc, ParseHeredoc(word));
    if (heredoc) docs.push_back(std::move(*heredoc));
  }
  return docs;
}

}  // namespace kiln::dockerfile::parser_internal
