// A YAML document as kiln's YAML frontend reads it: a tree of nulls,
// scalars, sequences and maps, every node with its 1-based line and column.
//
//   KILN_ASSIGN_OR_RETURN(yamldoc::Node root, yamldoc::Parse(text));
//   for (size_t i = 0; i < root.keys.size(); ++i)
//     std::cout << root.keys[i].scalar << " at " << root.keys[i].line << "\n";
//
// This is the only code that sees yaml-cpp: its exceptions end here, as
// InvalidArgument "LINE:COL: message". Maps keep file order and duplicate
// keys (the spec reader reports them). Aliases are expanded, within a node
// budget, so an alias bomb is an error and not a hang.
#ifndef KILN_FRONTENDS_YAML_DOC_DOC_H_
#define KILN_FRONTENDS_YAML_DOC_DOC_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::yamldoc {

struct Node {
  enum class Kind { kNull, kScalar, kSequence, kMap };
  Kind kind = Kind::kNull;
  std::string scalar;       // kScalar: the text, unquoted and unescaped
  bool quoted = false;      // kScalar: written in quotes (or with a !!str tag)
  std::vector<Node> items;  // kSequence: the items; kMap: the values
  std::vector<Node> keys;   // kMap: the keys, parallel to items
  int line = 0, col = 0;    // 1-based; 0 when unknown

  bool IsNull() const { return kind == Kind::kNull; }
  bool IsScalar() const { return kind == Kind::kScalar; }
  bool IsSequence() const { return kind == Kind::kSequence; }
  bool IsMap() const { return kind == Kind::kMap; }
  // "a string", "a list", "a map", "null": for type errors.
  const char* KindName() const;
};

struct Limits {
  size_t max_bytes = 4 << 20;    // of the text
  size_t max_nodes = 1'000'000;  // after alias expansion
};

// The first and only document of `text` (an empty text is a null node).
// InvalidArgument "LINE:COL: message" for a syntax error, a second
// document, or a text or tree over the limits.
absl::StatusOr<Node> Parse(std::string_view text, const Limits& limits = {});

}  // namespace kiln::yamldoc

#endif  // KILN_FRONTENDS_YAML_DOC_DOC_H_
