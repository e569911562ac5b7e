#include "frontends/dockerfile/shell/text.h"

#include <cstdint>
#include <cstdio>

namespace kiln::dockerfile::shell {
namespace {

bool IsCont(unsigned char c) { return c >= 0x80 && c <= 0xBF; }

// Ranges (inclusive) that are neither letters nor digits but above Latin-1;
// used by the IsLetter approximation.
struct Range {
  char32_t lo, hi;
};

constexpr Range kNonLetters[] = {
    {0x02C2, 0x02C5}, {0x02D2, 0x02DF},   {0x0300, 0x036F},    {0x0374, 0x0375}, {0x037E, 0x037E},
    {0x0384, 0x0385}, {0x0387, 0x0387},   {0x0482, 0x0489},    {0x055A, 0x055F}, {0x0589, 0x058A},
    {0x0591, 0x05C7}, {0x0600, 0x061F},   {0x064B, 0x0669},    {0x066A, 0x066D}, {0x06D4, 0x06D4},
    {0x06F0, 0x06F9}, {0x0966, 0x096F},   {0x0E50, 0x0E59},    {0x1680, 0x1680}, {0x2000, 0x2BFF},
    {0x2E00, 0x2E7F}, {0x3000, 0x3004},   {0x3007, 0x3030},    {0x303D, 0x303F}, {0xD800, 0xF8FF},
    {0xFE00, 0xFE6F}, {0xFEFF, 0xFEFF},   {0xFF00, 0xFF20},    {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65},
    {0xFFE0, 0xFFFF}, {0x1F000, 0x1FAFF}, {0xE0000, 0x10FFFF},
};

constexpr Range kDigits[] = {
    {'0', '9'},       {0x0660, 0x0669}, {0x06F0, 0x06F9}, {0x0966, 0x096F},
    {0x09E6, 0x09EF}, {0x0E50, 0x0E59}, {0xFF10, 0xFF19},
};

constexpr Range kNonPrint[] = {
    {0x0080, 0x00A0}, {0x00AD, 0x00AD}, {0x0378, 0x0379}, {0x0380, 0x0383},
    {0x061C, 0x061C}, {0x1680, 0x1680}, {0x180E, 0x180E}, {0x2000, 0x200F},
    {0x2028, 0x202F}, {0x205F, 0x206F}, {0x3000, 0x3000}, {0xD800, 0xF8FF},
    {0xFEFF, 0xFEFF}, {0xFFF0, 0xFFFB}, {0xFFFE, 0xFFFF}, {0xE0000, 0x10FFFF},
};

template <size_t N>
bool InRanges(const Range (&ranges)[N], char32_t r) {
  for (const Range& range : ranges) {
    if (r >= range.lo && r <= range.hi) return true;
  }
  return false;
}

void AppendHex(std::string* out, const char* fmt, uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), fmt, v);
  out->append(buf);
}

}  // namespace

DecodedRune DecodeRune(std::string_view s, size_t pos) {
  const auto at = [&](size_t i) -> unsigned char {
    return pos + i < s.size() ? static_cast<unsigned char>(s[pos + i]) : 0;
  };
  unsigned char c0 = at(0);
  if (c0 < 0x80) return {c0, 1};
  if (c0 >= 0xC2 && c0 <= 0xDF && IsCont(at(1))) {
    return {static_cast<char32_t>(((c0 & 0x1F) << 6) | (at(1) & 0x3F)), 2};
  }
  if (c0 >= 0xE0 && c0 <= 0xEF) {
    unsigned char lo = c0 == 0xE0 ? 0xA0 : 0x80, hi = c0 == 0xED ? 0x9F : 0xBF;
    if (at(1) >= lo && at(1) <= hi && IsCont(at(2))) {
      return {static_cast<char32_t>(((c0 & 0x0F) << 12) | ((at(1) & 0x3F) << 6) | (at(2) & 0x3F)),
              3};
    }
  }
  if (c0 >= 0xF0 && c0 <= 0xF4) {
    unsigned char lo = c0 == 0xF0 ? 0x90 : 0x80, hi = c0 == 0xF4 ? 0x8F : 0xBF;
    if (at(1) >= lo && at(1) <= hi && IsCont(at(2)) && IsCont(at(3))) {
      return {static_cast<char32_t>(((c0 & 0x07) << 18) | ((at(1) & 0x3F) << 12) |
                                    ((at(2) & 0x3F) << 6) | (at(3) & 0x3F)),
              4};
    }
  }
  return {kRuneError, 1};
}

std::u32string DecodeRunes(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    DecodedRune d = DecodeRune(s, pos);
    out.push_back(d.rune);
    pos += d.width;
  }
  return out;
}

void AppendRune(std::string* out, char32_t r) {
  if ((r >= 0xD800 && r <= 0xDFFF) || r > 0x10FFFF) r = kRuneError;
  if (r < 0x80) {
    out->push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (r >> 6)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (r >> 12)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (r >> 18)));
    out->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

std::string EncodeRunes(std::u32string_view runes) {
  std::string out;
  out.reserve(runes.size());
  for (char32_t r : runes) AppendRune(&out, r);
  return out;
}

bool IsSpace(char32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

bool IsDigit(char32_t r) { return InRanges(kDigits, r); }

bool IsLetter(char32_t r) {
  if (r < 0x80) return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
  if (r < 0x100)
    return r == 0xAA || r == 0xB5 || r == 0xBA || (r >= 0xC0 && r != 0xD7 && r != 0xF7);
  return !InRanges(kNonLetters, r);
}

bool IsPrint(char32_t r) {
  if (r < 0x80) return r >= 0x20 && r < 0x7F;
  return !InRanges(kNonPrint, r);
}

std::string_view TrimLeftSpace(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    DecodedRune d = DecodeRune(s, pos);
    if (d.width == 1 && d.rune == kRuneError) break;
    if (!IsSpace(d.rune)) break;
    pos += d.width;
  }
  return s.substr(pos);
}

std::string_view TrimSpace(std::string_view s) {
  s = TrimLeftSpace(s);
  size_t end = 0;  // end of the last non-space rune
  for (size_t pos = 0; pos < s.size();) {
    DecodedRune d = DecodeRune(s, pos);
    pos += d.width;
    if (!IsSpace(d.rune) || (d.width == 1 && d.rune == kRuneError)) end = pos;
  }
  return s.substr(0, end);
}

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (size_t pos = 0; pos < s.size();) {
    DecodedRune d = DecodeRune(s, pos);
    if (d.width == 1 && d.rune == kRuneError) {
      AppendHex(&out, "\\x%02x", static_cast<unsigned char>(s[pos]));
      pos += 1;
      continue;
    }
    pos += d.width;
    char32_t r = d.rune;
    if (r == '"' || r == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(r));
    } else if (IsPrint(r)) {
      AppendRune(&out, r);
    } else if (r == '\a' || r == '\b' || r == '\f' || r == '\n' || r == '\r' || r == '\t' ||
               r == '\v') {
      static constexpr char kLetters[] = "abtnvfr";
      out.push_back('\\');
      out.push_back(kLetters[r - '\a']);
    } else if (r < ' ' || r == 0x7F) {
      AppendHex(&out, "\\x%02x", r);
    } else if (r < 0x10000) {
      AppendHex(&out, "\\u%04x", r);
    } else {
      AppendHex(&out, "\\U%08x", r);
    }
  }
  out.push_back('"');
  return out;
}

std::string GoQuoteList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(' ');
    out += GoQuote(items[i]);
  }
  out.push_back(']');
  return out;
}

}  // namespace kiln::dockerfile::shell
