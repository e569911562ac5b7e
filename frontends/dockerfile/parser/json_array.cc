#include "frontends/dockerfile/parser/json_array.h"

#include "frontends/dockerfile/shell/text.h"

namespace kiln::dockerfile::parser_internal {
namespace {

// Go's encoding/json refuses nesting deeper than this.
constexpr size_t kMaxDepth = 10000;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A strict JSON reader over `text`; every method returns false on a syntax
// error and leaves `pos_` unspecified.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\n')) {
      ++pos_;
    }
  }
  bool AtEnd() const { return pos_ == text_.size(); }
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  // Reads the top-level array, collecting string elements and clearing
  // `all_strings` on any other element.
  bool TopArray(std::vector<std::string>* strings, bool* all_strings) {
    ++pos_;  // '['
    SkipSpace();
    if (Peek() == ']') return ++pos_, true;
    for (;;) {
      SkipSpace();
      if (Peek() == '"') {
        std::string element;
        if (!String(&element)) return false;
        strings->push_back(std::move(element));
      } else {
        *all_strings = false;
        if (!SkipValue()) return false;
      }
      SkipSpace();
      if (Peek() == ']') return ++pos_, true;
      if (Peek() != ',') return false;
      ++pos_;
    }
  }

  // Reads a top-level object; `strings` maps each key to its string value,
  // or to nullopt when the (last) value for the key is not a string.
  bool TopObject(std::map<std::string, std::optional<std::string>>* strings) {
    ++pos_;  // '{'
    SkipSpace();
    if (Peek() == '}') return ++pos_, true;
    for (;;) {
      SkipSpace();
      std::string key;
      if (Peek() != '"' || !String(&key)) return false;
      SkipSpace();
      if (Peek() != ':') return false;
      ++pos_;
      SkipSpace();
      if (Peek() == '"') {
        std::string value;
        if (!String(&value)) return false;
        (*strings)[key] = std::move(value);
      } else {
        (*strings)[key] = std::nullopt;
        if (!SkipValue()) return false;
      }
      SkipSpace();
      if (Peek() == '}') return ++pos_, true;
      if (Peek() != ',') return false;
      ++pos_;
    }
  }

 private:
  // Validates one nested value without recursion, so deep nesting cannot
  // exhaust the stack.
  bool SkipValue() {
    std::vector<char> open;  // '[' or '{' per unclosed container
    for (;;) {
      SkipSpace();
      char c = Peek();
      if (c == '[' || c == '{') {
        if (open.size() + 2 > kMaxDepth) return false;  // the top array counts too
        ++pos_;
        SkipSpace();
        if (Peek() != (c == '[' ? ']' : '}')) {
          open.push_back(c);
          if (c == '{' && !Key()) return false;
          continue;
        }
        ++pos_;
      } else if (!Scalar()) {
        return false;
      }
      if (!CloseOrNext(&open)) return false;
      if (open.empty()) return true;
    }
  }

  // After a value inside `open`: pops closed containers, then consumes the
  // ',' (and key) before the next value. True when a value must follow or
  // everything is closed.
  bool CloseOrNext(std::vector<char>* open) {
    while (!open->empty()) {
      SkipSpace();
      char close = open->back() == '[' ? ']' : '}';
      if (Peek() == close) {
        ++pos_;
        open->pop_back();
        continue;
      }
      if (Peek() != ',') return false;
      ++pos_;
      return open->back() == '[' || Key();
    }
    return true;
  }

  bool Key() {
    SkipSpace();
    std::string key;
    if (Peek() != '"' || !String(&key)) return false;
    SkipSpace();
    if (Peek() != ':') return false;
    ++pos_;
    return true;
  }

  bool Scalar() {
    std::string ignored;
    switch (Peek()) {
      case '"':
        return String(&ignored);
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        return Number();
    }
  }

  bool Literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool Digits() {
    size_t start = pos_;
    while (IsDigit(Peek())) ++pos_;
    return pos_ > start;
  }

  bool Number() {
    if (Peek() == '-') ++pos_;
    if (Peek() == '0') {
      ++pos_;
    } else if (!Digits()) {
      return false;
    }
    if (Peek() == '.') {
      ++pos_;
      if (!Digits()) return false;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      if (!Digits()) return false;
    }
    return true;
  }

  bool Hex4(size_t at, int* value) const {
    if (at + 4 > text_.size()) return false;
    *value = 0;
    for (size_t i = at; i < at + 4; ++i) {
      int h = HexValue(text_[i]);
      if (h < 0) return false;
      *value = *value * 16 + h;
    }
    return true;
  }

  bool Unicode(std::string* out) {
    int r = 0;
    if (!Hex4(pos_, &r)) return false;
    pos_ += 4;
    if (r >= 0xD800 && r < 0xE000) {
      int r2 = 0;
      bool pair = r < 0xDC00 && text_.substr(pos_, 2) == "\\u" && Hex4(pos_ + 2, &r2) &&
                  r2 >= 0xDC00 && r2 < 0xE000;
      if (pair) {
        pos_ += 6;
        r = 0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00);
      } else {
        r = shell::kRuneError;
      }
    }
    shell::AppendRune(out, static_cast<char32_t>(r));
    return true;
  }

  bool Escape(std::string* out) {
    char c = Peek();
    ++pos_;
    switch (c) {
      case '"':
      case '\\':
      case '/':
        out->push_back(c);
        return true;
      case 'b':
        out->push_back('\b');
        return true;
      case 'f':
        out->push_back('\f');
        return true;
      case 'n':
        out->push_back('\n');
        return true;
      case 'r':
        out->push_back('\r');
        return true;
      case 't':
        out->push_back('\t');
        return true;
      case 'u':
        return Unicode(out);
      default:
        return false;
    }
  }

  bool String(std::string* out) {
    ++pos_;  // '"'
    out->clear();
    while (pos_ < text_.size()) {
      unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') return ++pos_, true;
      if (c < 0x20) return false;
      if (c == '\\') {
        ++pos_;
        if (!Escape(out)) return false;
        continue;
      }
      shell::DecodedRune d = shell::DecodeRune(text_, pos_);
      shell::AppendRune(out, d.rune);
      pos_ += d.width;
    }
    return false;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

bool ParseJsonObjectStrings(std::string_view text,
                            std::map<std::string, std::optional<std::string>>* out) {
  Reader reader(text);
  reader.SkipSpace();
  if (reader.Peek() != '{') return false;
  std::map<std::string, std::optional<std::string>> strings;
  if (!reader.TopObject(&strings)) return false;
  reader.SkipSpace();
  if (!reader.AtEnd()) return false;
  *out = std::move(strings);
  return true;
}

JsonArrayKind ParseJsonArray(std::string_view text, std::vector<std::string>* out) {
  text = shell::TrimLeftSpace(text);
  if (text.empty() || text[0] != '[') return JsonArrayKind::kNotJson;
  Reader reader(text);
  std::vector<std::string> strings;
  bool all_strings = true;
  if (!reader.TopArray(&strings, &all_strings)) return JsonArrayKind::kNotJson;
  reader.SkipSpace();
  if (!reader.AtEnd()) return JsonArrayKind::kNotJson;
  if (!all_strings) return JsonArrayKind::kNotStrings;
  *out = std::move(strings);
  return JsonArrayKind::kStrings;
}

}  // namespace kiln::dockerfile::parser_internal
