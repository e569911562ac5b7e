// The overlay snapshotter (see snapshotter.h).
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/cache/fs.h"
#include "gateway/cache/snapshotter_internal.h"
#include "gateway/fsutil/diff.h"
#include "gateway/fsutil/errors.h"
#include "sdk/base/status_macros.h"

namespace kiln::cache_internal {
namespace {

using cache::Chain;
using cache::Committed;

// The mount option string must fit a page. Lower dirs are given relative to
// ROOT/layers (16-character ids), which allows about 230 layers; beyond this
// bound a chain is flattened.
constexpr size_t kMaxLowerDirs = 200;

// Mounts an overlay at `target`. Lower dirs are named relative to
// `layers_dir`, so the calling thread first gets a private working directory
// (unshare(CLONE_FS)) and moves into layers_dir; other threads are unaffected.
absl::Status MountOverlay(const std::string& layers_dir, const std::vector<std::string>& lowers,
                          const std::string& upper, const std::string& work,
                          const std::string& target) {
  thread_local bool fs_unshared = false;
  if (!fs_unshared) {
    if (unshare(CLONE_FS) != 0) return fsutil::ErrnoToStatus(errno, "unshare(CLONE_FS)", "");
    fs_unshared = true;
  }
  // Come back to where this thread was, so its relative paths keep working.
  int here = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (here < 0) return fsutil::ErrnoToStatus(errno, "open working directory", ".");
  if (chdir(layers_dir.c_str()) != 0) {
    int err = errno;
    close(here);
    return fsutil::ErrnoToStatus(err, "chdir", layers_dir);
  }
  std::string opts = absl::StrCat("lowerdir=", absl::StrJoin(lowers, ":"));
  if (!upper.empty()) absl::StrAppend(&opts, ",upperdir=", upper, ",workdir=", work);
  // Each layer must stand alone: no metadata-only copy-ups or redirects that
  // point into a lower layer, which may later sit under another chain.
  std::string strict = opts + ",index=off,metacopy=off,redirect_dir=off";
  int rc = mount("overlay", target.c_str(), "overlay", 0, strict.c_str());
  if (rc != 0 && errno == EINVAL) rc = mount("overlay", target.c_str(), "overlay", 0, opts.c_str());
  int err = errno;
  if (fchdir(here) != 0) chdir("/");
  close(here);
  if (rc != 0) return fsutil::ErrnoToStatus(err, "mount overlay at", target);
  return absl::OkStatus();
}

// Lower dirs for a chain, top first, as overlayfs wants them. A layer that
// appears twice only counts at its topmost place: it wins there either way.
std::vector<std::string> LowerDirs(const Chain& chain) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (seen.insert(*it).second) out.push_back(*it);
  }
  return out;
}

class OverlayMount : public cache::Mount {
 public:
  OverlayMount(std::string path, bool mounted) : path_(std::move(path)), mounted_(mounted) {}
  ~OverlayMount() override {
    if (!mounted_) return;
    Unmount(path_).IgnoreError();
    rmdir(path_.c_str());
  }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  bool mounted_;
};

class OverlaySnapshotter;

class OverlayActive : public cache::Active {
 public:
  OverlayActive(OverlaySnapshotter* s, Chain parent, std::string id, std::string dir, bool mounted)
      : s_(s),
        parent_(std::move(parent)),
        id_(std::move(id)),
        dir_(std::move(dir)),
        path_(mounted ? dir_ + "/mnt" : dir_ + "/upper"),
        mounted_(mounted) {}
  ~OverlayActive() override {
    if (mounted_) Unmount(dir_ + "/mnt").IgnoreError();
    if (!committed_) RemoveAll(dir_).IgnoreError();
  }
  const std::string& path() const override { return path_; }
  absl::StatusOr<Committed> Commit() override;

 private:
  OverlaySnapshotter* s_;
  Chain parent_;
  std::string id_, dir_, path_;
  bool mounted_;
  bool committed_ = false;
};

class OverlaySnapshotter : public cache::Snapshotter {
 public:
  explicit OverlaySnapshotter(std::string root) : root_(std::move(root)) {}
  std::string name() const override { return "overlay"; }
  std::string layers() const { return root_ + "/layers"; }
  std::string tmp() const { return root_ + "/tmp"; }

  absl::StatusOr<std::unique_ptr<cache::Mount>> View(const Chain& chain) override {
    if (chain.empty()) return std::make_unique<OverlayMount>(root_ + "/empty", false);
    std::vector<std::string> lowers = LowerDirs(chain);
    if (lowers.size() > kMaxLowerDirs) {
      return absl::ResourceExhaustedError(absl::StrCat("a result of ", lowers.size(),
                                                       " layers is more than overlayfs can stack (",
                                                       kMaxLowerDirs, ")"));
    }
    if (lowers.size() == 1) lowers.push_back("../empty");  // overlayfs wants two
    std::string target = absl::StrCat(tmp(), "/view-", NewId());
    if (mkdir(target.c_str(), 0755) != 0) return fsutil::ErrnoToStatus(errno, "mkdir", target);
    absl::Status st = MountOverlay(layers(), lowers, "", "", target);
    if (!st.ok()) {
      rmdir(target.c_str());
      return st;
    }
    return std::make_unique<OverlayMount>(target, true);
  }

  absl::StatusOr<std::unique_ptr<cache::Active>> Prepare(const Chain& parent) override {
    std::string id = NewId();
    std::string dir = absl::StrCat(tmp(), "/", id);
    for (const char* sub : {"/upper", "/work", "/mnt"}) {
      KILN_RETURN_IF_ERROR(MakeDirs(dir + sub));
    }
    bool mounted = !parent.empty();
    auto active = std::make_unique<OverlayActive>(this, parent, id, dir, mounted);
    if (mounted) {
      std::vector<std::string> lowers = LowerDirs(parent);
      if (lowers.size() > kMaxLowerDirs) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "a result of ", lowers.size(), " layers is more than overlayfs can stack"));
      }
      KILN_RETURN_IF_ERROR(
          MountOverlay(layers(), lowers, dir + "/upper", dir + "/work", dir + "/mnt"));
    }
    return active;
  }

  absl::StatusOr<Committed> Merge(const std::vector<Chain>& inputs) override {
    Committed out;
    for (const Chain& c : inputs) out.chain.insert(out.chain.end(), c.begin(), c.end());
    return out;
  }

  absl::StatusOr<Committed> Diff(const Chain& lower, const Chain& upper) override {
    if (lower.size() <= upper.size() && std::equal(lower.begin(), lower.end(), upper.begin())) {
      return Committed{Chain(upper.begin() + lower.size(), upper.end()), {}};
    }
    KILN_ASSIGN_OR_RETURN(auto lower_view, View(lower));
    KILN_ASSIGN_OR_RETURN(auto upper_view, View(upper));
    KILN_ASSIGN_OR_RETURN(auto active, Prepare({}));
    KILN_RETURN_IF_ERROR(fsutil::DiffTrees(lower_view->path(), upper_view->path(), active->path()));
    return active->Commit();
  }

  std::string LayerDir(const std::string& id) const override {
    return absl::StrCat(root_, "/layers/", id);
  }

  absl::Status RemoveLayer(const std::string& id) override {
    return RemoveAll(absl::StrCat(layers(), "/", id));
  }

 private:
  std::string root_;
};

absl::StatusOr<Committed> OverlayActive::Commit() {
  if (mounted_) {
    KILN_RETURN_IF_ERROR(Unmount(dir_ + "/mnt"));
    mounted_ = false;
  }
  std::string dest = absl::StrCat(s_->layers(), "/", id_);
  std::string upper = dir_ + "/upper";
  if (rename(upper.c_str(), dest.c_str()) != 0)
    return fsutil::ErrnoToStatus(errno, "commit layer", dest);
  committed_ = true;
  RemoveAll(dir_).IgnoreError();
  Committed out;
  out.chain = parent_;
  out.chain.push_back(id_);
  out.new_layers.push_back({id_, DiskUsage(dest)});
  return out;
}

}  // namespace

std::unique_ptr<cache::Snapshotter> NewOverlaySnapshotter(const std::string& root) {
  return std::make_unique<OverlaySnapshotter>(root);
}

absl::Status ProbeOverlay(const std::string& root) {
  std::string dir = absl::StrCat(root, "/tmp/probe-", NewId());
  for (const char* sub : {"/l1", "/l2", "/upper", "/work", "/mnt"}) {
    KILN_RETURN_IF_ERROR(MakeDirs(dir + sub));
  }
  absl::Status st = MountOverlay(dir, {"l2", "l1"}, dir + "/upper", dir + "/work", dir + "/mnt");
  if (st.ok()) Unmount(dir + "/mnt").IgnoreError();
  RemoveAll(dir).IgnoreError();
  return st;
}

}  // namespace kiln::cache_internal
