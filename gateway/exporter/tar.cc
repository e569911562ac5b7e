#include "gateway/exporter/tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "gateway/exporter/internal/staging.h"
#include "gateway/exporter/internal/tree_walk.h"
#include "sdk/base/status_macros.h"

namespace kiln::exporter {
namespace {

using exporter_internal::ErrnoError;
using exporter_internal::TreeEntry;

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

absl::Status ArchiveError(archive* a, const std::string& what) {
  const char* msg = archive_error_string(a);
  return absl::InternalError(absl::StrCat("tar: ", what, ": ", msg != nullptr ? msg : "failed"));
}

// Go's archive/tar rounds mtimes to the nearest second unless told a format.
time_t RoundToSecond(struct timespec t) { return t.tv_sec + (t.tv_nsec >= 500000000 ? 1 : 0); }

mode_t TarType(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return AE_IFDIR;
    case S_IFLNK:
      return AE_IFLNK;
    case S_IFIFO:
      return AE_IFIFO;
    case S_IFCHR:
      return AE_IFCHR;
    case S_IFBLK:
      return AE_IFBLK;
    default:
      return AE_IFREG;  // regular files, and sockets as empty files
  }
}

// Makes this thread's LC_CTYPE UTF-8 while alive. libarchive converts names
// from the locale's charset into PAX records; under the "C" locale any
// non-ASCII name would be flagged hdrcharset=BINARY, where Go (BuildKit)
// writes plain UTF-8. Thread-local (uselocale), so other threads are safe.
class Utf8Locale {
 public:
  Utf8Locale() : loc_(::newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr)) {
    if (loc_ != nullptr) old_ = ::uselocale(loc_);
  }
  ~Utf8Locale() {
    if (loc_ == nullptr) return;
    ::uselocale(old_);
    ::freelocale(loc_);
  }

 private:
  locale_t loc_;
  locale_t old_ = nullptr;
};

class TarWriter : public exporter_internal::TreeVisitor {
 public:
  TarWriter(archive* a, const TarOptions& opts) : a_(a), opts_(opts) {}

  absl::Status Enter(const TreeEntry& e) override {
    if (opts_.oci_whiteouts && S_ISCHR(e.st.st_mode) && e.st.st_rdev == 0) {
      size_t slash = e.path.rfind('/');
      size_t base = slash == std::string::npos ? 0 : slash + 1;
      return WriteMarker(e, e.path.substr(0, base) + ".wh." + e.path.substr(base));
    }
    std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
    Fill(e, entry.get());
    if (archive_write_header(a_, entry.get()) < ARCHIVE_WARN) {
      return ArchiveError(a_, absl::StrCat("cannot write the header of ", e.path));
    }
    if (HasData(e)) return CopyData(e);
    if (opts_.oci_whiteouts && S_ISDIR(e.st.st_mode) && IsOpaque(e.full_path)) {
      return WriteMarker(e, e.path + "/.wh..wh..opq");
    }
    return absl::OkStatus();
  }

 private:
  static bool IsOpaque(const std::string& dir) {
    char v[2] = {0};
    return ::lgetxattr(dir.c_str(), "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y';
  }

  // An empty regular file named `name`, as OCI whiteouts are written, with
  // the time of the entry it stands for.
  absl::Status WriteMarker(const TreeEntry& e, const std::string& name) {
    std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
    archive_entry_copy_pathname(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0);
    archive_entry_set_size(entry.get(), 0);
    archive_entry_set_mtime(entry.get(),
                            RoundToSecond(ApplyEpoch(e.st.st_mtim, opts_.source_date_epoch)), 0);
    if (archive_write_header(a_, entry.get()) < ARCHIVE_WARN) {
      return ArchiveError(a_, absl::StrCat("cannot write the header of ", name));
    }
    return absl::OkStatus();
  }

  static bool HasData(const TreeEntry& e) {
    return S_ISREG(e.st.st_mode) && e.hardlink_to.empty() && e.st.st_size > 0;
  }

  void Fill(const TreeEntry& e, archive_entry* ae) const {
    const bool dir = S_ISDIR(e.st.st_mode);
    archive_entry_copy_pathname(ae, dir ? (e.path + "/").c_str() : e.path.c_str());
    archive_entry_set_filetype(ae, TarType(e.st.st_mode));
    archive_entry_set_perm(ae, e.st.st_mode & 07777);
    archive_entry_set_uid(ae, e.st.st_uid);
    archive_entry_set_gid(ae, e.st.st_gid);
    struct timespec mtime = ApplyEpoch(e.st.st_mtim, opts_.source_date_epoch);
    if (opts_.exact_times) {
      archive_entry_set_mtime(ae, mtime.tv_sec, mtime.tv_nsec);
    } else {
      archive_entry_set_mtime(ae, RoundToSecond(mtime), 0);
    }
    archive_entry_set_size(ae, HasData(e) ? e.st.st_size : 0);
    if (S_ISLNK(e.st.st_mode)) archive_entry_copy_symlink(ae, e.symlink_target.c_str());
    if (!e.hardlink_to.empty()) archive_entry_copy_hardlink(ae, e.hardlink_to.c_str());
    if (S_ISCHR(e.st.st_mode) || S_ISBLK(e.st.st_mode)) {
      archive_entry_set_rdevmajor(ae, major(e.st.st_rdev));
      archive_entry_set_rdevminor(ae, minor(e.st.st_rdev));
    }
    for (const auto& [name, value] : e.xattrs) {
      archive_entry_xattr_add_entry(ae, name.c_str(), value.data(), value.size());
    }
  }

  // Streams exactly st_size bytes: the header already promised that many.
  absl::Status CopyData(const TreeEntry& e) {
    int fd = ::open(e.full_path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return ErrnoError("tar: cannot open", e.full_path);
    std::unique_ptr<char[]> buf(new char[1 << 16]);
    absl::Status status;
    for (off_t left = e.st.st_size; left > 0 && status.ok();) {
      ssize_t n = ::read(fd, buf.get(), std::min<off_t>(left, 1 << 16));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = ErrnoError("tar: cannot read", e.full_path);
      } else if (n == 0) {
        status = absl::InternalError(absl::StrCat("tar: ", e.full_path, " shrank during export"));
      } else if (archive_write_data(a_, buf.get(), n) != n) {
        status = ArchiveError(a_, absl::StrCat("cannot write the data of ", e.path));
      } else {
        left -= n;
      }
    }
    ::close(fd);
    return status;
  }

  archive* a_;
  const TarOptions& opts_;
};

absl::Status WriteTar(const std::string& root, int fd, const TarOptions& opts,
                      const exporter_internal::WalkOptions& walk) {
  Utf8Locale utf8;
  std::unique_ptr<archive, ArchiveDeleter> a(archive_write_new());
  // pax_restricted: plain ustar headers unless a field needs a PAX record,
  // like Go's writer; xattrs only as SCHILY.xattr (no LIBARCHIVE.xattr).
  // exact_times: full pax, which records sub-second mtimes.
  if ((opts.exact_times ? archive_write_set_format_pax(a.get())
                        : archive_write_set_format_pax_restricted(a.get())) != ARCHIVE_OK ||
      archive_write_set_format_option(a.get(), "pax", "xattrheader", "SCHILY") != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK ||
      archive_write_open_fd(a.get(), fd) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "cannot start the archive");
  }
  TarWriter writer(a.get(), opts);
  KILN_RETURN_IF_ERROR(exporter_internal::WalkTree(root, writer, walk));
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return ArchiveError(a.get(), "cannot finish the archive");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ExportTarToFd(const std::string& root, int fd, const TarOptions& opts) {
  return WriteTar(root, fd, opts, {});
}

absl::Status ExportTar(const std::string& root, const std::string& dest_file,
                       const TarOptions& opts) {
  if (dest_file == "-") return ExportTarToFd(root, STDOUT_FILENO, opts);
  KILN_ASSIGN_OR_RETURN(exporter_internal::TempFile tmp,
                        exporter_internal::TempFile::CreateBeside(dest_file));
  struct stat st;
  if (::fstat(tmp.fd(), &st) != 0) return ErrnoError("tar: cannot stat", tmp.path());
  exporter_internal::WalkOptions walk;
  walk.skip = std::make_pair(st.st_dev, st.st_ino);
  KILN_RETURN_IF_ERROR(WriteTar(root, tmp.fd(), opts, walk));
  return tmp.Commit(dest_file);
}

}  // namespace kiln::exporter
