#include <string>

#include "absl/strings/ascii.h"
#include "frontends/dockerfile/parser/parser.h"
#include "frontends/dockerfile/shell/text.h"

namespace kiln::dockerfile {

std::string Dump(const Node& node) {
  std::string out = absl::AsciiStrToLower(node.value);
  if (!node.flags.empty()) {
    out += ' ';
    out += shell::GoQuoteList(node.flags);
  }
  for (const Node& child : node.children) {
    out += '(';
    out += Dump(child);
    out += ")\n";
  }
  for (const Node& arg : node.next) {
    out += ' ';
    out += arg.children.empty() ? shell::GoQuote(arg.value) : Dump(arg);
  }
  return std::string(shell::TrimSpace(out));
}

std::string ChompHeredocContent(std::string_view content) {
  std::string out;
  out.reserve(content.size());
  bool line_start = true;
  for (char c : content) {
    if (line_start && c == '\t') continue;
    line_start = c == '\n';
    out.push_back(c);
  }
  return out;
}

}  // namespace kiln::dockerfile
