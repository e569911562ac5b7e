#include "frontends/yaml/doc/doc.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace kiln::yamldoc {
namespace {

size_t CountNodes(const Node& n) {
  size_t c = 1;
  for (const Node& k : n.keys) c += CountNodes(k);
  for (const Node& i : n.items) c += CountNodes(i);
  return c;
}

// Builds the tree from yaml-cpp's parse events. (yaml-cpp's own YAML::Load
// and LoadAll are not used: LoadAll never ends on a stray ',' at the top
// level, allocating empty documents until memory runs out.)
class Builder : public YAML::EventHandler {
 public:
  explicit Builder(size_t budget) : budget_(budget) {}

  bool over_budget() const { return over_; }
  Node TakeRoot() { return std::move(root_); }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Node n;
    Place(mark, &n);
    Finish(Add(std::move(n)), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end() || over_) {
      Add(Node());
      return;
    }
    size_t size = it->second.second;  // checked before anything is copied
    if (size > budget_) {
      over_ = true;
      budget_ = 0;
      Add(Node());
      return;
    }
    budget_ -= size;
    Add(it->second.first);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    Node n;
    Place(mark, &n);
    n.kind = Node::Kind::kScalar;
    n.scalar = value;
    n.quoted = tag != "?";
    Finish(Add(std::move(n)), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, Node::Kind::kSequence, anchor);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, Node::Kind::kMap, anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    Node* node;
    YAML::anchor_t anchor;
    bool key_next = true;  // maps: the next child is a key
  };

  void Place(const YAML::Mark& mark, Node* n) {
    if (budget_ == 0) {
      over_ = true;
    } else {
      --budget_;
    }
    n->line = mark.line < 0 ? 1 : mark.line + 1;
    n->col = mark.column < 0 ? 1 : mark.column + 1;
  }

  // Appends `n` to the open container (or makes it the root).
  Node* Add(Node n) {
    if (stack_.empty()) {
      root_ = std::move(n);
      return &root_;
    }
    Frame& f = stack_.back();
    if (f.node->IsMap()) {
      bool key = f.key_next;
      f.key_next = !f.key_next;
      if (key) {
        f.node->keys.push_back(std::move(n));
        return &f.node->keys.back();
      }
      Node& value = f.node->items.emplace_back(std::move(n));
      if (value.IsNull()) {
        // A missing value ("key:") is marked where the next token is:
        // place it at its key instead.
        value.line = f.node->keys.back().line;
        value.col = f.node->keys.back().col;
      }
      return &value;
    }
    f.node->items.push_back(std::move(n));
    return &f.node->items.back();
  }

  void Finish(Node* n, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor && !over_) anchors_[anchor] = {*n, CountNodes(*n)};
  }

  void Open(const YAML::Mark& mark, Node::Kind kind, YAML::anchor_t anchor) {
    Node n;
    Place(mark, &n);
    n.kind = kind;
    stack_.push_back(Frame{Add(std::move(n)), anchor});
  }

  void Close() {
    if (stack_.empty()) return;
    Frame f = stack_.back();
    stack_.pop_back();
    Finish(f.node, f.anchor);
  }

  size_t budget_;
  bool over_ = false;
  Node root_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, std::pair<Node, size_t>> anchors_;  // with node counts
};

absl::Status SyntaxError(const YAML::Exception& e) {
  return absl::InvalidArgumentError(absl::StrCat(e.mark.line < 0 ? 1 : e.mark.line + 1, ":",
                                                 e.mark.column < 0 ? 1 : e.mark.column + 1, ": ",
                                                 e.msg.empty() ? "invalid YAML" : e.msg));
}

// The character at 0-based `line`:`col` of `text`, for messages.
char CharAt(std::string_view text, int line, int col) {
  size_t at = 0;
  for (int l = 0; l < line && at != std::string_view::npos; ++l) {
    at = text.find('\n', at);
    if (at != std::string_view::npos) ++at;
  }
  if (at == std::string_view::npos || at + col >= text.size()) return '\0';
  return text[at + col];
}

}  // namespace

const char* Node::KindName() const {
  switch (kind) {
    case Kind::kScalar:
      return "a string";
    case Kind::kSequence:
      return "a list";
    case Kind::kMap:
      return "a map";
    default:
      return "null";
  }
}

absl::StatusOr<Node> Parse(std::string_view text, const Limits& limits) {
  if (text.size() > limits.max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("1:1: the document is ", text.size(),
                                                   " bytes, over the limit of ", limits.max_bytes));
  }
  if (text.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("1:1: the document contains a NUL byte");
  }
  std::istringstream in{std::string(text)};
  Builder builder(limits.max_nodes);
  // A second document, or a token no document can start with, ends here.
  struct Probe : YAML::EventHandler {
    YAML::Mark start;
    bool seen = false;
    void OnDocumentStart(const YAML::Mark& m) override {
      if (!seen) start = m;
      seen = true;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
  } probe;
  try {
    YAML::Parser parser(in);
    if (!parser.HandleNextDocument(builder)) return Node();
    if (builder.over_budget()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "1:1: the document has more than ", limits.max_nodes, " nodes (aliases expanded)"));
    }
    if (parser.HandleNextDocument(probe)) {
      int line = probe.start.line < 0 ? 0 : probe.start.line;
      int col = probe.start.column < 0 ? 0 : probe.start.column;
      char c = CharAt(text, line, col);
      std::string what = c == '-' || c == '\0' || c == '%'
                             ? "a second YAML document; a spec is one document"
                             : absl::StrCat("unexpected '", std::string(1, c), "'");
      return absl::InvalidArgumentError(absl::StrCat(line + 1, ":", col + 1, ": ", what));
    }
  } catch (const YAML::Exception& e) {
    return SyntaxError(e);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("1:1: invalid YAML: ", e.what()));
  }
  return builder.TakeRoot();
}

}  // namespace kiln::yamldoc
