#include "gateway/fsutil/mode.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"

namespace kiln::fsutil {
namespace {

constexpr mode_t kStandard = S_ISUID | S_ISGID | 0777;

absl::Status Syntax(std::string_view text) {
  return absl::InvalidArgumentError(absl::StrCat("invalid file mode \"", std::string(text), "\""));
}

}  // namespace

class ModeSet::Parser {
 public:
  Parser(std::string_view s, ModeSet* out) : s_(s), out_(out) {}

  absl::Status Run() {
    for (;;) {
      mode_t who = ParseWho();
      for (;;) {
        if (!ParseOp(&who)) return Syntax(s_);
        if (i_ == s_.size()) return absl::OkStatus();
        if (s_[i_] == ',') break;
      }
      if (++i_ == s_.size()) return Syntax(s_);
    }
  }

 private:
  mode_t ParseWho() {
    mode_t who = 0;
    for (; i_ < s_.size(); ++i_) {
      switch (s_[i_]) {
        case 'a':
          who |= kStandard;
          break;
        case 'u':
          who |= S_ISUID | S_IRWXU;
          break;
        case 'g':
          who |= S_ISGID | S_IRWXG;
          break;
        case 'o':
          who |= S_IRWXO;
          break;
        default:
          return who;
      }
    }
    return who;
  }

  void Add(char op, mode_t who, mode_t perm) {
    if (op == '=') {
      out_->ops_.push_back(Op{'-', 0, 0, who != 0 ? who : kStandard});
      op = '+';
    }
    out_->ops_.push_back(Op{op, 0, 0, who != 0 ? (who & perm) : perm});
  }

  void AddCopy(char from, mode_t who, char op) {
    Op c{from, op, 0, static_cast<mode_t>(~0u)};
    if (who == 0) {
      c.targets = 7;
    } else {
      if (who & S_IRUSR) c.targets |= 4;
      if (who & S_IRGRP) c.targets |= 2;
      if (who & S_IROTH) c.targets |= 1;
    }
    out_->ops_.push_back(c);
  }

  // One operator and its permission letters: "+rw", "=u", "-X".
  bool ParseOp(mode_t* who) {
    if (i_ >= s_.size()) return false;
    char op = s_[i_++];
    if (op != '+' && op != '-' && op != '=') return false;
    if (op == '=') equal_done_ = false;
    *who &= ~S_ISVTX;
    // Set-id and sticky bits make no sense for "other" alone.
    const bool not_only_other = *who == 0 || (*who & ~S_IRWXO) != 0;
    mode_t perm = 0, perm_x = 0;
    for (;; ++i_) {
      char b = i_ < s_.size() ? s_[i_] : 0;
      switch (b) {
        case 'r':
          perm |= 0444;
          continue;
        case 'w':
          perm |= 0222;
          continue;
        case 'x':
          perm |= 0111;
          continue;
        case 'X':
          if (op == '+') perm_x = 0111;
          continue;
        case 's':
          if (not_only_other) perm |= S_ISUID | S_ISGID;
          continue;
        case 't':
          if (not_only_other) {
            *who |= S_ISVTX;
            perm |= S_ISVTX;
          }
          continue;
        case 'u':
        case 'g':
        case 'o':
          if (perm != 0) Add(op, *who, perm);
          perm = 0;
          if (op == '=') equal_done_ = true;
          if (perm_x != 0) Add('X', *who, perm_x);
          perm_x = 0;
          AddCopy(b, *who, op);
          continue;
        default:
          if (perm != 0 || (op == '=' && !equal_done_)) {
            if (op == '=') equal_done_ = true;
            Add(op, *who, perm);
          }
          if (perm_x != 0) Add('X', *who, perm_x);
          return true;
      }
    }
  }

  std::string_view s_;
  ModeSet* out_;
  size_t i_ = 0;
  bool equal_done_ = false;
};

absl::StatusOr<ModeSet> ModeSet::Parse(std::string_view text) {
  ModeSet m;
  if (text.empty()) return Syntax(text);
  if (text[0] >= '0' && text[0] <= '9') {
    mode_t v = 0;
    for (char c : text) {
      if (c < '0' || c > '7' || v > 07777) return Syntax(text);
      v = v * 8 + (c - '0');
    }
    if (v > 07777) return Syntax(text);
    m.ops_.push_back(Op{'-', 0, 0, 07777});
    m.ops_.push_back(Op{'+', 0, 0, v});
    return m;
  }
  Parser p(text, &m);
  absl::Status s = p.Run();
  if (!s.ok()) return s;
  return m;
}

mode_t ModeSet::Apply(mode_t st_mode) const {
  const mode_t old = st_mode & 07777;
  mode_t m = old;
  for (const Op& op : ops_) {
    switch (op.cmd) {
      case '+':
        m |= op.bits;
        break;
      case '-':
        m &= ~op.bits;
        break;
      case 'X':
        if ((old & 0111) != 0 || S_ISDIR(st_mode)) m |= op.bits;
        break;
      default: {
        int from_shift = op.cmd == 'u' ? 6 : op.cmd == 'g' ? 3 : 0;
        mode_t value = (m >> from_shift) & 7;
        mode_t clear = op.copy_op == '=' ? 7 : value;
        for (int t = 0; t < 3; ++t) {
          if ((op.targets & (1u << t)) == 0) continue;
          int shift = 3 * t;  // t=0 other, 1 group, 2 user
          if (op.copy_op != '+') m &= ~((clear << shift) & op.bits);
          if (op.copy_op != '-') m |= (value << shift) & op.bits;
        }
      }
    }
  }
  return m & 07777;
}

}  // namespace kiln::fsutil
