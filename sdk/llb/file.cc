#include "sdk/llb/file.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "sdk/llb/internal/go_path.h"
#include "sdk/llb/internal/node.h"

namespace kiln::llb_internal {

struct FileActionSpec {
  enum class Kind { kMkdir, kMkfile, kRm, kCopy, kSymlink };
  Kind kind = Kind::kMkdir;
  std::string path;   // mkdir/mkfile/rm path, copy dest, symlink newpath
  std::string path2;  // copy source path, symlink oldpath
  uint32_t mode = 0;
  std::string data;
  llb::State src;  // copy source
  llb::MkdirOptions mkdir;
  llb::MkfileOptions mkfile;
  llb::RmOptions rm;
  llb::CopyOptions copy;
  llb::SymlinkOptions symlink;
};

}  // namespace kiln::llb_internal

namespace kiln::llb {
namespace {

using llb_internal::CapSet;
using llb_internal::FileActionSpec;
using llb_internal::Output;
using llb_internal::StateAccess;
using Kind = FileActionSpec::Kind;

// Go's strconv.ParseInt(s, 10, 32), which llb.WithUser uses to tell ids
// from names.
std::optional<uint32_t> ParseInt32(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (i == s.size()) return std::nullopt;
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
    if (v > int64_t{1} << 31) return std::nullopt;
  }
  if (s[0] == '-') v = -v;
  if (v > INT32_MAX || v < INT32_MIN) return std::nullopt;
  return static_cast<uint32_t>(static_cast<int32_t>(v));
}

UserRef ParseUserRef(std::string_view s) {
  if (s == "root") return UserRef{"", 0};
  std::optional<uint32_t> id = ParseInt32(s);
  if (id.has_value()) return UserRef{"", *id};
  return UserRef{std::string(s), 0};
}

int64_t UnixNanos(const std::optional<absl::Time>& t) {
  return t.has_value() ? absl::ToUnixNanos(*t) : -1;
}

void SetUser(const UserRef& ref, int64_t base, pb::UserOpt* out) {
  if (ref.name.empty()) {
    out->set_byid(ref.id);
  } else {
    out->mutable_byname()->set_name(ref.name);
    out->mutable_byname()->set_input(base);
  }
}

// Owner names are looked up in the action's base input, as in BuildKit.
template <typename Action>
void FillOwner(const std::optional<Owner>& owner, int64_t base, Action* action) {
  if (!owner.has_value()) return;
  pb::ChownOpt* chown = action->mutable_owner();
  if (owner->user.has_value()) SetUser(*owner->user, base, chown->mutable_user());
  if (owner->group.has_value()) SetUser(*owner->group, base, chown->mutable_group());
}

void FillCopy(const FileActionSpec& a, const std::string& dir, int64_t base,
              pb::FileActionCopy* c) {
  const CopyOptions& o = a.copy;
  std::string src = llb_internal::CleanPath(a.path2);
  const std::string& src_dir = a.src.GetDir();
  c->set_src(llb_internal::IsAbsPath(src) ? llb_internal::JoinPath({"/", src})
                                          : llb_internal::JoinPath({src_dir, src}));
  c->set_dest(llb_internal::NormalizeActionPath(dir, a.path, true));
  FillOwner(o.owner, base, c);
  for (const std::string& p : o.include_patterns) c->add_include_patterns(p);
  for (const std::string& p : o.exclude_patterns) c->add_exclude_patterns(p);
  for (const std::string& p : o.required_paths) c->add_required_paths(p);
  c->set_allowwildcard(o.allow_wildcard);
  c->set_allowemptywildcard(o.allow_empty_wildcard);
  c->set_followsymlink(o.follow_symlinks);
  c->set_dircopycontents(o.copy_dir_contents_only);
  c->set_attemptunpackdockercompatibility(o.attempt_unpack);
  c->set_createdestpath(o.create_dest_path);
  c->set_timestamp(UnixNanos(o.timestamp));
  c->set_alwaysreplaceexistingdestpaths(o.always_replace_existing_dest_paths);
  if (!o.mode_str.empty()) {
    c->set_modestr(o.mode_str);
  } else {
    c->set_mode(o.mode.has_value() ? static_cast<int32_t>(*o.mode) : -1);
  }
}

void FillAction(const FileActionSpec& a, const std::string& dir, int64_t base,
                pb::FileAction* out) {
  switch (a.kind) {
    case Kind::kMkdir: {
      pb::FileActionMkDir* m = out->mutable_mkdir();
      m->set_path(llb_internal::NormalizeActionPath(dir, a.path, false));
      m->set_mode(static_cast<int32_t>(a.mode & 0777));
      m->set_makeparents(a.mkdir.make_parents);
      FillOwner(a.mkdir.owner, base, m);
      m->set_timestamp(UnixNanos(a.mkdir.timestamp));
      break;
    }
    case Kind::kMkfile: {
      pb::FileActionMkFile* m = out->mutable_mkfile();
      m->set_path(llb_internal::NormalizeActionPath(dir, a.path, false));
      m->set_mode(static_cast<int32_t>(a.mode & 0777));
      m->set_data(a.data);
      FillOwner(a.mkfile.owner, base, m);
      m->set_timestamp(UnixNanos(a.mkfile.timestamp));
      break;
    }
    case Kind::kRm: {
      pb::FileActionRm* r = out->mutable_rm();
      r->set_path(llb_internal::NormalizeActionPath(dir, a.path, false));
      r->set_allownotfound(a.rm.allow_not_found);
      r->set_allowwildcard(a.rm.allow_wildcard);
      break;
    }
    case Kind::kCopy:
      FillCopy(a, dir, base, out->mutable_copy());
      break;
    case Kind::kSymlink: {
      pb::FileActionSymlink* s = out->mutable_symlink();
      s->set_oldpath(a.path2);
      s->set_newpath(a.path);
      FillOwner(a.symlink.owner, base, s);
      s->set_timestamp(UnixNanos(a.symlink.timestamp));
      break;
    }
  }
}

// BuildKit's Go client means to declare these but, through a bug, never
// does (its addCaps loop runs over an empty list); declaring them lets an
// older solver refuse the op up front instead of ignoring the option.
void AddActionCaps(const FileActionSpec& a, CapSet* caps) {
  if (a.kind == Kind::kSymlink) caps->insert("file.symlink.create");
  if (a.kind != Kind::kCopy) return;
  const CopyOptions& o = a.copy;
  if (!o.include_patterns.empty() || !o.exclude_patterns.empty()) {
    caps->insert("file.copy.includeexcludepatterns");
  }
  if (!o.required_paths.empty()) caps->insert("file.copy.requiredpaths");
  if (o.always_replace_existing_dest_paths) {
    caps->insert("file.copy.alwaysreplaceexistingdestpaths");
  }
  if (!o.mode_str.empty()) caps->insert("file.copy.modestring");
}

class FileNode final : public llb_internal::Node {
 public:
  FileNode(Output base, std::string dir, std::vector<std::shared_ptr<const FileActionSpec>> actions,
           OpOptions options, absl::Status error)
      : Node(std::move(options), std::move(error)),
        base_(std::move(base)),
        dir_(std::move(dir)),
        actions_(std::move(actions)) {}

  // BuildKit's order: the base, then copy sources from the last action back.
  std::vector<Output> Deps() const override {
    std::vector<Output> deps;
    const auto add = [&](const Output& o) {
      if (o.IsScratch()) return;
      for (const Output& d : deps) {
        if (d.SameAs(o)) return;
      }
      deps.push_back(o);
    };
    add(base_);
    for (auto it = actions_.rbegin(); it != actions_.rend(); ++it) {
      if ((*it)->kind == Kind::kCopy) add(StateAccess::OutputOf((*it)->src));
    }
    return deps;
  }

  // Action i reads op input `base` (i == 0) or the result of action i-1,
  // numbered len(inputs) + (i-1); copies read their source as a second input.
  absl::Status Fill(const llb_internal::MarshalContext& ctx, pb::Op* op,
                    CapSet* caps) const override {
    caps->insert("file.base");
    auto* inputs = op->mutable_inputs();
    const int64_t base =
        base_.IsScratch() ? -1 : llb_internal::AddInput(ctx.InputOf(base_), inputs);
    std::vector<int64_t> secondary;
    for (const auto& a : actions_) {
      Output src = StateAccess::OutputOf(a->src);
      bool has_src = a->kind == Kind::kCopy && !src.IsScratch();
      secondary.push_back(has_src ? llb_internal::AddInput(ctx.InputOf(src), inputs) : -1);
    }
    pb::FileOp* file = op->mutable_file();
    const int64_t n_inputs = inputs->size();
    for (size_t i = 0; i < actions_.size(); ++i) {
      pb::FileAction* fa = file->add_actions();
      fa->set_input(i == 0 ? base : n_inputs + static_cast<int64_t>(i) - 1);
      fa->set_secondaryinput(secondary[i]);
      fa->set_output(i + 1 == actions_.size() ? 0 : -1);
      FillAction(*actions_[i], dir_, base, fa);
      AddActionCaps(*actions_[i], caps);
    }
    return absl::OkStatus();
  }

 private:
  Output base_;
  std::string dir_;
  std::vector<std::shared_ptr<const FileActionSpec>> actions_;
};

FileActionSpec PathSpec(Kind kind, std::string_view path, uint32_t mode) {
  FileActionSpec spec;
  spec.kind = kind;
  spec.path = std::string(path);
  spec.mode = mode;
  return spec;
}

}  // namespace

Owner Owner::Parse(std::string_view user_colon_group) {
  Owner owner;
  size_t colon = user_colon_group.find(':');
  owner.user = ParseUserRef(user_colon_group.substr(0, colon));
  if (colon != std::string_view::npos) {
    owner.group = ParseUserRef(user_colon_group.substr(colon + 1));
  }
  return owner;
}

Owner Owner::Ids(uint32_t uid, uint32_t gid) {
  Owner owner;
  owner.user = UserRef{"", uid};
  owner.group = UserRef{"", gid};
  return owner;
}

FileAction::FileAction() = default;

FileAction FileAction::Append(FileActionSpec spec) const {
  FileAction next = *this;
  next.actions_.push_back(std::make_shared<const FileActionSpec>(std::move(spec)));
  return next;
}

FileAction FileAction::Mkdir(std::string_view path, uint32_t mode,
                             const MkdirOptions& options) const {
  FileActionSpec spec = PathSpec(Kind::kMkdir, path, mode);
  spec.mkdir = options;
  return Append(std::move(spec));
}

FileAction FileAction::Mkfile(std::string_view path, uint32_t mode, std::string_view data,
                              const MkfileOptions& options) const {
  FileActionSpec spec = PathSpec(Kind::kMkfile, path, mode);
  spec.data = std::string(data);
  spec.mkfile = options;
  return Append(std::move(spec));
}

FileAction FileAction::Rm(std::string_view path, const RmOptions& options) const {
  FileActionSpec spec = PathSpec(Kind::kRm, path, 0);
  spec.rm = options;
  return Append(std::move(spec));
}

FileAction FileAction::Copy(const State& src, std::string_view src_path, std::string_view dest_path,
                            const CopyOptions& options) const {
  FileActionSpec spec = PathSpec(Kind::kCopy, dest_path, 0);
  spec.path2 = std::string(src_path);
  spec.src = src;
  spec.copy = options;
  return Append(std::move(spec));
}

FileAction FileAction::Symlink(std::string_view oldpath, std::string_view newpath,
                               const SymlinkOptions& options) const {
  FileActionSpec spec = PathSpec(Kind::kSymlink, newpath, 0);
  spec.path2 = std::string(oldpath);
  spec.symlink = options;
  return Append(std::move(spec));
}

FileAction Mkdir(std::string_view path, uint32_t mode, const MkdirOptions& options) {
  return FileAction().Mkdir(path, mode, options);
}

FileAction Mkfile(std::string_view path, uint32_t mode, std::string_view data,
                  const MkfileOptions& options) {
  return FileAction().Mkfile(path, mode, data, options);
}

FileAction Rm(std::string_view path, const RmOptions& options) {
  return FileAction().Rm(path, options);
}

FileAction Copy(const State& src, std::string_view src_path, std::string_view dest_path,
                const CopyOptions& options) {
  return FileAction().Copy(src, src_path, dest_path, options);
}

FileAction Symlink(std::string_view oldpath, std::string_view newpath,
                   const SymlinkOptions& options) {
  return FileAction().Symlink(oldpath, newpath, options);
}

State State::File(const FileAction& action, const OpOptions& options) const {
  absl::Status error;
  if (action.empty()) error = absl::InvalidArgumentError("llb: State::File: no file actions");
  auto node = llb_internal::NewNode<FileNode>(StateAccess::OutputOf(*this), GetDir(),
                                              action.actions_, options, std::move(error));
  return StateAccess::WithOutput(*this, {node, 0});
}

}  // namespace kiln::llb
