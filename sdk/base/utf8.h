// The length of a UTF-8 sequence, for code that walks text byte-wise.
#ifndef KILN_SDK_BASE_UTF8_H_
#define KILN_SDK_BASE_UTF8_H_

#include <cstddef>
#include <string_view>

namespace kiln {

// Bytes in the UTF-8 sequence starting at s[0] (1 for invalid lead bytes),
// never more than s.size(). `s` must not be empty.
inline size_t Utf8Length(std::string_view s) {
  unsigned char c = s[0];
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
  return n < s.size() ? n : s.size();
}

}  // namespace kiln

#endif  // KILN_SDK_BASE_UTF8_H_
