// Text helpers that reproduce Go's rune-level behaviour, which BuildKit's
// Dockerfile parser and shell lexer inherit: UTF-8 decoding that turns each
// invalid byte into U+FFFD, the unicode.IsSpace / IsLetter / IsDigit classes,
// strings.TrimSpace and strconv.Quote. Matching Go byte for byte matters
// because the parsed words end up in LLB ops and so in their digests.
//
// All functions are pure and thread-safe.
#ifndef KILN_FRONTENDS_DOCKERFILE_SHELL_TEXT_H_
#define KILN_FRONTENDS_DOCKERFILE_SHELL_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::dockerfile::shell {

inline constexpr char32_t kRuneError = 0xFFFD;

// One decoded code point and the number of bytes it took.
struct DecodedRune {
  char32_t rune;
  int width;
};

// Decodes the rune at `pos` (< s.size()) like Go's utf8.DecodeRuneInString:
// an invalid or truncated sequence gives {U+FFFD, 1}.
DecodedRune DecodeRune(std::string_view s, size_t pos);

// Decodes all of `s` (invalid bytes become U+FFFD).
std::u32string DecodeRunes(std::string_view s);

// Appends the UTF-8 form of `r`; surrogates and values past U+10FFFF are
// written as U+FFFD, like Go's strings.Builder.WriteRune.
void AppendRune(std::string* out, char32_t r);

// Encodes runes as UTF-8.
std::string EncodeRunes(std::u32string_view runes);

// Go's unicode.IsSpace.
bool IsSpace(char32_t r);

// Go's unicode.IsDigit / IsLetter. Exact for ASCII and Latin-1; beyond that
// an approximation (common digit blocks; letters are code points outside the
// known punctuation, symbol, space and control blocks).
bool IsDigit(char32_t r);
bool IsLetter(char32_t r);

// Go's unicode.IsPrint; exact for ASCII and Latin-1, approximate beyond.
bool IsPrint(char32_t r);

// Go's strings.TrimSpace: strips unicode.IsSpace runes from both ends.
std::string_view TrimSpace(std::string_view s);

// Go's bytes.TrimLeftFunc(s, unicode.IsSpace).
std::string_view TrimLeftSpace(std::string_view s);

// Go's strconv.Quote: a double-quoted Go string literal.
std::string GoQuote(std::string_view s);

// Go's fmt "%q" of a []string: ["a" "b"].
std::string GoQuoteList(const std::vector<std::string>& items);

}  // namespace kiln::dockerfile::shell

#endif  // KILN_FRONTENDS_DOCKERFILE_SHELL_TEXT_H_
