#include "gateway/image/layer/testing.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include "gtest/gtest.h"

namespace kiln::image::testing {
namespace {

la_ssize_t Append(archive*, void* out, const void* buf, size_t size) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), size);
  return static_cast<la_ssize_t>(size);
}

mode_t TypeOf(char type) {
  switch (type) {
    case 'd':
      return AE_IFDIR;
    case 'l':
      return AE_IFLNK;
    case 'c':
      return AE_IFCHR;
    case 'b':
      return AE_IFBLK;
    case 'p':
      return AE_IFIFO;
    default:
      return AE_IFREG;
  }
}

archive* NewWriter(std::string* out, Compression c, bool tar) {
  archive* a = archive_write_new();
  if (tar) {
    archive_write_set_format_pax_restricted(a);
    // Names are bytes: the C locale cannot convert non-ASCII ones to UTF-8.
    archive_write_set_format_option(a, "pax", "hdrcharset", "BINARY");
  } else {
    archive_write_set_format_raw(a);
  }
  if (c == Compression::kGzip) archive_write_add_filter_gzip(a);
  if (c == Compression::kZstd) archive_write_add_filter_zstd(a);
  archive_write_set_bytes_in_last_block(a, 1);
  EXPECT_EQ(archive_write_open(a, out, nullptr, &Append, nullptr), ARCHIVE_OK)
      << archive_error_string(a);
  return a;
}

void WriteEntry(archive* a, const TarEntry& t) {
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, t.name.c_str());
  if (t.type == 'h') {
    archive_entry_set_hardlink(e, t.link.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
  } else {
    archive_entry_set_filetype(e, TypeOf(t.type));
  }
  if (t.type == 'l') archive_entry_set_symlink(e, t.link.c_str());
  archive_entry_set_perm(e, t.perm);
  archive_entry_set_uid(e, t.uid);
  archive_entry_set_gid(e, t.gid);
  archive_entry_set_mtime(e, t.mtime, 0);
  archive_entry_set_rdevmajor(e, t.major);
  archive_entry_set_rdevminor(e, t.minor);
  archive_entry_set_size(e, t.type == 'f' ? static_cast<la_int64_t>(t.data.size()) : 0);
  for (const auto& [k, v] : t.xattrs)
    archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
  EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK) << t.name << ": " << archive_error_string(a);
  if (t.type == 'f' && !t.data.empty()) {
    EXPECT_EQ(archive_write_data(a, t.data.data(), t.data.size()),
              static_cast<la_ssize_t>(t.data.size()));
  }
  archive_entry_free(e);
}

}  // namespace

TarEntry File(std::string name, std::string data, mode_t perm) {
  TarEntry t;
  t.name = std::move(name);
  t.data = std::move(data);
  t.perm = perm;
  return t;
}

TarEntry Dir(std::string name, mode_t perm) {
  TarEntry t;
  t.name = std::move(name);
  t.type = 'd';
  t.perm = perm;
  return t;
}

TarEntry Symlink(std::string name, std::string target) {
  TarEntry t;
  t.name = std::move(name);
  t.type = 'l';
  t.link = std::move(target);
  t.perm = 0777;
  return t;
}

TarEntry Hardlink(std::string name, std::string target) {
  TarEntry t;
  t.name = std::move(name);
  t.type = 'h';
  t.link = std::move(target);
  return t;
}

std::string MakeTar(const std::vector<TarEntry>& entries, Compression c) {
  std::string out;
  archive* a = NewWriter(&out, c, true);
  for (const TarEntry& t : entries) WriteEntry(a, t);
  EXPECT_EQ(archive_write_close(a), ARCHIVE_OK) << archive_error_string(a);
  archive_write_free(a);
  return out;
}

std::string Compress(const std::string& data, Compression c) {
  std::string out;
  archive* a = NewWriter(&out, c, false);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "data");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
  if (!data.empty()) archive_write_data(a, data.data(), data.size());
  archive_entry_free(e);
  EXPECT_EQ(archive_write_close(a), ARCHIVE_OK) << archive_error_string(a);
  archive_write_free(a);
  return out;
}

}  // namespace kiln::image::testing
