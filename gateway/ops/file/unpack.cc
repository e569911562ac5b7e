// Docker-compatible archive extraction for ADD (attemptUnpackDockerCompatibility),
// on libarchive. Paths are confined the way moby's chrootarchive confines
// them: every entry is resolved inside the destination directory.
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/path.h"
#include "gateway/ops/file/internal/common.h"
#include "sdk/base/status_macros.h"

namespace kiln::ops_internal {
namespace {

struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
using Reader = std::unique_ptr<archive, ReadDeleter>;
using Writer = std::unique_ptr<archive, WriteDeleter>;

// A reader for tar, plain or with the compressions Docker accepts.
absl::StatusOr<Reader> OpenArchive(const std::string& path) {
  Reader r(archive_read_new());
  archive_read_support_filter_gzip(r.get());
  archive_read_support_filter_bzip2(r.get());
  archive_read_support_filter_xz(r.get());
  archive_read_support_filter_zstd(r.get());
  archive_read_support_format_tar(r.get());
  if (archive_read_open_filename(r.get(), path.c_str(), 64 * 1024) != ARCHIVE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("open archive ", path, ": ", archive_error_string(r.get())));
  }
  return r;
}

absl::Status ArchiveError(archive* a, std::string_view what, std::string_view name) {
  const char* msg = archive_error_string(a);
  return absl::InvalidArgumentError(absl::StrCat("unpack ", std::string(name), ": ",
                                                 std::string(what), ": ", msg ? msg : "error"));
}

// Rewrites the entry's paths to host paths inside `dest`, rejecting escapes.
absl::StatusOr<bool> Confine(archive_entry* e, const std::string& dest) {
  std::string name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
  std::string rel = fsutil::CleanPath(name);
  if (fsutil::EscapesRoot(rel)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unpack: entry ", name, " is outside of the destination"));
  }
  std::string clean = fsutil::CleanPath("/" + name);
  if (clean == "/") return false;  // the archive's root: keep the destination's metadata
  KILN_ASSIGN_OR_RETURN(std::string host, fsutil::ResolveInRoot(dest, clean, false));
  archive_entry_copy_pathname(e, host.c_str());
  if (const char* hl = archive_entry_hardlink(e)) {
    if (fsutil::EscapesRoot(fsutil::CleanPath(hl))) {
      return absl::InvalidArgumentError(
          absl::StrCat("unpack: invalid hardlink ", name, " -> ", hl));
    }
    KILN_ASSIGN_OR_RETURN(
        std::string target,
        fsutil::ResolveInRoot(dest, fsutil::CleanPath(std::string("/") + hl), false));
    archive_entry_copy_hardlink(e, target.c_str());
  }
  if (archive_entry_filetype(e) == AE_IFLNK && archive_entry_symlink(e) != nullptr) {
    std::string link = archive_entry_symlink(e);
    std::string dir = clean.substr(1, clean.rfind('/'));
    if (!link.empty() && link[0] != '/' && fsutil::EscapesRoot(dir + link)) {
      return absl::InvalidArgumentError(
          absl::StrCat("unpack: invalid symlink ", name, " -> ", link));
    }
  }
  return true;
}

absl::Status CopyData(archive* r, archive* w, const std::string& name) {
  for (;;) {
    const void* buf;
    size_t size;
    la_int64_t offset;
    int rc = archive_read_data_block(r, &buf, &size, &offset);
    if (rc == ARCHIVE_EOF) return absl::OkStatus();
    if (rc < ARCHIVE_WARN) return ArchiveError(r, "read", name);
    if (archive_write_data_block(w, buf, size, offset) < ARCHIVE_WARN) {
      return ArchiveError(w, "write", name);
    }
  }
}

}  // namespace

bool IsTarArchive(const std::string& src_host) {
  struct stat st;
  if (lstat(src_host.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  auto r = OpenArchive(src_host);
  if (!r.ok()) return false;
  archive_entry* e;
  int rc = archive_read_next_header(r->get(), &e);
  return rc == ARCHIVE_OK || rc == ARCHIVE_WARN;
}

absl::Status ExtractArchive(const std::string& src_host, const std::string& dest_host,
                            const std::optional<fsutil::Ownership>& owner) {
  KILN_ASSIGN_OR_RETURN(Reader r, OpenArchive(src_host));
  Writer w(archive_write_disk_new());
  archive_write_disk_set_options(w.get(), ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                              ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_OWNER);
  for (;;) {
    archive_entry* e;
    int rc = archive_read_next_header(r.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) return ArchiveError(r.get(), "read", src_host);
    std::string name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    KILN_ASSIGN_OR_RETURN(bool keep, Confine(e, dest_host));
    if (!keep) continue;
    if (owner) {
      archive_entry_set_uid(e, owner->uid);
      archive_entry_set_gid(e, owner->gid);
    }
    archive_entry_set_uname(e, nullptr);
    archive_entry_set_gname(e, nullptr);
    if (archive_write_header(w.get(), e) < ARCHIVE_WARN)
      return ArchiveError(w.get(), "create", name);
    if (archive_entry_size(e) > 0) KILN_RETURN_IF_ERROR(CopyData(r.get(), w.get(), name));
    if (archive_write_finish_entry(w.get()) < ARCHIVE_WARN) {
      return ArchiveError(w.get(), "finish", name);
    }
  }
  if (archive_write_close(w.get()) < ARCHIVE_WARN) return ArchiveError(w.get(), "close", src_host);
  return absl::OkStatus();
}

}  // namespace kiln::ops_internal
