// Reading a layer: libarchive decompresses (a "raw" reader with the one
// filter the magic number calls for) and a second reader parses the tar from
// the decompressed bytes, which pass through a SHA-256 on the way: the diff ID
// comes out of the same single pass that writes the files.
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/errors.h"
#include "gateway/image/layer/internal/writer.h"
#include "gateway/image/layer/layer.h"
#include "sdk/base/digest.h"
#include "sdk/base/status_macros.h"

namespace kiln::image {
namespace {

using image_internal::Entry;

constexpr size_t kBlock = 128 * 1024;

struct ReadDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using Reader = std::unique_ptr<archive, ReadDeleter>;

// The byte pipeline: source -> (decompressor) -> hash -> tar parser.
class Stream {
 public:
  Stream(const ReadFn& read, std::string name) : read_(read), name_(std::move(name)) {}

  // Reads the first bytes and sets up the decompressor they call for.
  absl::StatusOr<Compression> Open();
  // The tar reader over the decompressed bytes.
  absl::StatusOr<Reader> OpenTar();
  // Hashes whatever the tar reader left (end-of-archive padding) and returns
  // the diff ID.
  absl::StatusOr<std::string> Drain();
  // The error of the last failed read, or DataLoss with libarchive's message.
  absl::Status Error(archive* a, std::string_view what) const;
  int64_t tar_bytes() const { return tar_bytes_; }

 private:
  static la_ssize_t SourceCallback(archive*, void* self, const void** buf);
  static la_ssize_t TarCallback(archive*, void* self, const void** buf);
  // Next bytes of the source (the peeked prefix first); 0 at EOF, -1 on error.
  la_ssize_t ReadSource(char* buf, size_t size);
  // Next decompressed bytes, hashed; 0 at EOF, -1 on error.
  la_ssize_t ReadPlain(char* buf, size_t size);

  const ReadFn& read_;
  std::string name_;
  std::string prefix_;  // peeked bytes not yet handed on
  Reader decompressor_;
  Sha256 hash_;
  int64_t tar_bytes_ = 0;
  absl::Status error_;
  std::vector<char> source_buf_ = std::vector<char>(kBlock);
  std::vector<char> tar_buf_ = std::vector<char>(kBlock);
};

la_ssize_t Stream::ReadSource(char* buf, size_t size) {
  if (!prefix_.empty()) {
    size_t n = std::min(size, prefix_.size());
    prefix_.copy(buf, n);
    prefix_.erase(0, n);
    return static_cast<la_ssize_t>(n);
  }
  absl::StatusOr<size_t> n = read_(buf, size);
  if (!n.ok()) {
    error_ = n.status();
    return -1;
  }
  return static_cast<la_ssize_t>(*n);
}

la_ssize_t Stream::SourceCallback(archive*, void* self, const void** buf) {
  auto* s = static_cast<Stream*>(self);
  *buf = s->source_buf_.data();
  return s->ReadSource(s->source_buf_.data(), s->source_buf_.size());
}

la_ssize_t Stream::ReadPlain(char* buf, size_t size) {
  la_ssize_t n;
  if (decompressor_ == nullptr) {
    n = ReadSource(buf, size);
  } else {
    n = archive_read_data(decompressor_.get(), buf, size);
    if (n < 0 && error_.ok()) error_ = Error(decompressor_.get(), "decompress");
  }
  if (n > 0) {
    hash_.Update(std::string_view(buf, n));
    tar_bytes_ += n;
  }
  return n < 0 ? -1 : n;
}

la_ssize_t Stream::TarCallback(archive*, void* self, const void** buf) {
  auto* s = static_cast<Stream*>(self);
  *buf = s->tar_buf_.data();
  return s->ReadPlain(s->tar_buf_.data(), s->tar_buf_.size());
}

absl::Status Stream::Error(archive* a, std::string_view what) const {
  if (!error_.ok()) return error_;
  const char* msg = a != nullptr ? archive_error_string(a) : nullptr;
  return absl::DataLossError(absl::StrCat("layer ", name_, ": ", std::string(what), ": ",
                                          msg != nullptr ? msg : "corrupt stream"));
}

absl::StatusOr<Compression> Stream::Open() {
  while (prefix_.size() < 16) {
    absl::StatusOr<size_t> n = read_(source_buf_.data(), 16 - prefix_.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    prefix_.append(source_buf_.data(), *n);
  }
  auto c = DetectCompression(prefix_);
  if (!c.ok())
    return absl::Status(c.status().code(),
                        absl::StrCat("layer ", name_, ": ", c.status().message()));
  if (*c == Compression::kNone) return c;
  decompressor_.reset(archive_read_new());
  archive* a = decompressor_.get();
  if (*c == Compression::kGzip) archive_read_support_filter_gzip(a);
  if (*c == Compression::kZstd) archive_read_support_filter_zstd(a);
  archive_read_support_format_raw(a);
  archive_entry* e;
  if (archive_read_open(a, this, nullptr, &Stream::SourceCallback, nullptr) != ARCHIVE_OK ||
      archive_read_next_header(a, &e) != ARCHIVE_OK) {
    return Error(a, absl::StrCat("open ", std::string(CompressionName(*c)), " stream"));
  }
  return c;
}

absl::StatusOr<Reader> Stream::OpenTar() {
  Reader r(archive_read_new());
  archive_read_support_format_tar(r.get());
  archive_read_support_format_empty(r.get());  // a 0-byte layer, as Go's tar reader allows
  if (archive_read_open(r.get(), this, nullptr, &Stream::TarCallback, nullptr) != ARCHIVE_OK) {
    return Error(r.get(), "read tar");
  }
  return r;
}

absl::StatusOr<std::string> Stream::Drain() {
  for (;;) {
    la_ssize_t n = ReadPlain(tar_buf_.data(), tar_buf_.size());
    if (n == 0) break;
    if (n < 0) return Error(nullptr, "read");
  }
  return hash_.Digest();
}

absl::Status ArchiveInt(archive_entry* ae, la_int64_t v, const char* what, uint32_t* out,
                        std::string_view layer) {
  if (v < 0 || v > 0xffffffffLL) {
    const char* name = archive_entry_pathname(ae);
    return absl::InvalidArgumentError(absl::StrCat("layer ", std::string(layer), ": entry \"",
                                                   name ? name : "", "\": invalid ", what, " ", v));
  }
  *out = static_cast<uint32_t>(v);
  return absl::OkStatus();
}

// A name from libarchive: its form in the process locale, else (a UTF-8 pax
// name the C locale cannot represent) the UTF-8 bytes as they are.
std::string Text(const char* local, const char* utf8) {
  if (local != nullptr) return local;
  return utf8 != nullptr ? utf8 : "";
}

absl::StatusOr<Entry> Decode(archive_entry* ae, std::string_view layer) {
  Entry e;
  e.name = Text(archive_entry_pathname(ae), archive_entry_pathname_utf8(ae));
  e.type = archive_entry_filetype(ae);
  e.perm = archive_entry_perm(ae) & 07777;
  KILN_RETURN_IF_ERROR(ArchiveInt(ae, archive_entry_uid(ae), "uid", &e.uid, layer));
  KILN_RETURN_IF_ERROR(ArchiveInt(ae, archive_entry_gid(ae), "gid", &e.gid, layer));
  if (archive_entry_mtime_is_set(ae)) {
    e.mtime_ns = archive_entry_mtime(ae) * 1000000000LL + archive_entry_mtime_nsec(ae);
  }
  e.atime_ns = e.mtime_ns;
  if (archive_entry_atime_is_set(ae)) {
    e.atime_ns = archive_entry_atime(ae) * 1000000000LL + archive_entry_atime_nsec(ae);
  }
  if (archive_entry_hardlink(ae) != nullptr || archive_entry_hardlink_utf8(ae) != nullptr) {
    e.hardlink = true;
    e.link = Text(archive_entry_hardlink(ae), archive_entry_hardlink_utf8(ae));
  } else {
    e.link = Text(archive_entry_symlink(ae), archive_entry_symlink_utf8(ae));
  }
  e.rdev_major = archive_entry_rdevmajor(ae);
  e.rdev_minor = archive_entry_rdevminor(ae);
  e.size = archive_entry_size(ae);
  archive_entry_xattr_reset(ae);
  const char* key;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(ae, &key, &value, &size) == ARCHIVE_OK) {
    // libarchive reports an attribute once per pax record naming it
    // (SCHILY.xattr and LIBARCHIVE.xattr); the last one wins.
    std::string v(static_cast<const char*>(value), size);
    auto same = std::find_if(e.xattrs.begin(), e.xattrs.end(),
                             [&](const auto& kv) { return kv.first == key; });
    if (same != e.xattrs.end()) {
      same->second = std::move(v);
    } else {
      e.xattrs.emplace_back(key, std::move(v));
    }
  }
  return e;
}

// Copies the current entry's data to `fd`, keeping holes of sparse entries.
absl::Status WriteContent(archive* a, Stream& stream, const Entry& e, int fd) {
  for (;;) {
    const void* buf;
    size_t size;
    la_int64_t offset;
    int r = archive_read_data_block(a, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return stream.Error(a, absl::StrCat("read entry \"", e.name, "\""));
    const char* p = static_cast<const char*>(buf);
    while (size > 0) {
      ssize_t n = pwrite(fd, p, size, offset);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fsutil::ErrnoToStatus(errno, "write", e.name);
      p += n;
      offset += n;
      size -= static_cast<size_t>(n);
    }
  }
  if (ftruncate(fd, e.size) != 0) return fsutil::ErrnoToStatus(errno, "truncate", e.name);
  return absl::OkStatus();
}

absl::Status ApplyEntries(archive* a, Stream& stream, image_internal::Writer& writer,
                          const std::string& layer) {
  for (;;) {
    archive_entry* ae;
    int r = archive_read_next_header(a, &ae);
    if (r == ARCHIVE_EOF) return absl::OkStatus();
    if (r < ARCHIVE_WARN) return stream.Error(a, "read tar header");
    KILN_ASSIGN_OR_RETURN(Entry e, Decode(ae, layer));
    KILN_RETURN_IF_ERROR(writer.Apply(e, [&](int fd) { return WriteContent(a, stream, e, fd); }));
  }
}

}  // namespace

absl::StatusOr<LayerStats> ApplyLayer(const ReadFn& read, const std::string& dest,
                                      const ApplyOptions& opt) {
  std::string layer = opt.name.empty() ? "layer" : opt.name;
  struct stat st;
  if (stat(dest.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(
        absl::StrCat("layer ", layer, ": destination ", dest, " is not a directory"));
  }
  LayerStats stats;
  Stream stream(read, layer);
  KILN_ASSIGN_OR_RETURN(stats.compression, stream.Open());
  KILN_ASSIGN_OR_RETURN(Reader tar, stream.OpenTar());
  image_internal::Writer writer(dest, opt, &stats);
  KILN_RETURN_IF_ERROR(ApplyEntries(tar.get(), stream, writer, layer));
  KILN_RETURN_IF_ERROR(writer.Finish());
  KILN_ASSIGN_OR_RETURN(stats.diff_id, stream.Drain());
  stats.tar_bytes = stream.tar_bytes();
  return stats;
}

absl::StatusOr<LayerStats> ApplyLayerFd(int fd, const std::string& dest, const ApplyOptions& opt) {
  ReadFn read = [fd](char* buf, size_t size) -> absl::StatusOr<size_t> {
    for (;;) {
      ssize_t n = ::read(fd, buf, size);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return fsutil::ErrnoToStatus(errno, "read", "layer");
    }
  };
  return ApplyLayer(read, dest, opt);
}

absl::StatusOr<LayerStats> ApplyLayerFile(const std::string& path, const std::string& dest,
                                          const ApplyOptions& opt) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fsutil::ErrnoToStatus(errno, "open", path);
  ApplyOptions named = opt;
  if (named.name.empty()) named.name = path;
  absl::StatusOr<LayerStats> stats = ApplyLayerFd(fd, dest, named);
  close(fd);
  return stats;
}

}  // namespace kiln::image
