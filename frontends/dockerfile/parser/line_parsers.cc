#include "frontends/dockerfile/parser/line_parsers.h"

#include <functional>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "frontends/dockerfile/parser/json_array.h"
#include "frontends/dockerfile/shell/text.h"
#include "sdk/base/status_macros.h"

namespace kiln::dockerfile::parser_internal {
namespace {

using shell::IsSpace;

// The arguments of one instruction.
struct Args {
  std::vector<Node> next;
  bool json = false;
};

// `depth` counts enclosing ONBUILDs.
using LineParser =
    std::function<absl::StatusOr<Args>(std::string_view rest, char escape, int depth)>;

// BuildKit accepts any ONBUILD nesting (its later stage rejects more than
// one level); we stop at this depth so recursion stays bounded.
constexpr int kMaxOnbuildDepth = 32;

Node Leaf(std::string value) {
  Node node;
  node.value = std::move(value);
  return node;
}

bool IsRegexSpace(char c) { return c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == ' '; }

// Go's regexp.MustCompile(`[\t\v\f\r ]+`).Split(s, n) for n == -1 or n > 0.
std::vector<std::string> SplitWhitespace(std::string_view s, int n) {
  if (s.empty()) return {""};
  std::vector<std::string> out;
  size_t beg = 0, end = 0;
  for (size_t pos = 0; pos < s.size();) {
    if (!IsRegexSpace(s[pos])) {
      ++pos;
      continue;
    }
    size_t match_end = pos;
    while (match_end < s.size() && IsRegexSpace(s[match_end])) ++match_end;
    if (n > 0 && static_cast<int>(out.size()) == n - 1) break;
    end = pos;
    out.emplace_back(s.substr(beg, end - beg));
    beg = match_end;
    pos = match_end;
  }
  if (end != s.size()) out.emplace_back(s.substr(beg));
  return out;
}

absl::StatusOr<Args> ParseIgnore(std::string_view, char, int) {
  Args args;
  args.next.emplace_back();  // BuildKit keeps one empty argument node
  return args;
}

absl::StatusOr<Args> ParseSubCommand(std::string_view rest, char escape, int depth) {
  if (rest.empty()) return Args{};
  if (depth >= kMaxOnbuildDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat("ONBUILD nested deeper than ", kMaxOnbuildDepth, " levels"));
  }
  KILN_ASSIGN_OR_RETURN(Node child, NewNodeFromLine(rest, escape, depth + 1));
  Node holder;
  holder.children.push_back(std::move(child));
  Args args;
  args.next.push_back(std::move(holder));
  return args;
}

void AppendKeyValue(std::string key, std::string value, std::string sep, Args* args) {
  args->next.push_back(Leaf(std::move(key)));
  args->next.push_back(Leaf(std::move(value)));
  args->next.push_back(Leaf(std::move(sep)));
}

absl::StatusOr<Args> ParseNameVal(std::string_view rest, char escape, const char* key) {
  std::vector<std::string> words = ParseWords(rest, escape);
  Args args;
  if (words.empty()) return args;
  if (words[0].find('=') == std::string::npos) {  // legacy `ENV name value`
    std::vector<std::string> parts = SplitWhitespace(rest, 2);
    if (parts.size() < 2) {
      return absl::InvalidArgumentError(absl::StrCat(key, " must have two arguments"));
    }
    AppendKeyValue(parts[0], parts[1], "", &args);
    return args;
  }
  for (const std::string& word : words) {
    size_t eq = word.find('=');
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("Syntax error - can't find = in ",
                                                     shell::GoQuote(word),
                                                     ". Must be of the form: name=value"));
    }
    AppendKeyValue(word.substr(0, eq), word.substr(eq + 1), "=", &args);
  }
  return args;
}

absl::StatusOr<Args> ParseNameOrNameVal(std::string_view rest, char escape, int) {
  Args args;
  for (std::string& word : ParseWords(rest, escape)) args.next.push_back(Leaf(std::move(word)));
  return args;
}

absl::StatusOr<Args> ParseStringsWhitespaceDelimited(std::string_view rest, char, int) {
  Args args;
  if (rest.empty()) return args;
  for (std::string& word : SplitWhitespace(rest, -1)) args.next.push_back(Leaf(std::move(word)));
  return args;
}

absl::StatusOr<Args> ParseString(std::string_view rest, char, int) {
  Args args;
  if (!rest.empty()) args.next.push_back(Leaf(std::string(rest)));
  return args;
}

// JSON array of strings -> exec form; anything not JSON -> `fallback`.
absl::StatusOr<Args> ParseJsonOr(std::string_view rest, char escape, const LineParser& fallback) {
  std::vector<std::string> items;
  switch (ParseJsonArray(rest, &items)) {
    case JsonArrayKind::kStrings: {
      Args args;
      args.json = true;
      for (std::string& item : items) args.next.push_back(Leaf(std::move(item)));
      return args;
    }
    case JsonArrayKind::kNotStrings:
      return absl::InvalidArgumentError(
          "when using JSON array syntax, arrays must be comprised of strings only");
    case JsonArrayKind::kNotJson:
      break;
  }
  return fallback(rest, escape, 0);
}

absl::StatusOr<Args> ParseMaybeJson(std::string_view rest, char escape, int) {
  if (rest.empty()) return Args{};
  return ParseJsonOr(rest, escape, ParseString);
}

absl::StatusOr<Args> ParseMaybeJsonToList(std::string_view rest, char escape, int) {
  return ParseJsonOr(rest, escape, ParseStringsWhitespaceDelimited);
}

absl::StatusOr<Args> ParseHealthConfig(std::string_view rest, char escape, int) {
  // BuildKit tests bytes here, so 0x85 and 0xA0 bytes count as spaces.
  size_t sep = 0;
  while (sep < rest.size() && !IsSpace(static_cast<unsigned char>(rest[sep]))) ++sep;
  size_t next = sep;
  while (next < rest.size() && IsSpace(static_cast<unsigned char>(rest[next]))) ++next;
  if (sep == 0) return Args{};
  KILN_ASSIGN_OR_RETURN(Args cmd, ParseMaybeJson(rest.substr(next), escape, 0));
  Args args;
  args.json = cmd.json;
  args.next.push_back(Leaf(std::string(rest.substr(0, sep))));
  for (Node& node : cmd.next) args.next.push_back(std::move(node));
  return args;
}

const std::map<std::string, LineParser>& Dispatch() {
  static const auto* table = new std::map<std::string, LineParser>{
      {"add", ParseMaybeJsonToList},
      {"arg", ParseNameOrNameVal},
      {"cmd", ParseMaybeJson},
      {"copy", ParseMaybeJsonToList},
      {"entrypoint", ParseMaybeJson},
      {"env", [](std::string_view r, char e, int) { return ParseNameVal(r, e, "ENV"); }},
      {"expose", ParseStringsWhitespaceDelimited},
      {"from", ParseStringsWhitespaceDelimited},
      {"healthcheck", ParseHealthConfig},
      {"label", [](std::string_view r, char e, int) { return ParseNameVal(r, e, "LABEL"); }},
      {"maintainer", ParseString},
      {"onbuild", ParseSubCommand},
      {"run", ParseMaybeJson},
      {"shell", ParseMaybeJson},
      {"stopsignal", ParseString},
      {"user", ParseString},
      {"volume", ParseMaybeJsonToList},
      {"workdir", ParseString},
  };
  return *table;
}

}  // namespace

absl::StatusOr<Node> NewNodeFromLine(std::string_view line, char escape, int depth) {
  std::vector<std::string> cmdline = SplitWhitespace(shell::TrimSpace(line), 2);
  Node node;
  node.value = cmdline[0];
  node.original = std::string(line);
  std::string rest;
  if (cmdline.size() == 2) {
    rest = std::string(shell::TrimSpace(ExtractBuilderFlags(cmdline[1], escape, &node.flags)));
  }
  auto it = Dispatch().find(absl::AsciiStrToLower(node.value));
  const LineParser& parse = it == Dispatch().end() ? LineParser(ParseIgnore) : it->second;
  KILN_ASSIGN_OR_RETURN(Args args, parse(rest, escape, depth));
  node.next = std::move(args.next);
  if (args.json) node.attributes["json"] = true;
  return node;
}

bool CanContainHeredoc(const Node& node) {
  const Node* n = &node;
  if (absl::AsciiStrToLower(n->value) == "onbuild" && !n->next.empty() &&
      !n->next[0].children.empty()) {
    n = &n->next[0].children[0];
  }
  std::string cmd = absl::AsciiStrToLower(n->value);
  if (cmd != "add" && cmd != "copy" && cmd != "run") return false;
  auto json = n->attributes.find("json");
  return json == n->attributes.end() || !json->second;
}

}  // namespace kiln::dockerfile::parser_internal
