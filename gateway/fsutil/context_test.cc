#include "gateway/fsutil/context.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gateway/fsutil/checksum.h"
#include "gateway/fsutil/testing.h"
#include "gtest/gtest.h"

namespace kiln::fsutil {
namespace {

using testing::ListTree;
using testing::Lstat;
using testing::MakeTempDir;
using testing::ReadFile;
using testing::SetMtime;
using testing::WriteFile;

// Lets freshly written files age past the racy window so that their
// digests become reusable.
void Age() { std::this_thread::sleep_for(std::chrono::milliseconds(80)); }

class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = MakeTempDir();
    ctx_ = base_ + "/ctx";
    WriteFile(ctx_ + "/Dockerfile", "FROM scratch\n");
    WriteFile(ctx_ + "/src/a.c", "aaaa");
    WriteFile(ctx_ + "/src/b.c", "bbbb");
    WriteFile(ctx_ + "/node_modules/big.js", "junk");
    Age();
  }
  ContextScan Scan(const Filter& f = Filter()) {
    auto s = ScanContext(ctx_, f, &index_);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *std::move(s) : ContextScan();
  }
  std::string base_, ctx_;
  ContextIndex index_;
};

TEST_F(ContextTest, ScanListsEntriesWithDigests) {
  ContextScan s = Scan();
  std::vector<std::string> rels;
  for (const auto& e : s.entries) rels.push_back(e.rel);
  EXPECT_EQ(rels, (std::vector<std::string>{"Dockerfile", "node_modules", "node_modules/big.js",
                                            "src", "src/a.c", "src/b.c"}));
  EXPECT_EQ(s.entries[4].digest_hex,
            "61be55a8e2f6b4e172338bddf184d6dbee29c98853e0a0485ecee7f27b9af0b4");  // sha256("aaaa")
  EXPECT_TRUE(s.entries[3].digest_hex.empty());
  EXPECT_EQ(s.files_hashed, 4u);
  EXPECT_EQ(s.checksum.substr(0, 7), "sha256:");
}

TEST_F(ContextTest, RescanReusesDigests) {
  ContextScan first = Scan();
  EXPECT_TRUE(index_.dirty());
  ContextScan second = Scan();
  EXPECT_EQ(second.files_hashed, 0u);
  EXPECT_EQ(second.digests_reused, 4u);
  EXPECT_EQ(second.checksum, first.checksum);
  EXPECT_FALSE(index_.dirty());
}

TEST_F(ContextTest, RacilyCleanFilesAreRehashedOnce) {
  WriteFile(ctx_ + "/fresh", "fresh");  // ctime == now: not yet trustworthy
  Scan();
  Age();
  ContextScan second = Scan();
  EXPECT_EQ(second.files_hashed, 1u);
  ContextScan third = Scan();
  EXPECT_EQ(third.files_hashed, 0u);
}

TEST_F(ContextTest, UntrustedRecordsAreNeverReused) {
  Scan();
  ContextRecord rec = *index_.Find("src/a.c");
  rec.trusted = false;
  rec.digest_hex = std::string(64, '0');  // would poison the checksum if reused
  index_.Put("src/a.c", rec);
  ContextScan s = Scan();
  EXPECT_EQ(s.files_hashed, 1u);
  EXPECT_EQ(s.entries[4].digest_hex,
            "61be55a8e2f6b4e172338bddf184d6dbee29c98853e0a0485ecee7f27b9af0b4");
}

TEST_F(ContextTest, TouchRehashesButKeepsChecksum) {
  ContextScan first = Scan();
  SetMtime(ctx_ + "/src/a.c", 12345);
  Age();
  ContextScan second = Scan();
  EXPECT_EQ(second.files_hashed, 1u);
  EXPECT_EQ(second.checksum, first.checksum);
}

TEST_F(ContextTest, SameSizeAndMtimeButNewContentIsDetectedThroughCtime) {
  ContextScan first = Scan();
  struct stat before = Lstat(ctx_ + "/src/a.c");
  {
    std::fstream f(ctx_ + "/src/a.c", std::ios::in | std::ios::out | std::ios::binary);
    f << "zzzz";  // same size, same inode
  }
  SetMtime(ctx_ + "/src/a.c", before.st_mtim.tv_sec, before.st_mtim.tv_nsec);
  struct stat after = Lstat(ctx_ + "/src/a.c");
  ASSERT_EQ(after.st_size, before.st_size);
  ASSERT_EQ(after.st_ino, before.st_ino);
  ASSERT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  ContextScan second = Scan();
  EXPECT_EQ(second.files_hashed, 1u);
  EXPECT_NE(second.checksum, first.checksum);
}

TEST_F(ContextTest, ChecksumCoversModeButNotTheRootDir) {
  ContextScan first = Scan();
  ASSERT_EQ(chmod(ctx_.c_str(), 0700), 0);
  EXPECT_EQ(Scan().checksum, first.checksum);
  ASSERT_EQ(chmod((ctx_ + "/src/b.c").c_str(), 0600), 0);
  EXPECT_NE(Scan().checksum, first.checksum);
}

TEST_F(ContextTest, FilterExcludesAndDropsStaleRecords) {
  Scan();
  EXPECT_EQ(index_.size(), 4u);
  auto f = Filter::Create({}, {"node_modules"});
  ASSERT_TRUE(f.ok());
  ContextScan s = Scan(*f);
  EXPECT_EQ(s.entries.size(), 4u);
  EXPECT_EQ(index_.size(), 3u);
  EXPECT_EQ(index_.Find("node_modules/big.js"), nullptr);
  EXPECT_TRUE(index_.dirty());
  WriteFile(ctx_ + "/node_modules/big.js", "other junk");
  EXPECT_EQ(Scan(*f).checksum, s.checksum);
}

TEST_F(ContextTest, IndexRoundTripsThroughDisk) {
  ContextScan first = Scan();
  std::string path = base_ + "/index";
  ASSERT_TRUE(index_.Save(path).ok());
  ContextIndex loaded = ContextIndex::Load(path);
  EXPECT_EQ(loaded.size(), 4u);
  const ContextRecord* r = loaded.Find("src/b.c");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->digest_hex, first.entries[5].digest_hex);
  EXPECT_TRUE(r->trusted);
  auto s = ScanContext(ctx_, Filter(), &loaded);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->files_hashed, 0u);
  EXPECT_EQ(s->checksum, first.checksum);
}

TEST_F(ContextTest, MissingOrCorruptIndexLoadsEmpty) {
  EXPECT_EQ(ContextIndex::Load(base_ + "/nope").size(), 0u);
  Scan();
  std::string path = base_ + "/index";
  ASSERT_TRUE(index_.Save(path).ok());
  std::string data = ReadFile(path);
  for (size_t cut : {size_t{0}, size_t{5}, data.size() / 2, data.size() - 1}) {
    WriteFile(path, data.substr(0, cut));
    EXPECT_EQ(ContextIndex::Load(path).size(), 0u) << cut;
  }
  std::string flipped = data;
  flipped[20] ^= 1;
  WriteFile(path, flipped);
  EXPECT_EQ(ContextIndex::Load(path).size(), 0u);
}

TEST_F(ContextTest, MaterializeCopiesWithMetadataAndHardLinks) {
  ASSERT_EQ(link((ctx_ + "/src/a.c").c_str(), (ctx_ + "/src/a2.c").c_str()), 0);
  ASSERT_EQ(symlink("a.c", (ctx_ + "/src/l").c_str()), 0);
  ASSERT_EQ(chmod((ctx_ + "/src").c_str(), 0750), 0);
  SetMtime(ctx_ + "/src", 1600000000);
  auto f = Filter::Create({}, {"node_modules"});
  ASSERT_TRUE(f.ok());
  ContextScan s = Scan(*f);
  std::string dest = base_ + "/dest";
  ASSERT_TRUE(MaterializeContext(s, ctx_, dest).ok());
  EXPECT_EQ(ListTree(dest), (std::vector<std::string>{"Dockerfile", "src/", "src/a.c", "src/a2.c",
                                                      "src/b.c", "src/l->a.c"}));
  EXPECT_EQ(Lstat(dest + "/src/a.c").st_ino, Lstat(dest + "/src/a2.c").st_ino);
  EXPECT_EQ(Lstat(dest + "/src").st_mode & 07777, 0750u);
  EXPECT_EQ(Lstat(dest + "/src").st_mtim.tv_sec, 1600000000);
  EXPECT_EQ(ReadFile(dest + "/src/b.c"), "bbbb");
  // The materialized tree checksums like the scan.
  ContextIndex other;
  auto again = ScanContext(dest, Filter(), &other);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->checksum, s.checksum);
}

TEST_F(ContextTest, MaterializeAbortsWhenAFileChangedSinceTheScan) {
  ContextScan s = Scan();
  WriteFile(ctx_ + "/src/b.c", "bbbbbbbb");
  absl::Status st = MaterializeContext(s, ctx_, base_ + "/dest");
  EXPECT_EQ(st.code(), absl::StatusCode::kAborted);
  EXPECT_NE(st.message().find("context changed during transfer: src/b.c"), std::string::npos) << st;
}

TEST_F(ContextTest, MissingContextIsNotFound) {
  auto s = ScanContext(base_ + "/nope", Filter(), &index_);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
}

// Not a pass/fail benchmark: prints the scan times of a 10,000-file context.
TEST(ContextPerfTest, TenThousandFilesScanTwice) {
  std::string ctx = MakeTempDir() + "/big";
  for (int d = 0; d < 100; ++d) {
    for (int f = 0; f < 100; ++f) {
      WriteFile(absl::StrCat(ctx, "/d", d, "/f", f, ".txt"), absl::StrCat("content ", d, "/", f));
    }
  }
  Age();
  ContextIndex index;
  auto time = [&](const char* what) {
    auto start = std::chrono::steady_clock::now();
    auto s = ScanContext(ctx, Filter(), &index);
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
    EXPECT_TRUE(s.ok());
    std::printf("%s: %.1f ms (%zu entries, %zu hashed, %zu reused)\n", what, ms.count(),
                s->entries.size(), s->files_hashed, s->digests_reused);
    return s.ok() ? s->checksum : "";
  };
  std::string a = time("first scan");
  std::string b = time("rescan");
  EXPECT_EQ(a, b);
  std::string path = ctx + ".index";
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(index.Save(path).ok());
  index = ContextIndex::Load(path);
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  std::printf("index save+load: %.1f ms (%zu records)\n", ms.count(), index.size());
  EXPECT_EQ(time("rescan after load"), a);
}

}  // namespace
}  // namespace kiln::fsutil
