// Fast scanning and transfer of a local build context (BuildKit's `local`
// source with includepattern/excludepattern).
//
// ScanContext walks the context once, reusing the content digest of every
// file whose size, mtime, ctime, inode, device and mode are unchanged since
// the last scan (kept in a ContextIndex persisted by the caller), so an
// unchanged 10,000-file context rescans in milliseconds. Because ctime cannot
// be set from user space, a file rewritten with the same size and a restored
// mtime is still re-hashed. Files whose ctime was too close to the moment
// they were hashed are re-hashed on the next scan ("racily clean", as git
// does), since a coarse filesystem clock could hide a later change.
//
// Keep one ContextIndex per context directory (records are keyed by relative
// path). ContextIndex is a plain value, not thread-safe; one scan uses it at a
// time.
#ifndef KILN_GATEWAY_FSUTIL_CONTEXT_H_
#define KILN_GATEWAY_FSUTIL_CONTEXT_H_

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway/fsutil/filter.h"

namespace kiln::fsutil {

// What a previous scan learnt about one regular file.
struct ContextRecord {
  int64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t ino = 0;
  uint64_t dev = 0;
  uint32_t mode = 0;  // st_mode
  uint32_t uid = 0;
  uint32_t gid = 0;
  bool trusted = false;    // false: re-hash next time (racily clean)
  std::string digest_hex;  // sha256 of the content, 64 hex characters
};

// Where the ContextIndex of directory `dir`, shared as local `name`, lives
// below `state_dir`. The local source and kilnd's client both keep it there,
// so a directory one of them scanned is not re-hashed by the other.
std::string ContextIndexPath(const std::string& state_dir, const std::string& dir,
                             const std::string& name);

class ContextIndex {
 public:
  // Reads an index written by Save. A missing, truncated or corrupt file
  // gives an empty index: the scan then just hashes everything.
  static ContextIndex Load(const std::string& path);

  // Writes the index atomically (temporary file, fsync, rename, fsync of the
  // directory). Errors: system errors as ErrnoToStatus.
  absl::Status Save(const std::string& path) const;

  const ContextRecord* Find(std::string_view rel) const;
  void Put(std::string rel, ContextRecord record);
  void Reserve(size_t n) { records_.reserve(n); }
  size_t size() const { return records_.size(); }
  // True when the last ScanContext changed anything worth saving.
  bool dirty() const { return dirty_; }
  void set_dirty(bool dirty) { dirty_ = dirty; }

 private:
  std::string Encode() const;

  absl::flat_hash_map<std::string, ContextRecord> records_;
  bool dirty_ = false;
};

struct ContextEntry {
  std::string rel;          // "a/b", relative to the context directory
  struct stat st;           // lstat at scan time
  std::string link_target;  // symlinks
  std::string digest_hex;   // regular files: sha256 of the content
};

struct ContextScan {
  std::vector<ContextEntry> entries;  // Walk order
  // "sha256:<hex>" over the entries (see checksum.h for the fields; never
  // times, and not the context directory itself).
  std::string checksum;
  size_t files_hashed = 0;    // digests computed by this scan
  size_t digests_reused = 0;  // digests taken from the index
};

// Scans `dir` through `filter`, updating `index` (records of files no longer
// present are dropped). Errors: a missing `dir` is NotFound; system errors as
// ErrnoToStatus.
absl::StatusOr<ContextScan> ScanContext(const std::string& dir, const Filter& filter,
                                        ContextIndex* index);

// Copies the entries of `scan` from `src_dir` into `dest_dir` (created if
// needed), preserving metadata and hard links between scanned files. Each
// file is checked against its scan-time size, mtime and inode before and
// after its bytes are copied. Errors: a file that changed is Aborted
// "context changed during transfer: REL"; system errors as ErrnoToStatus.
absl::Status MaterializeContext(const ContextScan& scan, const std::string& src_dir,
                                const std::string& dest_dir);

}  // namespace kiln::fsutil

#endif  // KILN_GATEWAY_FSUTIL_CONTEXT_H_
