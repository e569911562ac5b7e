#include "gateway/contextsync/sync.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sdk/base/digest.h"

namespace kiln::contextsync {
namespace {

std::string Tmp(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  std::string d = absl::StrCat(t ? t : "/tmp", "/", name);
  std::string cmd = "rm -rf '" + d + "' '" + d + ".manifest'";
  (void)system(cmd.c_str());
  return d;
}

void Write(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// One round of the protocol: what the client sends and the daemon applies.
struct Round {
  size_t files_sent = 0;
  size_t bytes_sent = 0;
  std::string checksum;  // of the client's scan
};

Round Sync(const std::string& src, fsutil::ContextIndex* index, Mirror* mirror) {
  Round r;
  absl::StatusOr<fsutil::Filter> filter = fsutil::Filter::Create({}, {});
  EXPECT_TRUE(filter.ok());
  absl::StatusOr<fsutil::ContextScan> scan = fsutil::ScanContext(src, *filter, index);
  EXPECT_TRUE(scan.ok()) << scan.status();
  if (!scan.ok()) return r;
  r.checksum = scan->checksum;
  std::vector<WireEntry> entries = ToWire(*scan);
  absl::StatusOr<std::vector<std::string>> wants = mirror->Wants(entries);
  EXPECT_TRUE(wants.ok()) << wants.status();
  absl::StatusOr<std::map<std::string, std::string>> contents = ReadContents(src, entries, *wants);
  EXPECT_TRUE(contents.ok()) << contents.status();
  for (const auto& [rel, data] : *contents) {
    ++r.files_sent;
    r.bytes_sent += data.size();
  }
  absl::Status st = mirror->Apply(entries, *contents);
  EXPECT_TRUE(st.ok()) << st;
  return r;
}

// The mirror's own scan checksum: equal to the source's when every name,
// mode, owner, link and content matches.
std::string ChecksumOf(const std::string& dir) {
  absl::StatusOr<fsutil::Filter> filter = fsutil::Filter::Create({}, {});
  fsutil::ContextIndex index;
  absl::StatusOr<fsutil::ContextScan> scan = fsutil::ScanContext(dir, *filter, &index);
  EXPECT_TRUE(scan.ok()) << scan.status();
  return scan.ok() ? scan->checksum : "";
}

std::vector<WireEntry> EntriesOf(const std::string& dir) {
  absl::StatusOr<fsutil::Filter> filter = fsutil::Filter::Create({}, {});
  fsutil::ContextIndex index;
  absl::StatusOr<fsutil::ContextScan> scan = fsutil::ScanContext(dir, *filter, &index);
  EXPECT_TRUE(scan.ok()) << scan.status();
  return scan.ok() ? ToWire(*scan) : std::vector<WireEntry>{};
}

TEST(ContextSyncTest, SameAndUntouchedEntries) {
  std::string src = Tmp("same-src"), dst = Tmp("same-mirror");
  ASSERT_EQ(mkdir(src.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((src + "/sub").c_str(), 0755), 0);
  Write(src + "/sub/a", "a\n");
  Write(src + "/b", "b\n");
  fsutil::ContextIndex index;
  absl::StatusOr<Mirror> mirror = Mirror::Open(dst);
  ASSERT_TRUE(mirror.ok());
  EXPECT_FALSE(mirror->Same(EntriesOf(src)));
  Sync(src, &index, &*mirror);
  EXPECT_TRUE(mirror->Same(EntriesOf(src)));
  struct stat before, after;
  ASSERT_EQ(lstat((dst + "/sub/a").c_str(), &before), 0);

  // Only b's mode changes: a keeps its inode and ctime (the daemon's scan
  // index then keeps its digest), and b is not sent again.
  ASSERT_EQ(chmod((src + "/b").c_str(), 0600), 0);
  EXPECT_FALSE(mirror->Same(EntriesOf(src)));
  sleep(1);
  Round r = Sync(src, &index, &*mirror);
  EXPECT_EQ(r.files_sent, 0u);
  ASSERT_EQ(lstat((dst + "/sub/a").c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  EXPECT_EQ(before.st_ctim.tv_sec, after.st_ctim.tv_sec);
  EXPECT_EQ(before.st_ctim.tv_nsec, after.st_ctim.tv_nsec);
  ASSERT_EQ(lstat((dst + "/b").c_str(), &after), 0);
  EXPECT_EQ(after.st_mode & 07777, 0600u);
  EXPECT_TRUE(mirror->Same(EntriesOf(src)));
  EXPECT_EQ(ChecksumOf(dst), r.checksum);
  // A new mtime alone is a difference too (the local op keeps mtimes).
  struct timespec ts[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, (src + "/b").c_str(), ts, 0), 0);
  EXPECT_FALSE(mirror->Same(EntriesOf(src)));
  Sync(src, &index, &*mirror);
  ASSERT_EQ(lstat((dst + "/b").c_str(), &after), 0);
  EXPECT_EQ(after.st_mtim.tv_sec, 1000);
}

TEST(ContextSyncTest, ContentsArriveInPartsWithoutBeingHeld) {
  std::string src = Tmp("parts-src"), dst = Tmp("parts-mirror");
  ASSERT_EQ(mkdir(src.c_str(), 0755), 0);
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + i % 26);
  Write(src + "/big", big);
  Write(src + "/small", "s\n");
  std::vector<WireEntry> entries = EntriesOf(src);
  absl::StatusOr<Mirror> mirror = Mirror::Open(dst);
  ASSERT_TRUE(mirror.ok());
  // Interleaved parts of two files are refused, and nothing is kept.
  ASSERT_TRUE(mirror->Receive("big", big.substr(0, 10), false).ok());
  absl::Status st = mirror->Receive("small", "s\n", true);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(st.message(), "before the end of \"big\"")) << st;
  st = mirror->Apply(entries);
  EXPECT_TRUE(absl::StrContains(st.message(), "cut short")) << st;
  EXPECT_NE(access((dst + ".incoming").c_str(), F_OK), 0) << "staging removed";
  // In 1 MiB parts, as kilnd receives them.
  for (size_t off = 0; off < big.size(); off += 1 << 20) {
    ASSERT_TRUE(
        mirror->Receive("big", big.substr(off, 1 << 20), off + (1 << 20) >= big.size()).ok());
  }
  ASSERT_TRUE(mirror->Receive("small", "s\n", true).ok());
  ASSERT_TRUE(mirror->Apply(entries).ok());
  EXPECT_EQ(Read(dst + "/big"), big);
  EXPECT_EQ(ChecksumOf(dst), ChecksumOf(src));
  EXPECT_NE(access((dst + ".incoming").c_str(), F_OK), 0);
  // A part of a file that is then listed otherwise: refused at Apply.
  ASSERT_TRUE(mirror->Receive("small", "forged\n", true).ok());
  st = mirror->Apply(entries);
  EXPECT_TRUE(absl::StrContains(st.message(), "does not match its digest")) << st;
  EXPECT_EQ(Read(dst + "/small"), "s\n");
}

TEST(ContextSyncTest, AnUnchangedTenThousandFileContextSendsNoContents) {
  std::string src = Tmp("src"), dst = Tmp("mirror");
  ASSERT_EQ(mkdir(src.c_str(), 0755), 0);
  for (int d = 0; d < 100; ++d) {
    std::string sub = absl::StrCat(src, "/d", d);
    ASSERT_EQ(mkdir(sub.c_str(), 0755), 0);
    for (int f = 0; f < 100; ++f) Write(absl::StrCat(sub, "/f", f), absl::StrCat(d, "-", f, "\n"));
  }
  ASSERT_EQ(symlink("d1/f1", (src + "/link").c_str()), 0);
  fsutil::ContextIndex index;
  absl::StatusOr<Mirror> mirror = Mirror::Open(dst);
  ASSERT_TRUE(mirror.ok());

  Round first = Sync(src, &index, &*mirror);
  EXPECT_EQ(first.files_sent, 10000u);
  EXPECT_EQ(ChecksumOf(dst), first.checksum);

  Round second = Sync(src, &index, &*mirror);
  EXPECT_EQ(second.files_sent, 0u) << "an unchanged context sends no file contents";
  EXPECT_EQ(second.bytes_sent, 0u);

  // A daemon restart: the mirror comes back from its manifest.
  absl::StatusOr<Mirror> reopened = Mirror::Open(dst);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->size(), 10101u);  // 100 dirs, 10,000 files and a link
  Round third = Sync(src, &index, &*reopened);
  EXPECT_EQ(third.files_sent, 0u);

  // One file changed, one removed, a directory turned into a file.
  Write(src + "/d5/f5", "changed\n");
  ASSERT_EQ(unlink((src + "/d6/f6").c_str()), 0);
  ASSERT_EQ(system(("rm -r " + src + "/d7 && echo now-a-file > " + src + "/d7").c_str()), 0);
  Round fourth = Sync(src, &index, &*reopened);
  EXPECT_EQ(fourth.files_sent, 2u);  // d5/f5 and the new d7
  EXPECT_EQ(Read(dst + "/d5/f5"), "changed\n");
  EXPECT_NE(access((dst + "/d6/f6").c_str(), F_OK), 0);
  EXPECT_EQ(Read(dst + "/d7"), "now-a-file\n");
  EXPECT_EQ(ChecksumOf(dst), fourth.checksum);
}

TEST(ContextSyncTest, UnsafeEntryListsAreRefused) {
  std::string dst = Tmp("unsafe");
  absl::StatusOr<Mirror> mirror = Mirror::Open(dst);
  ASSERT_TRUE(mirror.ok());
  auto file = [](const std::string& rel) {
    WireEntry e;
    e.rel = rel;
    e.mode = S_IFREG | 0644;
    e.digest_hex = Sha256Hex("x");
    e.size = 1;
    return e;
  };
  auto dir = [](const std::string& rel) {
    WireEntry e;
    e.rel = rel;
    e.mode = S_IFDIR | 0755;
    return e;
  };
  WireEntry link;
  link.rel = "l";
  link.mode = S_IFLNK | 0777;
  link.link_target = "/etc";
  struct Case {
    std::vector<WireEntry> entries;
    const char* want;
  };
  for (const Case& c : std::vector<Case>{
           {{file("../x")}, "not a clean path"},
           {{file("/etc/passwd")}, "not a relative path"},
           {{dir("a"), file("a/../../x")}, "not a clean path"},
           {{file("a/x")}, "its directory is not listed before it"},
           {{link, file("l/passwd")}, "below something that is not a directory"},
           {{file("x"), file("x")}, "listed twice"},
           {{file("./x")}, "not a clean path"},
       }) {
    absl::Status st = mirror->Apply(c.entries, {{c.entries.back().rel, "x"}});
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << c.want;
    EXPECT_TRUE(absl::StrContains(st.message(), c.want)) << st;
  }
  // Content that is not what the entry says, or sent for an unlisted path.
  absl::Status st = mirror->Apply({file("x")}, {{"x", "not x"}});
  EXPECT_TRUE(absl::StrContains(st.message(), "does not match its digest")) << st;
  st = mirror->Apply({file("x")}, {{"x", "x"}, {"y", "x"}});
  EXPECT_TRUE(absl::StrContains(st.message(), "not listed")) << st;
  // A wanted file without content.
  st = mirror->Apply({file("x")}, {});
  EXPECT_TRUE(absl::StrContains(st.message(), "lacks its content")) << st;
  // Nothing was written outside the mirror.
  EXPECT_NE(access((dst + "/../x").c_str(), F_OK), 0);
}

TEST(ContextSyncTest, ACorruptManifestMeansStartingOver) {
  std::string src = Tmp("src2"), dst = Tmp("mirror2");
  ASSERT_EQ(mkdir(src.c_str(), 0755), 0);
  Write(src + "/a", "a\n");
  fsutil::ContextIndex index;
  absl::StatusOr<Mirror> mirror = Mirror::Open(dst);
  ASSERT_TRUE(mirror.ok());
  EXPECT_EQ(Sync(src, &index, &*mirror).files_sent, 1u);
  Write(dst + ".manifest", "garbage");
  absl::StatusOr<Mirror> again = Mirror::Open(dst);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Sync(src, &index, &*again).files_sent, 1u);  // sent again, not trusted
  EXPECT_EQ(Sync(src, &index, &*again).files_sent, 0u);
}

}  // namespace
}  // namespace kiln::contextsync
