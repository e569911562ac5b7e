#include "gateway/cache/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "gateway/cache/fs.h"
#include "gateway/fsutil/errors.h"
#include "sdk/base/digest.h"
#include "sdk/base/status_macros.h"

namespace kiln::cache {
namespace {

// ROOT/snapshotter names the snapshotter that wrote the layers; empty when
// the root is new.
std::string ReadPinnedKind(const std::string& root) {
  std::ifstream in(root + "/snapshotter");
  std::string kind;
  std::getline(in, kind);
  return kind;
}

absl::Status WritePinnedKind(const std::string& root, const std::string& kind) {
  std::string path = root + "/snapshotter";
  // Each writer has its own temporary file: processes opening a new root
  // at once all write the same kind, and each rename is atomic.
  std::string tmp = absl::StrCat(path, ".", cache_internal::NewId(), ".tmp");
  std::ofstream out(tmp);
  out << kind << "\n";
  out.close();
  if (!out || rename(tmp.c_str(), path.c_str()) != 0) {
    return fsutil::ErrnoToStatus(errno, "write", path);
  }
  return absl::OkStatus();
}

class FileKeyLock : public KeyLock {
 public:
  explicit FileKeyLock(int fd) : fd_(fd) {}
  ~FileKeyLock() override { close(fd_); }  // closing releases the flock

 private:
  int fd_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<KeyLock>> Cache::LockKey(const std::string& key) {
  std::string path = absl::StrCat(root_, "/keys/", DigestHex(key));
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fsutil::ErrnoToStatus(errno, "open", path);
  while (flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      int err = errno;
      close(fd);
      return fsutil::ErrnoToStatus(err, "lock", path);
    }
  }
  return std::make_unique<FileKeyLock>(fd);
}

absl::StatusOr<std::unique_ptr<Cache>> Cache::Open(const CacheOptions& options) {
  std::unique_ptr<Cache> c(new Cache());
  c->root_ = options.root;
  KILN_RETURN_IF_ERROR(cache_internal::MakeDirs(c->root_, 0700));
  // Openers take turns (ROOT/open.lock), so that deciding who sweeps,
  // sweeping, and settling on the shared lock never interleave: flock's
  // exclusive-to-shared conversion is not atomic.
  std::string open_lock = c->root_ + "/open.lock";
  int open_fd = open(open_lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (open_fd < 0) return fsutil::ErrnoToStatus(errno, "open", open_lock);
  struct CloseOnExit {
    int fd;
    ~CloseOnExit() { close(fd); }
  } open_guard{open_fd};
  if (flock(open_fd, LOCK_EX) != 0) return fsutil::ErrnoToStatus(errno, "lock", open_lock);
  std::string lock = c->root_ + "/lock";
  c->lock_fd_ = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (c->lock_fd_ < 0) return fsutil::ErrnoToStatus(errno, "open", lock);
  bool alone = flock(c->lock_fd_, LOCK_EX | LOCK_NB) == 0;
  // Others hold the root: share it (waiting out a prune).
  if (!alone && flock(c->lock_fd_, LOCK_SH) != 0) return fsutil::ErrnoToStatus(errno, "lock", lock);

  KILN_ASSIGN_OR_RETURN(c->index_, CacheIndex::Open(c->root_ + "/kiln.db"));
  if (alone) {
    // Nobody else is using the root: whatever is in tmp/ or not in the index
    // was left by a process that died mid-build.
    KILN_ASSIGN_OR_RETURN(std::vector<std::string> layers, c->index_->AllLayers());
    KILN_RETURN_IF_ERROR(SweepRoot(c->root_, layers));
    KILN_RETURN_IF_ERROR(cache_internal::RemoveAll(c->root_ + "/content/ingest"));
  }
  KILN_RETURN_IF_ERROR(cache_internal::MakeDirs(c->root_ + "/keys", 0700));
  std::string pinned = ReadPinnedKind(c->root_);
  const std::string& want = options.snapshotter;
  if (!pinned.empty() && want != "auto" && want != pinned) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cache root ", c->root_, " was written by the ", pinned, " snapshotter; cannot use ", want,
        " (use another --root, or prune it with --all first)"));
  }
  // A root that already holds layers was probed when it was created.
  KILN_ASSIGN_OR_RETURN(c->snapshotter_, NewSnapshotter(c->root_, pinned.empty() ? want : pinned,
                                                        /*probe=*/pinned.empty()));
  if (pinned.empty()) KILN_RETURN_IF_ERROR(WritePinnedKind(c->root_, c->snapshotter_->name()));
  KILN_ASSIGN_OR_RETURN(c->content_, NewDiskContentStore(c->root_ + "/content"));
  c->cache_mounts_ = std::make_unique<CacheMounts>(c->root_);
  if (flock(c->lock_fd_, LOCK_SH) != 0) return fsutil::ErrnoToStatus(errno, "lock", lock);
  return c;
}

Cache::~Cache() {
  if (lock_fd_ >= 0) close(lock_fd_);
}

absl::StatusOr<PruneReport> Cache::Prune(int64_t keep_bytes, absl::Duration wait,
                                         bool cache_mounts) {
  absl::Time deadline = absl::Now() + wait;
  while (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (absl::Now() > deadline) {
      return absl::UnavailableError(
          absl::StrCat("cache root ", root_, " is in use by another kiln process; try again"));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  PruneReport report;
  KILN_ASSIGN_OR_RETURN(std::vector<RecordUsage> before, index_->Usage());
  KILN_ASSIGN_OR_RETURN(int64_t bytes_before, index_->TotalLayerSize());
  absl::StatusOr<std::vector<std::string>> dropped = index_->Prune(keep_bytes);
  if (dropped.ok()) {
    for (const std::string& id : *dropped) {
      absl::Status st = snapshotter_->RemoveLayer(id);
      if (st.ok()) st = cache_internal::RemoveAll(LayerMetaDir(id));
      if (!st.ok()) dropped = st;
      if (!st.ok()) break;
    }
  }
  // Key lock files are empty flock targets; with every other process gone,
  // none is held, so they can all go.
  if (dropped.ok()) {
    absl::Status st = cache_internal::RemoveAll(root_ + "/keys");
    if (st.ok()) st = cache_internal::MakeDirs(root_ + "/keys", 0700);
    if (st.ok() && cache_mounts) {
      st = cache_mounts_->RemoveAll();
    } else if (st.ok()) {
      absl::StatusOr<int> n = cache_mounts_->RemoveSurplus();
      if (n.ok()) report.cache_mount_instances_removed = *n;
      st = n.status();
    }
    if (!st.ok()) dropped = st;
  }
  flock(lock_fd_, LOCK_SH);
  KILN_RETURN_IF_ERROR(dropped.status());
  KILN_ASSIGN_OR_RETURN(std::vector<RecordUsage> after, index_->Usage());
  KILN_ASSIGN_OR_RETURN(int64_t bytes_after, index_->TotalLayerSize());
  report.records_removed = static_cast<int>(before.size() - after.size());
  report.layers_removed = static_cast<int>(dropped->size());
  report.bytes_freed = bytes_before - bytes_after;
  return report;
}

}  // namespace kiln::cache
