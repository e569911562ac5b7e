#include "gateway/fsutil/context.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/copy.h"
#include "gateway/fsutil/errors.h"
#include "gateway/fsutil/internal/sys.h"
#include "gateway/fsutil/path.h"
#include "gateway/fsutil/tree.h"
#include "gateway/fsutil/walk.h"
#include "sdk/base/digest.h"

namespace kiln::fsutil {
namespace {

using fsutil_internal::HashEntry;
using fsutil_internal::HashFd;
using fsutil_internal::Nanos;
using fsutil_internal::UniqueFd;

// Longer than any filesystem timestamp granularity we expect (ext4 and
// tmpfs use the kernel tick, at most 10ms).
constexpr int64_t kRacyWindowNs = 50'000'000;

int64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return Nanos(ts);
}

bool Reusable(const ContextRecord& r, const struct stat& st) {
  return r.trusted && r.size == st.st_size && r.mtime_ns == Nanos(st.st_mtim) &&
         r.ctime_ns == Nanos(st.st_ctim) && r.ino == st.st_ino && r.dev == st.st_dev &&
         r.mode == st.st_mode && r.digest_hex.size() == 64;
}

// Hashes the file and returns its record, built from the stat of the open
// descriptor so that the digest and the metadata describe the same file.
absl::StatusOr<ContextRecord> HashRecord(const std::string& path, struct stat* st) {
  int64_t start = NowNs();
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return ErrnoToStatus(errno, "open", path);
  if (fstat(fd.get(), st) != 0) return ErrnoToStatus(errno, "fstat", path);
  auto hex = HashFd(fd.get(), path);
  if (!hex.ok()) return hex.status();
  ContextRecord r;
  r.size = st->st_size;
  r.mtime_ns = Nanos(st->st_mtim);
  r.ctime_ns = Nanos(st->st_ctim);
  r.ino = st->st_ino;
  r.dev = st->st_dev;
  r.mode = st->st_mode;
  r.uid = st->st_uid;
  r.gid = st->st_gid;
  r.trusted = r.ctime_ns + kRacyWindowNs < start;
  r.digest_hex = *std::move(hex);
  return r;
}

absl::Status CheckUnchanged(const ContextEntry& e, const struct stat& now) {
  if (now.st_size != e.st.st_size || Nanos(now.st_mtim) != Nanos(e.st.st_mtim) ||
      now.st_ino != e.st.st_ino) {
    return absl::AbortedError(absl::StrCat("context changed during transfer: ", e.rel));
  }
  return absl::OkStatus();
}

// Copies one regular file, checking it against the scan before and after.
absl::Status CopyCheckedFile(const ContextEntry& e, const std::string& src,
                             const std::string& dst) {
  UniqueFd in(open(src.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!in.valid()) {
    if (errno == ENOENT || errno == ELOOP) {
      return absl::AbortedError(absl::StrCat("context changed during transfer: ", e.rel));
    }
    return ErrnoToStatus(errno, "open", src);
  }
  struct stat st;
  if (fstat(in.get(), &st) != 0) return ErrnoToStatus(errno, "fstat", src);
  absl::Status s = CheckUnchanged(e, st);
  if (!s.ok()) return s;
  if (unlink(dst.c_str()) != 0 && errno != ENOENT) return ErrnoToStatus(errno, "unlink", dst);
  UniqueFd out(open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!out.valid()) return ErrnoToStatus(errno, "create", dst);
  s = CopyFileContent(in.get(), out.get(), st.st_size, src);
  if (!s.ok()) return s;
  if (fstat(in.get(), &st) != 0) return ErrnoToStatus(errno, "fstat", src);
  return CheckUnchanged(e, st);
}

absl::Status MaterializeEntry(const ContextEntry& e, const std::string& src, const std::string& dst,
                              std::map<std::pair<dev_t, ino_t>, std::string>* links) {
  CopyOptions opt;
  if (S_ISDIR(e.st.st_mode)) {
    if (mkdir(dst.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoToStatus(errno, "mkdir", dst);
    return absl::OkStatus();  // metadata once the contents are in
  }
  if (!S_ISREG(e.st.st_mode)) return CopyFile(src, dst, opt);
  if (e.st.st_nlink > 1) {
    auto [it, inserted] = links->emplace(std::make_pair(e.st.st_dev, e.st.st_ino), dst);
    if (!inserted) {
      if (unlink(dst.c_str()) != 0 && errno != ENOENT) return ErrnoToStatus(errno, "unlink", dst);
      if (link(it->second.c_str(), dst.c_str()) != 0) return ErrnoToStatus(errno, "link", dst);
      return absl::OkStatus();
    }
  }
  absl::Status s = CopyCheckedFile(e, src, dst);
  if (!s.ok()) return s;
  return ApplyMetadata(src, e.st, dst, opt);
}

}  // namespace

absl::StatusOr<ContextScan> ScanContext(const std::string& dir, const Filter& filter,
                                        ContextIndex* index) {
  ContextScan scan;
  ContextIndex next;
  // The previous scan is the best guess of this one's size.
  next.Reserve(index->size());
  scan.entries.reserve(index->size() + index->size() / 8 + 16);
  Sha256 tree;
  absl::Status s = Walk(dir, &filter, [&](const Entry& e) {
    ContextEntry ce{e.rel, e.st, e.link_target, ""};
    if (S_ISREG(e.st.st_mode)) {
      const ContextRecord* old = index->Find(e.rel);
      if (old != nullptr && Reusable(*old, e.st)) {
        ce.digest_hex = old->digest_hex;
        next.Put(e.rel, *old);
        ++scan.digests_reused;
      } else {
        auto rec = HashRecord(JoinPath(dir, e.rel), &ce.st);
        if (!rec.ok()) return rec.status();
        ce.digest_hex = rec->digest_hex;
        next.Put(e.rel, *std::move(rec));
        ++scan.files_hashed;
      }
    }
    HashEntry(tree, ce.rel, ce.st, ce.link_target, ce.digest_hex, nullptr);
    scan.entries.push_back(std::move(ce));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  next.set_dirty(scan.files_hashed > 0 || next.size() != index->size());
  *index = std::move(next);
  scan.checksum = tree.Digest();
  return scan;
}

absl::Status MaterializeContext(const ContextScan& scan, const std::string& src_dir,
                                const std::string& dest_dir) {
  auto made = MkdirAll(dest_dir, 0755, std::nullopt, std::nullopt);
  if (!made.ok()) return made.status();
  std::map<std::pair<dev_t, ino_t>, std::string> links;
  std::vector<const ContextEntry*> dirs;
  for (const ContextEntry& e : scan.entries) {
    absl::Status s =
        MaterializeEntry(e, JoinPath(src_dir, e.rel), JoinPath(dest_dir, e.rel), &links);
    if (!s.ok()) return s;
    if (S_ISDIR(e.st.st_mode)) dirs.push_back(&e);
  }
  CopyOptions opt;
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    const ContextEntry& e = **it;
    absl::Status s = ApplyMetadata(JoinPath(src_dir, e.rel), e.st, JoinPath(dest_dir, e.rel), opt);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace kiln::fsutil
