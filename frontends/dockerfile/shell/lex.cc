#include "frontends/dockerfile/shell/lex.h"

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "frontends/dockerfile/shell/pattern.h"
#include "frontends/dockerfile/shell/text.h"
#include "sdk/base/status_macros.h"

namespace kiln::dockerfile::shell {
namespace {

constexpr char32_t kEof = static_cast<char32_t>(-1);
constexpr int kMaxNesting = 100;

absl::Status Error(std::string message) { return absl::InvalidArgumentError(message); }

std::string RuneString(char32_t r) {
  std::string out;
  AppendRune(&out, r == kEof ? kRuneError : r);
  return out;
}

bool IsSpecialParam(char32_t r) {
  switch (r) {
    case '@':
    case '*':
    case '#':
    case '?':
    case '-':
    case '$':
    case '!':
    case '0':
      return true;
    default:
      return false;
  }
}

// Accumulates split words. `buf` is shared by all nesting levels of one scan,
// as in BuildKit (see the note in lex.h).
struct Words {
  std::string* buf;
  std::vector<std::string> words;
  bool in_word = false;

  void AddChar(char32_t ch) {
    if (IsSpace(ch) && in_word) {
      if (!buf->empty()) {
        words.push_back(*buf);
        buf->clear();
        in_word = false;
      }
    } else if (!IsSpace(ch)) {
      AddRawChar(ch);
    }
  }
  void AddRawChar(char32_t ch) {
    AppendRune(buf, ch);
    in_word = true;
  }
  void AddString(std::string_view s) {
    for (char32_t ch : DecodeRunes(s)) AddChar(ch);
  }
  void AddRawString(std::string_view s) {
    buf->append(s);
    in_word = true;
  }
  std::vector<std::string> Get() {
    if (!buf->empty()) {
      words.push_back(*buf);
      buf->clear();
      in_word = false;
    }
    return std::move(words);
  }
};

using Scanned = std::pair<std::string, std::vector<std::string>>;

}  // namespace

// One expansion of one word; the scanning state BuildKit keeps in shellWord.
class ShellWord {
 public:
  ShellWord(const Lex& lex, std::string_view word, const Env& env, bool capture)
      : lex_(lex), runes_(DecodeRunes(word)), env_(env), capture_(capture) {
    raw_escapes_ = lex.raw_escapes_;
    // Go's text/scanner skips a leading byte-order mark.
    if (!runes_.empty() && runes_[0] == 0xFEFF) pos_ = 1;
  }

  absl::StatusOr<ProcessResult> Run(std::string_view source) {
    auto scanned = ProcessStopOn(kEof, raw_escapes_);
    if (!scanned.ok()) {
      return Error(absl::StrCat("failed to process ", GoQuote(source), ": ",
                                std::string(scanned.status().message())));
    }
    ProcessResult result;
    result.result = std::move(scanned->first);
    result.words = std::move(scanned->second);
    result.matched = std::move(matched_);
    result.unmatched = std::move(unmatched_);
    return result;
  }

 private:
  char32_t Peek() const { return pos_ < runes_.size() ? runes_[pos_] : kEof; }
  char32_t Next() { return pos_ < runes_.size() ? runes_[pos_++] : kEof; }

  bool IsSpecialChar(char32_t ch) const {
    if (ch == '$' || ch == '<') return true;
    return !lex_.skip_process_quotes_ && (ch == '\'' || ch == '"');
  }

  absl::StatusOr<std::string> ProcessSpecial(char32_t ch) {
    switch (ch) {
      case '$':
        return ProcessDollar();
      case '<':
        return ProcessPossibleHeredoc();
      case '\'':
        return ProcessSingleQuote();
      default:
        return ProcessDoubleQuote();
    }
  }

  absl::StatusOr<Scanned> ProcessStopOn(char32_t stop, bool raw_escapes) {
    // Every nested construct passes through here; bound the recursion so
    // hostile input cannot exhaust the stack (Go's growable stacks need no
    // such limit, so this is the one place we refuse what BuildKit accepts).
    if (depth_ >= kMaxNesting) {
      return Error(
          absl::StrCat("syntax error: substitutions nested deeper than ", kMaxNesting, " levels"));
    }
    ++depth_;
    auto scanned = ProcessStopOnUnbounded(stop, raw_escapes);
    --depth_;
    return scanned;
  }

  absl::StatusOr<Scanned> ProcessStopOnUnbounded(char32_t stop, bool raw_escapes) {
    std::string result;
    words_buffer_.clear();
    Words words{&words_buffer_};
    bool saved_raw_escapes = raw_escapes_;
    raw_escapes_ = raw_escapes;
    absl::Status status = ScanUntil(stop, &result, &words);
    raw_escapes_ = saved_raw_escapes;
    if (!status.ok()) return status;
    return Scanned(std::move(result), words.Get());
  }

  absl::Status ScanUntil(char32_t stop, std::string* result, Words* words) {
    while (Peek() != kEof) {
      char32_t ch = Peek();
      if (stop != kEof && ch == stop) {
        Next();
        return absl::OkStatus();
      }
      if (IsSpecialChar(ch)) {
        KILN_ASSIGN_OR_RETURN(std::string tmp, ProcessSpecial(ch));
        result->append(tmp);
        ch == '$' ? words->AddString(tmp) : words->AddRawString(tmp);
        continue;
      }
      ch = Next();
      if (ch == lex_.escape_) {
        if (raw_escapes_) {
          words->AddRawChar(ch);
          AppendRune(result, ch);
        }
        ch = Next();
        if (ch == kEof) break;
        words->AddRawChar(ch);
      } else {
        words->AddChar(ch);
      }
      AppendRune(result, ch);
    }
    if (stop != kEof) {
      return Error("unexpected end of statement while looking for matching " + RuneString(stop));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> ProcessSingleQuote() {
    std::string result;
    char32_t ch = Next();
    if (lex_.raw_quotes_) AppendRune(&result, ch);
    for (;;) {
      ch = Next();
      if (ch == kEof) {
        return Error("unexpected end of statement while looking for matching single-quote");
      }
      if (ch == '\'') {
        if (lex_.raw_quotes_) AppendRune(&result, ch);
        return result;
      }
      AppendRune(&result, ch);
    }
  }

  absl::StatusOr<std::string> ProcessDoubleQuote() {
    std::string result;
    char32_t ch = Next();
    if (lex_.raw_quotes_) AppendRune(&result, ch);
    for (;;) {
      char32_t peek = Peek();
      if (peek == kEof) {
        return Error("unexpected end of statement while looking for matching double-quote");
      }
      if (peek == '"') {
        ch = Next();
        if (lex_.raw_quotes_) AppendRune(&result, ch);
        return result;
      }
      if (peek == '$') {
        KILN_ASSIGN_OR_RETURN(std::string value, ProcessDollar());
        result.append(value);
        continue;
      }
      ch = Next();
      if (ch == lex_.escape_) {
        if (raw_escapes_) AppendRune(&result, ch);
        peek = Peek();
        if (peek == kEof) continue;  // reported as unterminated on the next turn
        if (peek == '"' || peek == '$' || peek == lex_.escape_) ch = Next();
      }
      AppendRune(&result, ch);
    }
  }

  std::string ProcessPossibleHeredoc() {
    Next();
    if (Peek() != '<') return "<";
    Next();
    std::string result = "<<";
    while (Peek() == '\t' || Peek() == '\r' || Peek() == ' ') AppendRune(&result, Next());
    return result;
  }

  std::string ProcessName() {
    std::string name;
    while (Peek() != kEof) {
      char32_t ch = Peek();
      if (name.empty() && IsDigit(ch)) {
        while (Peek() != kEof && IsDigit(Peek())) AppendRune(&name, Next());
        return name;
      }
      if (name.empty() && IsSpecialParam(ch)) return RuneString(Next());
      if (!IsLetter(ch) && !IsDigit(ch) && ch != '_') break;
      AppendRune(&name, Next());
    }
    return name;
  }

  std::optional<std::string> GetEnv(const std::string& name) {
    std::optional<std::string> value = env_.Get(name);
    if (capture_) (value ? matched_ : unmatched_).insert(name);
    return value;
  }

  absl::StatusOr<std::string> ProcessDollar() {
    Next();
    if (Peek() != '{') {
      std::string name = ProcessName();
      if (name.empty()) return std::string("$");
      std::optional<std::string> value = GetEnv(name);
      if (!value && lex_.skip_unset_env_) return "$" + name;
      return value.value_or("");
    }
    Next();
    char32_t peek = Peek();
    if (peek == kEof) return Error("syntax error: missing '}'");
    if (peek == '{' || peek == '}' || peek == ':') return Error("syntax error: bad substitution");
    std::string name = ProcessName();
    char32_t ch = Next();
    switch (ch) {
      case '}': {
        std::optional<std::string> value = GetEnv(name);
        if (!value && lex_.skip_unset_env_) return absl::StrCat("${", name, "}");
        return value.value_or("");
      }
      case ':': {
        char32_t op = Next();
        return ProcessModifier(name, op, RuneString(ch) + RuneString(op), true);
      }
      case '+':
      case '-':
      case '?':
      case '#':
      case '%':
        return ProcessModifier(name, ch, RuneString(ch), false);
      case '/':
        return ProcessReplace(name);
      default:
        return UnsupportedModifier(RuneString(ch));
    }
  }

  static absl::Status UnsupportedModifier(const std::string& chs) {
    return Error(absl::StrCat("unsupported modifier (", chs, ") in substitution"));
  }

  // Scans up to `stop`, turning an unterminated scan into `missing`.
  absl::StatusOr<std::string> ScanOperand(char32_t stop, bool raw, const char* missing) {
    auto scanned = ProcessStopOn(stop, raw);
    if (!scanned.ok()) {
      if (Peek() == kEof) return Error(missing);
      return scanned.status();
    }
    return std::move(scanned->first);
  }

  absl::StatusOr<std::string> ProcessModifier(const std::string& name, char32_t op,
                                              const std::string& chs, bool null_is_unset) {
    bool raw = op == '#' || op == '%';
    if (null_is_unset && raw) return UnsupportedModifier(chs);
    KILN_ASSIGN_OR_RETURN(std::string word, ScanOperand('}', raw, "syntax error: missing '}'"));
    std::optional<std::string> value = GetEnv(name);
    if (!value && lex_.skip_unset_env_) return absl::StrCat("${", name, chs, word, "}");
    bool empty = !value || (null_is_unset && value->empty());
    switch (op) {
      case '-':
        return empty ? word : *value;
      case '+':
        return empty ? std::string() : word;
      case '?':
        if (!value || (null_is_unset && value->empty())) {
          std::string why = !word.empty() ? word
                            : !value      ? "is not allowed to be unset"
                                          : "is not allowed to be empty";
          return Error(absl::StrCat(name, ": ", why));
        }
        return *value;
      case '#':
      case '%': {
        bool greedy = !word.empty() && static_cast<char32_t>(word[0]) == op;
        if (greedy) word.erase(0, 1);
        if (op == '%') return shell_internal::TrimSuffix(word, value.value_or(""), greedy);
        return shell_internal::TrimPrefix(word, value.value_or(""), greedy);
      }
      default:
        return UnsupportedModifier(chs);
    }
  }

  absl::StatusOr<std::string> ProcessReplace(const std::string& name) {
    bool all = Peek() == '/';
    if (all) Next();
    KILN_ASSIGN_OR_RETURN(std::string pattern,
                          ScanOperand('/', true, "syntax error: missing '/' in ${}"));
    KILN_ASSIGN_OR_RETURN(std::string replacement,
                          ScanOperand('}', true, "syntax error: missing '}'"));
    std::optional<std::string> value = GetEnv(name);
    if (!value && lex_.skip_unset_env_) {
      return absl::StrCat("${", name, "/", pattern, "/", replacement, "}");
    }
    return shell_internal::Replace(pattern, replacement, value.value_or(""), all);
  }

  const Lex& lex_;
  std::u32string runes_;
  size_t pos_ = 0;
  const Env& env_;
  bool capture_;
  bool raw_escapes_;
  std::string words_buffer_;
  int depth_ = 0;
  std::set<std::string> matched_;
  std::set<std::string> unmatched_;
};

absl::StatusOr<std::string> Lex::ProcessWord(std::string_view word, const Env& env) const {
  KILN_ASSIGN_OR_RETURN(ProcessResult result, ShellWord(*this, word, env, true).Run(word));
  return std::move(result.result);
}

absl::StatusOr<std::vector<std::string>> Lex::ProcessWords(std::string_view word,
                                                           const Env& env) const {
  KILN_ASSIGN_OR_RETURN(ProcessResult result, ShellWord(*this, word, env, false).Run(word));
  return std::move(result.words);
}

absl::StatusOr<ProcessResult> Lex::ProcessWordWithMatches(std::string_view word,
                                                          const Env& env) const {
  return ShellWord(*this, word, env, true).Run(word);
}

}  // namespace kiln::dockerfile::shell
