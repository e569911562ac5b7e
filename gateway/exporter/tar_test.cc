#include "gateway/exporter/tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/exporter/test_tree.h"
#include "gtest/gtest.h"

namespace kiln::exporter {
namespace {

namespace fs = std::filesystem;

struct TarItem {
  std::string name;
  mode_t type = 0;
  mode_t perm = 0;
  int64_t uid = 0, gid = 0;
  bool has_owner_names = false;
  int64_t mtime = 0;
  long mtime_nsec = 0;
  std::string symlink, hardlink, data;
  unsigned rdev_major = 0, rdev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
  bool pax = false;  // had a PAX extended header
};

// Reads a tar back with libarchive (names taken as UTF-8).
std::vector<TarItem> ReadTar(const std::string& path) {
  locale_t utf8 = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr);
  locale_t old = ::uselocale(utf8);
  std::vector<TarItem> items;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_filename(a, path.c_str(), 10240), ARCHIVE_OK);
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    TarItem t;
    t.name = archive_entry_pathname(e);
    t.type = archive_entry_filetype(e);
    t.perm = archive_entry_perm(e);
    t.uid = archive_entry_uid(e);
    t.gid = archive_entry_gid(e);
    const char* uname = archive_entry_uname(e);
    const char* gname = archive_entry_gname(e);
    t.has_owner_names =
        (uname != nullptr && *uname != '\0') || (gname != nullptr && *gname != '\0');
    t.mtime = archive_entry_mtime(e);
    t.mtime_nsec = archive_entry_mtime_nsec(e);
    if (archive_entry_symlink(e) != nullptr) t.symlink = archive_entry_symlink(e);
    if (archive_entry_hardlink(e) != nullptr) t.hardlink = archive_entry_hardlink(e);
    t.rdev_major = archive_entry_rdevmajor(e);
    t.rdev_minor = archive_entry_rdevminor(e);
    const char* name;
    const void* value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      t.xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
    }
    t.pax = archive_format(a) == ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE;
    char buf[4096];
    for (la_ssize_t n; (n = archive_read_data(a, buf, sizeof(buf))) > 0;) t.data.append(buf, n);
    items.push_back(std::move(t));
  }
  archive_read_free(a);
  ::uselocale(old);
  ::freelocale(utf8);
  return items;
}

std::vector<std::string> Names(const std::vector<TarItem>& items) {
  std::vector<std::string> names;
  for (const TarItem& t : items) names.push_back(t.name);
  return names;
}

const TarItem* Find(const std::vector<TarItem>& items, const std::string& name) {
  for (const TarItem& t : items) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

class ExportTarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTestDir("tar");
    ASSERT_FALSE(dir_.empty());
  }

  // The tree most tests export.
  TestTree Sample(const std::string& name) {
    TestTree t(dir_ + "/" + name);
    t.Dir("a")
        .File("a/b.txt", "b\n")
        .File("a-b.txt", "ab\n")
        .Dir("bin")
        .File("bin/sh", "#!shell\n", 0755)
        .Owner("bin/sh", 1234, 5678)
        .Hardlink("bin/sh", "bin/sh-link")
        .Dir("empty", 0700)
        .Dir("etc")
        .Symlink("/etc/passwd", "etc/passwd-link")
        .Symlink("../bin/sh", "etc/rel")
        .Fifo("fifo", 0640)
        .File("setuid", "s", 04755);
    t.AllTimes(1500000000, 600000000);  // rounds up to ...001
    t.Time("a-b.txt", 1500000000, 400000000);
    return t;
  }

  std::string dir_;
};

TEST_F(ExportTarTest, WritesBuildKitShapedArchive) {
  TestTree t = Sample("root");
  ASSERT_TRUE(t.status().ok()) << t.status();
  const std::string out = dir_ + "/out.tar";
  ASSERT_TRUE(ExportTar(t.root(), out, {}).ok());
  std::vector<TarItem> items = ReadTar(out);

  // Depth-first by name bytes: "a/" and its children before "a-b.txt",
  // although '-' sorts before '/'; no entry for the root.
  EXPECT_EQ(Names(items), (std::vector<std::string>{
                              "a/", "a/b.txt", "a-b.txt", "bin/", "bin/sh", "bin/sh-link", "empty/",
                              "etc/", "etc/passwd-link", "etc/rel", "fifo", "setuid"}));
  for (const TarItem& i : items) {
    EXPECT_FALSE(i.has_owner_names) << i.name;
    EXPECT_FALSE(i.pax) << i.name;  // nothing here needs PAX records
    EXPECT_EQ(i.mtime_nsec, 0) << i.name;
  }
  const TarItem* sh = Find(items, "bin/sh");
  ASSERT_NE(sh, nullptr);
  EXPECT_EQ(sh->type, AE_IFREG);
  EXPECT_EQ(sh->perm, 0755u);
  EXPECT_EQ(sh->uid, 1234);
  EXPECT_EQ(sh->gid, 5678);
  EXPECT_EQ(sh->data, "#!shell\n");
  EXPECT_EQ(sh->mtime, 1500000001);                      // .6 rounds up, as Go's writer does
  EXPECT_EQ(Find(items, "a-b.txt")->mtime, 1500000000);  // .4 rounds down

  const TarItem* hard = Find(items, "bin/sh-link");
  EXPECT_EQ(hard->hardlink, "bin/sh");
  EXPECT_EQ(hard->data, "");
  EXPECT_EQ(Find(items, "etc/passwd-link")->symlink, "/etc/passwd");
  EXPECT_EQ(Find(items, "etc/passwd-link")->type, AE_IFLNK);
  EXPECT_EQ(Find(items, "etc/rel")->symlink, "../bin/sh");
  EXPECT_EQ(Find(items, "fifo")->type, AE_IFIFO);
  EXPECT_EQ(Find(items, "fifo")->perm, 0640u);
  EXPECT_EQ(Find(items, "setuid")->perm, 04755u);
  EXPECT_EQ(Find(items, "empty/")->type, AE_IFDIR);
  EXPECT_EQ(Find(items, "empty/")->perm, 0700u);
  // Plain ustar, not padded past the two end blocks.
  std::string raw = ReadAll(out);
  EXPECT_EQ(raw.substr(257, 8), std::string("ustar\0"
                                            "00",
                                            8));
  EXPECT_EQ(raw.size() % 512, 0u);
  EXPECT_EQ(raw.substr(raw.size() - 1024), std::string(1024, '\0'));
  EXPECT_NE(raw.substr(raw.size() - 1536, 512), std::string(512, '\0'));
}

TEST_F(ExportTarTest, OverlayLayerBecomesOciWhiteouts) {
  // An overlayfs upper dir: a deleted file (0:0 char device) and an opaque
  // directory, as the overlay snapshotter stores a step.
  std::string root = dir_ + "/layer";
  ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root + "/d").c_str(), 0755), 0);
  ASSERT_EQ(::mknod((root + "/d/gone").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  ASSERT_EQ(::mkdir((root + "/opq").c_str(), 0755), 0);
  ASSERT_EQ(::setxattr((root + "/opq").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  TarOptions opts;
  opts.oci_whiteouts = true;
  ASSERT_TRUE(ExportTar(root, dir_ + "/layer.tar", opts).ok());
  std::vector<TarItem> items = ReadTar(dir_ + "/layer.tar");
  EXPECT_EQ(Names(items),
            (std::vector<std::string>{"d/", "d/.wh.gone", "opq/", "opq/.wh..wh..opq"}));
  for (const TarItem& i : items) {
    EXPECT_NE(i.type, static_cast<mode_t>(AE_IFCHR)) << i.name;
    for (const auto& [k, v] : i.xattrs) EXPECT_NE(k, "trusted.overlay.opaque") << i.name;
  }
}

TEST_F(ExportTarTest, LongAndNonAsciiNamesUsePaxPathRecords) {
  TestTree t(dir_ + "/root");
  const std::string long_name = std::string(150, 'x');
  t.File(long_name, "1").File("na\xC3\xAFve.txt", "2").File("bad\xff", "3");
  ASSERT_TRUE(t.status().ok()) << t.status();
  ASSERT_TRUE(ExportTar(t.root(), dir_ + "/out.tar", {}).ok());
  std::vector<TarItem> items = ReadTar(dir_ + "/out.tar");
  EXPECT_EQ(Names(items), (std::vector<std::string>{"bad\xff", "na\xC3\xAFve.txt", long_name}));
  EXPECT_TRUE(items[1].pax);
  EXPECT_TRUE(items[2].pax);
  std::string raw = ReadAll(dir_ + "/out.tar");
  EXPECT_NE(raw.find("path=na\xC3\xAFve.txt\n"), std::string::npos);
}

TEST_F(ExportTarTest, ExportsKeptXattrsOnlyAsSchilyRecords) {
  TestTree t(dir_ + "/root");
  t.File("f", "x");
  ASSERT_TRUE(t.status().ok());
  if (!t.TrySetXattr("f", "user.kiln", "value")) GTEST_SKIP() << "no user xattrs here";
  bool overlay = t.TrySetXattr("f", "trusted.overlay.opaque", "y");
  bool label = t.TrySetXattr("f", "security.kiln-test", "label");
  bool caps = t.TrySetXattr("f", "security.capability",
                            std::string("\x01\x00\x00\x02", 4) + std::string(16, '\0'));
  ASSERT_TRUE(ExportTar(t.root(), dir_ + "/out.tar", {}).ok());
  std::vector<TarItem> items = ReadTar(dir_ + "/out.tar");
  ASSERT_EQ(items.size(), 1u);
  std::vector<std::string> names;
  for (const auto& [k, v] : items[0].xattrs) names.push_back(k);
  std::vector<std::string> want;
  if (caps) want.push_back("security.capability");
  want.push_back("user.kiln");
  EXPECT_EQ(names, want) << "overlay set: " << overlay << ", label set: " << label;
  std::string raw = ReadAll(dir_ + "/out.tar");
  EXPECT_NE(raw.find("SCHILY.xattr.user.kiln=value"), std::string::npos);
  EXPECT_EQ(raw.find("LIBARCHIVE.xattr"), std::string::npos);
}

TEST_F(ExportTarTest, DevicesKeepTheirNumbers) {
  TestTree t(dir_ + "/root");
  if (::mknod(t.Path("null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    GTEST_SKIP() << "cannot mknod here";
  }
  ASSERT_TRUE(ExportTar(t.root(), dir_ + "/out.tar", {}).ok());
  std::vector<TarItem> items = ReadTar(dir_ + "/out.tar");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].type, AE_IFCHR);
  EXPECT_EQ(items[0].rdev_major, 1u);
  EXPECT_EQ(items[0].rdev_minor, 3u);
}

TEST_F(ExportTarTest, SourceDateEpochMakesOutputByteIdentical) {
  TestTree a = Sample("a");
  TestTree b = Sample("b");
  a.AllTimes(1000, 0);
  b.AllTimes(2000000000, 123);
  ASSERT_TRUE(a.status().ok() && b.status().ok());
  ASSERT_TRUE(ExportTar(a.root(), dir_ + "/plain-a.tar", {}).ok());
  ASSERT_TRUE(ExportTar(b.root(), dir_ + "/plain-b.tar", {}).ok());
  EXPECT_NE(ReadAll(dir_ + "/plain-a.tar"), ReadAll(dir_ + "/plain-b.tar"));

  TarOptions opts;
  opts.source_date_epoch = Epoch{1234567890, EpochMode::kSetAll};
  ASSERT_TRUE(ExportTar(a.root(), dir_ + "/a.tar", opts).ok());
  ASSERT_TRUE(ExportTar(b.root(), dir_ + "/b.tar", opts).ok());
  EXPECT_EQ(ReadAll(dir_ + "/a.tar"), ReadAll(dir_ + "/b.tar"));
  for (const TarItem& i : ReadTar(dir_ + "/a.tar")) EXPECT_EQ(i.mtime, 1234567890) << i.name;
}

TEST_F(ExportTarTest, ClampModeOnlyLowersNewerTimes) {
  TestTree t(dir_ + "/root");
  t.File("old", "o").File("new", "n").Time("old", 100).Time("new", 5000);
  TarOptions opts;
  opts.source_date_epoch = Epoch{1000, EpochMode::kClampNewer};
  ASSERT_TRUE(ExportTar(t.root(), dir_ + "/out.tar", opts).ok());
  std::vector<TarItem> items = ReadTar(dir_ + "/out.tar");
  EXPECT_EQ(Find(items, "old")->mtime, 100);
  EXPECT_EQ(Find(items, "new")->mtime, 1000);
}

TEST_F(ExportTarTest, MissingParentFailsAndCreatesNothing) {
  TestTree t = Sample("root");
  absl::Status s = ExportTar(t.root(), dir_ + "/no/such/dir/out.tar", {});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_FALSE(fs::exists(dir_ + "/no"));
}

TEST_F(ExportTarTest, FailureLeavesExistingDestUntouched) {
  TestTree t = Sample("root");
  const std::string out = dir_ + "/out.tar";
  std::ofstream(out) << "previous";
  absl::Status s = ExportTar(dir_ + "/missing-root", out, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_EQ(ReadAll(out), "previous");
  EXPECT_EQ(ExportTar(t.Path("setuid"), out, {}).code(), absl::StatusCode::kInvalidArgument);
  // A directory in the way of the final rename.
  fs::create_directories(dir_ + "/taken.tar/inside");
  EXPECT_FALSE(ExportTar(t.root(), dir_ + "/taken.tar", {}).ok());
  EXPECT_TRUE(fs::exists(dir_ + "/taken.tar/inside"));
  EXPECT_EQ(List(dir_), (std::vector<std::string>{"out.tar", "root", "taken.tar"}));
}

TEST_F(ExportTarTest, WriteErrorMidwayLeavesNothingBehind) {
  // A file bigger than RLIMIT_FSIZE makes the archive write fail part-way.
  TestTree t(dir_ + "/root");
  t.File("big", std::string(256 << 10, 'z'));
  ASSERT_TRUE(t.status().ok());
  const std::string out = dir_ + "/out.tar";
  std::ofstream(out) << "previous";
  struct rlimit old;
  ::getrlimit(RLIMIT_FSIZE, &old);
  struct rlimit small = {64 << 10, old.rlim_max};
  sighandler_t prev = ::signal(SIGXFSZ, SIG_IGN);
  ::setrlimit(RLIMIT_FSIZE, &small);
  absl::Status s = ExportTar(t.root(), out, {});
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, prev);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_EQ(ReadAll(out), "previous");
  EXPECT_EQ(List(dir_), (std::vector<std::string>{"out.tar", "root"}));
}

TEST_F(ExportTarTest, DestInsideTreeIsLeftOut) {
  TestTree t = Sample("root");
  ASSERT_TRUE(ExportTar(t.root(), t.Path("self.tar"), {}).ok());
  std::vector<TarItem> items = ReadTar(t.Path("self.tar"));
  EXPECT_EQ(items.size(), 12u);
  EXPECT_EQ(Find(items, "self.tar"), nullptr);
}

TEST_F(ExportTarTest, DashWritesToStdout) {
  TestTree t = Sample("root");
  const std::string out = dir_ + "/stdout.tar";
  int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  fflush(stdout);
  int saved = ::dup(STDOUT_FILENO);
  ::dup2(fd, STDOUT_FILENO);
  absl::Status s = ExportTar(t.root(), "-", {});
  ::dup2(saved, STDOUT_FILENO);
  ::close(saved);
  ::close(fd);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_TRUE(ExportTar(t.root(), dir_ + "/file.tar", {}).ok());
  EXPECT_EQ(ReadAll(out), ReadAll(dir_ + "/file.tar"));
}

}  // namespace
}  // namespace kiln::exporter
