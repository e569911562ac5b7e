// The native (copying) snapshotter: the fallback where overlayfs is not
// available. Every chain has at most one layer, a whole tree.
//
// A diff's layer is a tree too, but what the diff deleted must still act
// when the diff is merged onto something: its deletions (the whiteouts and
// opaque directories fsutil::DiffTrees writes) are taken out of the tree and
// kept beside the layer in `<layer>.deletions`, which Merge applies before
// copying that input's files.
#include <errno.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/cache/fs.h"
#include "gateway/cache/snapshotter_internal.h"
#include "gateway/fsutil/copy.h"
#include "gateway/fsutil/diff.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/path.h"
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

// What a diff deleted: "w" paths removed, "o" directories whose earlier
// contents went (opaque). Stored NUL-separated ("w\0rel\0o\0rel\0...").
struct Deletion {
  char kind;  // 'w' or 'o'
  std::string rel;
};

// Takes the 0:0 character devices and opaque markers DiffTrees writes out
// of `root` (a whole-tree layer has no lower to hide anything in) and
// returns them.
absl::StatusOr<std::vector<Deletion>> TakeDeletions(const std::string& root) {
  std::vector<Deletion> out;
  KILN_RETURN_IF_ERROR(fsutil::Walk(root, nullptr, [&](const fsutil::Entry& e) {
    std::string path = root + "/" + e.rel;
    if (S_ISCHR(e.st.st_mode) && e.st.st_rdev == 0) {
      out.push_back({'w', e.rel});
    } else if (S_ISDIR(e.st.st_mode)) {
      char v = 0;
      if (lgetxattr(path.c_str(), "trusted.overlay.opaque", &v, 1) == 1 && v == 'y') {
        out.push_back({'o', e.rel});
      }
    }
    return absl::OkStatus();
  }));
  for (const Deletion& d : out) {
    std::string p = root + "/" + d.rel;
    if (d.kind == 'w' && unlink(p.c_str()) != 0) return fsutil::ErrnoToStatus(errno, "remove", p);
    if (d.kind == 'o' && lremovexattr(p.c_str(), "trusted.overlay.opaque") != 0) {
      return fsutil::ErrnoToStatus(errno, "removexattr", p);
    }
  }
  return out;
}

absl::Status WriteDeletions(const std::string& path, const std::vector<Deletion>& dels) {
  std::string data;
  for (const Deletion& d : dels)
    absl::StrAppend(&data, std::string(1, d.kind), std::string(1, '\0'), d.rel,
                    std::string(1, '\0'));
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << data;
    if (!out) return absl::InternalError("cannot write " + tmp);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) return fsutil::ErrnoToStatus(errno, "rename", tmp);
  return absl::OkStatus();
}

// The deletions kept beside a layer; none when it has no file.
std::vector<Deletion> ReadDeletions(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string data = ss.str();
  std::vector<Deletion> out;
  size_t at = 0;
  while (at < data.size()) {
    size_t k = data.find('\0', at);
    size_t r = k == std::string::npos ? k : data.find('\0', k + 1);
    if (r == std::string::npos || k != at + 1) break;
    out.push_back({data[at], data.substr(k + 1, r - k - 1)});
    at = r + 1;
  }
  return out;
}

// Applies `dels` to the tree at `root`: the paths go, opaque directories
// lose what they held.
absl::Status ApplyDeletions(const std::string& root, const std::vector<Deletion>& dels) {
  for (const Deletion& d : dels) {
    if (fsutil::EscapesRoot(d.rel)) continue;  // never written by Diff; never followed
    std::string p = root + "/" + d.rel;
    if (d.kind == 'w') {
      KILN_RETURN_IF_ERROR(RemoveAll(p));
      continue;
    }
    struct stat st;
    if (lstat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    std::vector<std::string> children;
    KILN_RETURN_IF_ERROR(fsutil::Walk(p, nullptr, [&](const fsutil::Entry& e) {
      if (e.rel.find('/') == std::string::npos) children.push_back(p + "/" + e.rel);
      return absl::OkStatus();
    }));
    for (const std::string& c : children) KILN_RETURN_IF_ERROR(RemoveAll(c));
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
      if (!c.empty()) {
        KILN_RETURN_IF_ERROR(ApplyDeletions(active->path(), ReadDeletions(DeletionsPath(c[0]))));
      }
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
    KILN_ASSIGN_OR_RETURN(std::vector<Deletion> dels, TakeDeletions(active->path()));
    KILN_ASSIGN_OR_RETURN(Committed committed, active->Commit());
    if (!dels.empty()) {
      KILN_RETURN_IF_ERROR(WriteDeletions(DeletionsPath(committed.chain[0]), dels));
    }
    return committed;
  }

  std::string LayerDir(const std::string& id) const override {
    return absl::StrCat(root_, "/layers/", id);
  }

  absl::Status RemoveLayer(const std::string& id) override {
    ::unlink(DeletionsPath(id).c_str());
    return RemoveAll(absl::StrCat(root_, "/layers/", id));
  }

 private:
  std::string DeletionsPath(const std::string& id) const {
    return absl::StrCat(root_, "/layers/", id, ".deletions");
  }

  std::string root_;
};

}  // namespace

std::unique_ptr<cache::Snapshotter> NewNativeSnapshotter(const std::string& root) {
  return std::make_unique<NativeSnapshotter>(root);
}

}  // namespace kiln::cache_internal
