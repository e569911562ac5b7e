#include "sdk/llb/internal/go_json.h"

#include <cstdint>
#include <string_view>

#include "absl/strings/str_format.h"

namespace kiln::llb_internal {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when it is invalid
// (overlong forms, surrogates and values above U+10FFFF are invalid, as in Go).
size_t Utf8Length(std::string_view s, size_t i, uint32_t* rune) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t n;
  uint32_t r, min;
  if (c < 0x80) {
    *rune = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    n = 2, r = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, r = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, r = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    r = (r << 6) | (byte(i + k) & 0x3F);
  }
  if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return 0;
  *rune = r;
  return n;
}

void AppendString(std::string_view s, std::string* out) {
  *out += '"';
  for (size_t i = 0; i < s.size();) {
    uint32_t r = 0;
    size_t n = Utf8Length(s, i, &r);
    if (n == 0) {
      *out += "\\ufffd";
      ++i;
      continue;
    }
    switch (r) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      default:
        if (r < 0x20 || r == '<' || r == '>' || r == '&' || r == 0x2028 || r == 0x2029) {
          *out += absl::StrFormat("\\u%04x", r);
        } else {
          out->append(s.data() + i, n);
        }
    }
    i += n;
  }
  *out += '"';
}

}  // namespace

std::string GoJsonStringArray(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    AppendString(values[i], &out);
  }
  out += ']';
  return out;
}

}  // namespace kiln::llb_internal
