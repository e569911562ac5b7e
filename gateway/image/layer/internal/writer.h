// The filesystem side of applying a layer: one decoded tar entry at a time,
// confined to the destination directory. Not a public API; not thread-safe.
#ifndef KILN_GATEWAY_IMAGE_LAYER_INTERNAL_WRITER_H_
#define KILN_GATEWAY_IMAGE_LAYER_INTERNAL_WRITER_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gateway/image/layer/layer.h"

namespace kiln::image_internal {

// One tar entry, decoded from libarchive.
struct Entry {
  std::string name;  // as in the archive
  mode_t type = 0;   // S_IFREG, S_IFDIR, ... (ignored for hard links)
  mode_t perm = 0;   // 07777 bits
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_ns = 0;
  int64_t atime_ns = 0;
  bool hardlink = false;
  std::string link;  // symlink or hard-link target
  unsigned rdev_major = 0;
  unsigned rdev_minor = 0;
  int64_t size = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// Writes the content of the current regular-file entry to the open `fd`.
using ContentFn = std::function<absl::Status(int fd)>;

class Writer {
 public:
  Writer(std::string dest, const image::ApplyOptions& opt, image::LayerStats* stats);

  // Applies `e`; `content` is called once for a regular file.
  absl::Status Apply(const Entry& e, const ContentFn& content);
  // Sets the times of the directories applied, once nothing else will be
  // written into them.
  absl::Status Finish();

 private:
  struct Target {
    std::string parent;  // host path of the resolved parent directory
    std::string base;    // final component, never followed
    std::string host;    // parent + "/" + base
  };
  struct DirTimes {
    std::string host;
    int64_t atime_ns;
    int64_t mtime_ns;
  };

  absl::Status EntryError(const Entry& e, std::string_view what) const;
  // Resolves the parent of `rel` ("/a/b") inside dest_.
  absl::StatusOr<Target> Resolve(const Entry& e, const std::string& rel) const;
  absl::Status EnsureParent(const Entry& e, const Target& t) const;
  absl::Status ApplyWhiteout(const Entry& e, const Target& t);
  void MarkUnpacked(const std::string& host);
  absl::Status ClearOpaque(const std::string& dir);
  absl::Status Create(const Entry& e, const Target& t, const ContentFn& content, bool* created);
  absl::Status CreateHardlink(const Entry& e, const Target& t);
  absl::Status CreateDevice(const Entry& e, const Target& t, bool* created);
  absl::Status SetMetadata(const Entry& e, const Target& t);
  absl::Status SetXattrs(const Entry& e, const Target& t);

  std::string dest_;
  image::ApplyOptions opt_;
  image::LayerStats* stats_;
  bool root_;  // running with euid 0
  // Host paths written by this layer: an opaque marker keeps them.
  std::unordered_set<std::string> unpacked_;
  std::vector<DirTimes> dirs_;
};

}  // namespace kiln::image_internal

#endif  // KILN_GATEWAY_IMAGE_LAYER_INTERNAL_WRITER_H_
