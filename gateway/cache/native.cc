// The native (copying) snapshotter: the fallback where overlayfs is not
// available. Every chain has at most one layer, a whole tree.
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gateway/cache/fs.h"
#include "gateway/cache/snapshotter_internal.h"
#include "gateway/fsutil/copy.h"
#include "gateway/fsutil/diff.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/walk.h"
#include "sdk/base/status_macros.h"

namespace kiln::cache_internal {
namespace {

using cache::Chain;
using cache::Committed;

class DirView : public cache::Mount {
 public:
  explicit DirView(std::string path) : path_(std::move(path)) {}
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
};

class NativeActive : public cache::Active {
 public:
  NativeActive(std::string layers, std::string id, std::string dir)
      : layers_(std::move(layers)),
        id_(std::move(id)),
        dir_(std::move(dir)),
        path_(dir_ + "/upper") {}
  ~NativeActive() override {
    if (!committed_) RemoveAll(dir_).IgnoreError();
  }
  const std::string& path() const override { return path_; }
  absl::StatusOr<Committed> Commit() override {
    std::string dest = absl::StrCat(layers_, "/", id_);
    if (rename(path_.c_str(), dest.c_str()) != 0)
      return fsutil::ErrnoToStatus(errno, "commit layer", dest);
    committed_ = true;
    RemoveAll(dir_).IgnoreError();
    return Committed{{id_}, {{id_, DiskUsage(dest)}}};
  }

 private:
  std::string layers_, id_, dir_, path_;
  bool committed_ = false;
};

// Deletes the 0:0 character devices DiffTrees writes for removed paths: a
// whole-tree layer has no lower to hide anything in.
absl::Status DropWhiteouts(const std::string& root) {
  std::vector<std::string> whiteouts;
  KILN_RETURN_IF_ERROR(fsutil::Walk(root, nullptr, [&](const fsutil::Entry& e) {
    if (S_ISCHR(e.st.st_mode) && e.st.st_rdev == 0) whiteouts.push_back(root + "/" + e.rel);
    return absl::OkStatus();
  }));
  for (const std::string& p : whiteouts) {
    if (unlink(p.c_str()) != 0) return fsutil::ErrnoToStatus(errno, "remove", p);
  }
  return absl::OkStatus();
}

class NativeSnapshotter : public cache::Snapshotter {
 public:
  explicit NativeSnapshotter(std::string root) : root_(std::move(root)) {}
  std::string name() const override { return "native"; }

  absl::StatusOr<std::unique_ptr<cache::Mount>> View(const Chain& chain) override {
    if (chain.empty()) return std::make_unique<DirView>(root_ + "/empty");
    if (chain.size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("the native snapshotter cannot read a ", chain.size(),
                       "-layer result (was the cache written by the overlay snapshotter?)"));
    }
    return std::make_unique<DirView>(absl::StrCat(root_, "/layers/", chain[0]));
  }

  absl::StatusOr<std::unique_ptr<cache::Active>> Prepare(const Chain& parent) override {
    std::string id = NewId();
    std::string dir = absl::StrCat(root_, "/tmp/", id);
    KILN_RETURN_IF_ERROR(MakeDirs(dir));
    auto active = std::make_unique<NativeActive>(root_ + "/layers", id, dir);
    if (parent.empty()) {
      KILN_RETURN_IF_ERROR(MakeDirs(active->path()));
    } else {
      KILN_ASSIGN_OR_RETURN(auto view, View(parent));
      KILN_RETURN_IF_ERROR(fsutil::CopyTree(view->path(), active->path(), fsutil::CopyOptions{}));
    }
    return active;
  }

  absl::StatusOr<Committed> Merge(const std::vector<Chain>& inputs) override {
    KILN_ASSIGN_OR_RETURN(auto active, Prepare({}));
    for (const Chain& c : inputs) {
      KILN_ASSIGN_OR_RETURN(auto view, View(c));
      KILN_RETURN_IF_ERROR(fsutil::CopyTree(view->path(), active->path(), fsutil::CopyOptions{}));
    }
    return active->Commit();
  }

  absl::StatusOr<Committed> Diff(const Chain& lower, const Chain& upper) override {
    if (lower == upper) return Committed{};
    KILN_ASSIGN_OR_RETURN(auto lower_view, View(lower));
    KILN_ASSIGN_OR_RETURN(auto upper_view, View(upper));
    KILN_ASSIGN_OR_RETURN(auto active, Prepare({}));
    KILN_RETURN_IF_ERROR(fsutil::DiffTrees(lower_view->path(), upper_view->path(), active->path()));
    KILN_RETURN_IF_ERROR(DropWhiteouts(active->path()));
    return active->Commit();
  }

  std::string LayerDir(const std::string& id) const override {
    return absl::StrCat(root_, "/layers/", id);
  }

  absl::Status RemoveLayer(const std::string& id) override {
    return RemoveAll(absl::StrCat(root_, "/layers/", id));
  }

 private:
  std::string root_;
};

}  // namespace

std::unique_ptr<cache::Snapshotter> NewNativeSnapshotter(const std::string& root) {
  return std::make_unique<NativeSnapshotter>(root);
}

}  // namespace kiln::cache_internal
