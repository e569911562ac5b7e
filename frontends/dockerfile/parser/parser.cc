#include "frontends/dockerfile/parser/parser.h"

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "frontends/dockerfile/parser/directives.h"
#include "frontends/dockerfile/parser/heredoc.h"
#include "frontends/dockerfile/parser/line_parsers.h"
#include "frontends/dockerfile/shell/text.h"
#include "sdk/base/status_macros.h"

namespace kiln::dockerfile {
namespace {

using parser_internal::DirectiveParser;

// bufio.Scanner's default limit, which BuildKit keeps.
constexpr size_t kMaxLine = 64 * 1024;

// Splits input into lines that keep their '\n', refusing lines over kMaxLine
// like Go's bufio.Scanner does.
class LineScanner {
 public:
  explicit LineScanner(std::string_view data) : data_(data) {}

  bool Scan() {
    if (too_long_ || pos_ >= data_.size()) return false;
    size_t nl = data_.find('\n', pos_);
    size_t end = nl == std::string_view::npos ? data_.size() : nl + 1;
    size_t limit = nl == std::string_view::npos ? kMaxLine - 1 : kMaxLine;
    if (end - pos_ > limit) {
      too_long_ = true;
      return false;
    }
    line_ = data_.substr(pos_, end - pos_);
    pos_ = end;
    return true;
  }
  std::string_view line() const { return line_; }
  bool too_long() const { return too_long_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  std::string_view line_;
  bool too_long_ = false;
};

std::string_view TrimNewline(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

bool IsComment(std::string_view line) {
  line = shell::TrimLeftSpace(line);
  return !line.empty() && line[0] == '#';
}

absl::Status LineError(int line, std::string_view message) {
  std::string where = line > 0 ? absl::StrCat("Dockerfile:", line, ": ") : "Dockerfile: ";
  return absl::InvalidArgumentError(absl::StrCat(where, std::string(message)));
}

absl::Status LineError(int line, const absl::Status& status) {
  return LineError(line, std::string_view(status.message().data(), status.message().size()));
}

// Removes a trailing line-continuation escape (one escape token, not itself
// escaped, followed only by blanks). Returns whether the line continues.
bool TrimContinuation(std::string_view* line, char escape) {
  size_t end = line->size();
  while (end > 0 && ((*line)[end - 1] == ' ' || (*line)[end - 1] == '\t')) --end;
  if (end == 0 || (*line)[end - 1] != escape) return false;
  size_t k = end - 1;
  if (k > 0 && (*line)[k - 1] == escape) return false;
  *line = line->substr(0, k);
  return true;
}

class Parser {
 public:
  explicit Parser(std::string_view data) : scanner_(data) { result_.ast.start_line = -1; }

  absl::StatusOr<Result> Run();

 private:
  absl::StatusOr<std::string_view> ProcessLine(std::string_view raw, bool strip_left,
                                               bool* directive_ok);
  absl::Status ParseInstruction(std::string_view first, int start_line);
  absl::Status ReadHeredocs(Node* child, std::string_view line, int start_line);

  LineScanner scanner_;
  DirectiveParser directive_parser_;
  char escape_ = '\\';
  int current_line_ = 0;
  std::vector<std::string> comments_;
  Result result_;
};

absl::StatusOr<std::string_view> Parser::ProcessLine(std::string_view raw, bool strip_left,
                                                     bool* directive_ok) {
  std::string_view token = TrimNewline(raw);
  if (strip_left) token = shell::TrimLeftSpace(token);
  *directive_ok = false;
  auto directive = directive_parser_.ParseLine(token);
  if (!directive.ok()) return LineError(current_line_ + 1, directive.status());
  if (directive->has_value()) {
    const Directive& d = **directive;
    if (d.name == "escape") {
      if (d.value != "`" && d.value != "\\") {
        return LineError(current_line_ + 1, absl::StrCat("invalid escape token '", d.value,
                                                         "' does not match ` or \\"));
      }
      escape_ = d.value[0];
    }
    result_.directives.push_back(Directive{d.name, d.value, current_line_ + 1});
    *directive_ok = true;
  }
  return IsComment(token) ? std::string_view() : token;
}

absl::StatusOr<Result> Parser::Run() {
  while (scanner_.Scan()) {
    std::string_view raw = scanner_.line();
    if (current_line_ == 0 && raw.substr(0, 3) == "\xEF\xBB\xBF") raw.remove_prefix(3);
    if (IsComment(raw)) {
      std::string_view comment = shell::TrimSpace(raw.substr(1));
      if (comment.empty()) {
        comments_.clear();
      } else {
        comments_.emplace_back(comment);
      }
    }
    bool directive_ok = false;
    KILN_ASSIGN_OR_RETURN(std::string_view line, ProcessLine(raw, true, &directive_ok));
    if (directive_ok && !comments_.empty()) comments_.pop_back();
    ++current_line_;
    KILN_RETURN_IF_ERROR(ParseInstruction(line, current_line_));
  }
  if (result_.ast.start_line < 0) return LineError(current_line_, "file with no instructions");
  if (scanner_.too_long()) {
    return LineError(current_line_ + 1, "dockerfile line greater than max allowed size of 65535");
  }
  result_.escape_token = escape_;
  return std::move(result_);
}

absl::Status Parser::ParseInstruction(std::string_view first, int start_line) {
  bool continues = TrimContinuation(&first, escape_);
  if (!continues && first.empty()) return absl::OkStatus();
  std::string line(first);
  bool empty_continuation = false;
  while (continues && scanner_.Scan()) {
    bool directive_ok = false;
    KILN_ASSIGN_OR_RETURN(std::string_view next,
                          ProcessLine(scanner_.line(), false, &directive_ok));
    ++current_line_;
    if (IsComment(scanner_.line())) continue;
    if (shell::TrimLeftSpace(TrimNewline(next)).empty()) {
      empty_continuation = true;
      continue;
    }
    continues = TrimContinuation(&next, escape_);
    line.append(next);
  }
  if (empty_continuation) {
    result_.warnings.push_back(Warning{
        "Empty continuation line found in: " + line,
        "Empty continuation lines will become errors in a future release",
        "https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/", current_line_});
  }
  auto child = parser_internal::NewNodeFromLine(line, escape_);
  if (!child.ok()) return LineError(start_line, child.status());
  child->prev_comment = std::move(comments_);
  comments_.clear();
  if (parser_internal::CanContainHeredoc(*child) && line.find("<<") != std::string::npos) {
    KILN_RETURN_IF_ERROR(ReadHeredocs(&*child, line, start_line));
  }
  child->start_line = start_line;
  child->end_line = current_line_;
  Node& root = result_.ast;
  if (root.start_line < 0) root.start_line = start_line;
  root.end_line = current_line_;
  root.children.push_back(std::move(*child));
  return absl::OkStatus();
}

absl::Status Parser::ReadHeredocs(Node* child, std::string_view line, int start_line) {
  auto heredocs = parser_internal::HeredocsFromLine(line);
  if (!heredocs.ok()) return LineError(start_line, heredocs.status());
  for (Heredoc& heredoc : *heredocs) {
    bool terminated = false;
    while (scanner_.Scan()) {
      std::string_view raw = scanner_.line();
      ++current_line_;
      std::string_view candidate = TrimNewline(raw);
      if (heredoc.chomp) {
        while (!candidate.empty() && candidate[0] == '\t') candidate.remove_prefix(1);
      }
      if (candidate == heredoc.name) {
        terminated = true;
        break;
      }
      heredoc.content.append(raw);
    }
    if (!terminated) {
      return LineError(start_line, absl::StrCat("unterminated heredoc ", heredoc.name));
    }
    child->heredocs.push_back(std::move(heredoc));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Result> Parse(std::string_view dockerfile) { return Parser(dockerfile).Run(); }

absl::StatusOr<std::optional<Heredoc>> ParseHeredoc(std::string_view word) {
  return parser_internal::ParseHeredoc(word);
}

}  // namespace kiln::dockerfile
