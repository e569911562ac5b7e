#include "sdk/llb/shlex.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kiln::llb {
namespace {

enum class Lex { kStart, kWord, kEscape, kSingle, kDouble, kDoubleEscape, kComment };

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

absl::Status Unfinished(std::string_view command, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("llb: Shlex: ", std::string(what),
                                                 " in command \"", std::string(command), "\""));
}

// google/shlex's state machine, one character at a time.
class Lexer {
 public:
  void Feed(char c) {
    switch (state_) {
      case Lex::kStart:
        if (IsSpace(c)) return;
        if (c == '#') {
          state_ = Lex::kComment;
          return;
        }
        state_ = Lex::kWord;
        InWord(c);
        return;
      case Lex::kWord:
        InWord(c);
        return;
      case Lex::kEscape:
        Keep(c, Lex::kWord);
        return;
      case Lex::kSingle:
        if (c == '\'') {
          state_ = Lex::kWord;
        } else {
          word_ += c;
        }
        return;
      case Lex::kDouble:
        if (c == '"') {
          state_ = Lex::kWord;
        } else if (c == '\\') {
          state_ = Lex::kDoubleEscape;
        } else {
          word_ += c;
        }
        return;
      case Lex::kDoubleEscape:
        Keep(c, Lex::kDouble);
        return;
      case Lex::kComment:
        if (c == '\n') state_ = Lex::kStart;
        return;
    }
  }

  absl::StatusOr<std::vector<std::string>> Finish(std::string_view command) {
    switch (state_) {
      case Lex::kWord:
        words_.push_back(std::move(word_));
        break;
      case Lex::kEscape:
      case Lex::kDoubleEscape:
        return Unfinished(command, "trailing backslash");
      case Lex::kSingle:
      case Lex::kDouble:
        return Unfinished(command, "unclosed quote");
      default:
        break;
    }
    return std::move(words_);
  }

 private:
  void InWord(char c) {
    if (IsSpace(c)) {
      words_.push_back(std::move(word_));
      word_.clear();
      state_ = Lex::kStart;
    } else if (c == '\'') {
      state_ = Lex::kSingle;
    } else if (c == '"') {
      state_ = Lex::kDouble;
    } else if (c == '\\') {
      state_ = Lex::kEscape;
    } else {
      word_ += c;
    }
  }

  void Keep(char c, Lex next) {
    word_ += c;
    state_ = next;
  }

  Lex state_ = Lex::kStart;
  std::string word_;
  std::vector<std::string> words_;
};

}  // namespace

absl::StatusOr<std::vector<std::string>> Shlex(std::string_view command) {
  Lexer lexer;
  for (char c : command) lexer.Feed(c);
  return lexer.Finish(command);
}

}  // namespace kiln::llb
