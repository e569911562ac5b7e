#include "gateway/fsutil/walk.h"

#include <fcntl.h>

#include <cerrno>
#include <vector>

#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/internal/sys.h"
#include "gateway/fsutil/path.h"

namespace kiln::fsutil {
namespace {

using fsutil_internal::ListDir;
using fsutil_internal::ReadLinkAt;
using fsutil_internal::UniqueFd;

class Walker {
 public:
  Walker(const std::string& root, const Filter* filter, const WalkFn& fn)
      : root_(root), filter_(filter != nullptr && !filter->empty() ? filter : nullptr), fn_(fn) {}

  absl::Status WalkDir(int dirfd, const std::string& prefix, const Filter::State& state);

 private:
  struct Pending {
    Entry entry;
    bool emitted;
  };

  absl::Status Visit(int dirfd, const std::string& name, const std::string& rel,
                     const Filter::State& parent);
  absl::Status EmitPendingParents();

  const std::string& root_;
  const Filter* filter_;
  const WalkFn& fn_;
  std::vector<Pending> parents_;  // directories being walked, outermost first
};

absl::Status Walker::EmitPendingParents() {
  for (Pending& p : parents_) {
    if (p.emitted) continue;
    p.emitted = true;
    absl::Status s = fn_(p.entry);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Walker::Visit(int dirfd, const std::string& name, const std::string& rel,
                           const Filter::State& parent) {
  Entry e;
  if (fstatat(dirfd, name.c_str(), &e.st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoToStatus(errno, "lstat", JoinPath(root_, rel));
  }
  e.rel = rel;
  const bool is_dir = S_ISDIR(e.st.st_mode);
  Filter::Decision d;
  Filter::State state;
  if (filter_ != nullptr) d = filter_->Evaluate(rel, is_dir, parent, is_dir ? &state : nullptr);
  if (S_ISLNK(e.st.st_mode) && d.keep) {
    auto target = ReadLinkAt(dirfd, name.c_str(), JoinPath(root_, rel));
    if (!target.ok()) return target.status();
    e.link_target = *std::move(target);
  }
  if (d.keep) {
    absl::Status s = EmitPendingParents();
    if (!s.ok()) return s;
    s = fn_(e);
    if (!s.ok()) return s;
  }
  if (!is_dir || !d.descend) return absl::OkStatus();
  UniqueFd child(openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!child.valid()) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoToStatus(errno, "open", JoinPath(root_, rel));
  }
  parents_.push_back(Pending{std::move(e), d.keep});
  absl::Status s = WalkDir(child.get(), rel + "/", state);
  parents_.pop_back();
  return s;
}

absl::Status Walker::WalkDir(int dirfd, const std::string& prefix, const Filter::State& state) {
  auto names = ListDir(dirfd, JoinPath(root_, prefix));
  if (!names.ok()) return names.status();
  std::string rel = prefix;
  for (const std::string& name : *names) {
    rel.resize(prefix.size());
    rel += name;
    absl::Status s = Visit(dirfd, name, rel, state);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Walk(const std::string& root, const Filter* filter, const WalkFn& fn) {
  UniqueFd fd(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoToStatus(errno, "open", root);
  Walker w(root, filter, fn);
  return w.WalkDir(fd.get(), "", Filter::State());
}

}  // namespace kiln::fsutil
