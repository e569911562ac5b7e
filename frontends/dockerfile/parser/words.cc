// Word scanners of the line parsers. Both keep BuildKit's exact treatment of
// quotes and the escape token, including its oddities (flags are scanned
// byte by byte, so non-ASCII bytes in a flag are re-encoded as Latin-1).
#include "frontends/dockerfile/parser/line_parsers.h"
#include "frontends/dockerfile/shell/text.h"

namespace kiln::dockerfile::parser_internal {
namespace {

enum class Phase { kSpaces, kWord, kQuote };

// Scanner state shared by both scanners; `text` holds code points (runes for
// ParseWords, bytes for flags).
struct WordScan {
  std::u32string text;
  char32_t escape;
  Phase phase = Phase::kSpaces;
  char32_t quote = 0;
  bool blank_ok = false;
  std::string word;
  std::vector<std::string> words;

  bool AtLast(size_t i) const { return i + 1 == text.size(); }

  void EndWord() {
    if (blank_ok || !word.empty()) words.push_back(word);
    word.clear();
    blank_ok = false;
  }

  // One step inside an unquoted word of ParseWords; returns the next index.
  // Quotes and escapes stay in the word.
  size_t KeepingWordStep(size_t i) {
    char32_t ch = text[i];
    if (ch == '\'' || ch == '"') {
      quote = ch;
      blank_ok = true;
      phase = Phase::kQuote;
    }
    if (ch == escape) {
      if (AtLast(i)) return i + 1;  // an escape at the very end is dropped
      shell::AppendRune(&word, ch);
      ch = text[++i];
    }
    shell::AppendRune(&word, ch);
    return i + 1;
  }

  // One step inside quotes of ParseWords; quotes and escapes stay.
  size_t KeepingQuoteStep(size_t i) {
    char32_t ch = text[i];
    if (ch == quote) phase = Phase::kWord;
    if (ch == escape && quote != '\'') {
      if (AtLast(i)) {
        phase = Phase::kWord;
        return i + 1;
      }
      shell::AppendRune(&word, ch);
      ch = text[++i];
    }
    shell::AppendRune(&word, ch);
    return i + 1;
  }

  // One step inside an unquoted flag word; quotes and escapes are removed.
  size_t StrippingWordStep(size_t i) {
    char32_t ch = text[i];
    if (ch == '\'' || ch == '"') {
      quote = ch;
      blank_ok = true;
      phase = Phase::kQuote;
      return i + 1;
    }
    if (ch == escape) {
      if (AtLast(i)) return i + 1;
      ch = text[++i];
    }
    shell::AppendRune(&word, ch);
    return i + 1;
  }

  // One step inside quotes of a flag word; any escaped character is kept
  // literally, even in single quotes.
  size_t StrippingQuoteStep(size_t i) {
    char32_t ch = text[i];
    if (ch == quote) {
      phase = Phase::kWord;
      return i + 1;
    }
    if (ch == escape) {
      if (AtLast(i)) {
        phase = Phase::kWord;
        return i + 1;
      }
      ch = text[++i];
    }
    shell::AppendRune(&word, ch);
    return i + 1;
  }
};

bool StartsFlag(const std::u32string& text, size_t i) {
  return text[i] == '-' && i + 1 < text.size() && text[i + 1] == '-';
}

}  // namespace

std::vector<std::string> ParseWords(std::string_view rest, char escape) {
  WordScan scan{shell::DecodeRunes(rest), static_cast<unsigned char>(escape)};
  for (size_t i = 0; i < scan.text.size();) {
    if (scan.phase == Phase::kSpaces) {
      if (shell::IsSpace(scan.text[i])) {
        ++i;
        continue;
      }
      scan.phase = Phase::kWord;
    }
    if (scan.phase == Phase::kWord && shell::IsSpace(scan.text[i])) {
      scan.phase = Phase::kSpaces;
      scan.EndWord();
      ++i;
      continue;
    }
    i = scan.phase == Phase::kWord ? scan.KeepingWordStep(i) : scan.KeepingQuoteStep(i);
  }
  if (scan.phase != Phase::kSpaces) scan.EndWord();
  return std::move(scan.words);
}

std::string ExtractBuilderFlags(std::string_view line, char escape,
                                std::vector<std::string>* flags) {
  WordScan scan{std::u32string(), static_cast<unsigned char>(escape)};
  for (char c : line) scan.text.push_back(static_cast<unsigned char>(c));
  for (size_t pos = 0; pos < scan.text.size();) {
    char32_t ch = scan.text[pos];
    if (scan.phase == Phase::kSpaces) {
      if (shell::IsSpace(ch)) {
        ++pos;
        continue;
      }
      if (!StartsFlag(scan.text, pos)) {
        *flags = std::move(scan.words);
        return std::string(line.substr(pos));
      }
      scan.phase = Phase::kWord;
    }
    if (scan.phase == Phase::kWord && shell::IsSpace(ch)) {
      scan.phase = Phase::kSpaces;
      if (scan.word == "--") {  // `--` ends the flags and is dropped
        *flags = std::move(scan.words);
        return std::string(line.substr(pos));
      }
      scan.EndWord();
      ++pos;
      continue;
    }
    pos = scan.phase == Phase::kWord ? scan.StrippingWordStep(pos) : scan.StrippingQuoteStep(pos);
  }
  if (scan.phase != Phase::kSpaces && scan.word != "--") scan.EndWord();
  *flags = std::move(scan.words);
  return "";
}

}  // namespace kiln::dockerfile::parser_internal
