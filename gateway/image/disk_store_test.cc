#include "gateway/image/disk_store.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gateway/image/layer/testing.h"
#include "gtest/gtest.h"
#include "sdk/base/digest.h"

namespace kiln::image {
namespace {

using testing::Dir;
using testing::File;
using testing::MakeTar;
using testing::Symlink;

std::string TempDir(const std::string& name) {
  static int n = 0;
  const char* t = std::getenv("TEST_TMPDIR");
  std::string d = absl::StrCat(t ? t : "/tmp", "/", name, "-", n++);
  mkdir(d.c_str(), 0755);
  return d;
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class DiskStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = cache::Cache::Open({TempDir("root"), "auto"});
    ASSERT_TRUE(c.ok()) << c.status();
    cache_ = std::move(*c);
    auto s = DiskStore::Open(cache_.get());
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    tar_ = TempDir("tars") + "/rootfs.tar.gz";
    std::ofstream(tar_, std::ios::binary)
        << MakeTar({Dir("etc/"), File("etc/os-release", "ID=test\n"), Symlink("bin", "usr/bin")},
                   Compression::kGzip);
  }
  std::string Cat(const Image& image, const std::string& path) {
    auto view = cache_->snapshotter()->View(image.chain);
    EXPECT_TRUE(view.ok()) << view.status();
    return view.ok() ? Read((*view)->path() + path) : "";
  }
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<DiskStore> store_;
  std::string tar_;
};

TEST_F(DiskStoreTest, ImportedRootfsResolvesByShortName) {
  auto imported = store_->ImportRootfs(tar_, "busybox");
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->ref, "docker.io/library/busybox:latest");
  auto image = store_->Resolve("docker.io/library/busybox:latest");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->digest, imported->digest);
  EXPECT_EQ(Cat(*image, "/etc/os-release"), "ID=test\n");
  EXPECT_TRUE(absl::StrContains(image->config, "\"diff_ids\":[\"sha256:")) << image->config;
  auto list = store_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].ref, "docker.io/library/busybox:latest");
  EXPECT_GT((*list)[0].size, 0);
}

TEST_F(DiskStoreTest, SameTarGivesTheSameDigest) {
  auto a = store_->ImportRootfs(tar_, "one");
  auto b = store_->ImportRootfs(tar_, "two");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->digest, b->digest);
}

TEST_F(DiskStoreTest, PrunedLayersAreUnpackedAgainFromBlobs) {
  ASSERT_TRUE(store_->ImportRootfs(tar_, "busybox").ok());
  ASSERT_TRUE(cache_->Prune(-1, absl::Seconds(5)).ok());
  auto image = store_->Resolve("docker.io/library/busybox:latest");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(Cat(*image, "/etc/os-release"), "ID=test\n");
}

// Entries of a tar: name -> content.
std::map<std::string, std::string> ReadTar(const std::string& path) {
  std::map<std::string, std::string> out;
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, path.c_str(), 1 << 16) == ARCHIVE_OK) {
    struct archive_entry* e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
      std::string data(archive_entry_size(e), '\0');
      archive_read_data(a, data.data(), data.size());
      out[archive_entry_pathname(e)] = data;
    }
  }
  archive_read_free(a);
  return out;
}

TEST_F(DiskStoreTest, ExportWritesAnOciLayoutWhoseBlobsMatchTheirNames) {
  auto image = store_->ImportRootfs(tar_, "busybox");
  ASSERT_TRUE(image.ok());
  std::string out = TempDir("export") + "/busybox.oci.tar";
  ASSERT_TRUE(store_->ExportOci("busybox", out).ok());
  auto files = ReadTar(out);
  EXPECT_EQ(files["oci-layout"], "{\"imageLayoutVersion\":\"1.0.0\"}");
  EXPECT_TRUE(absl::StrContains(files["index.json"],
                                "\"org.opencontainers.image.ref.name\":"
                                "\"docker.io/library/busybox:latest\""));
  EXPECT_TRUE(absl::StrContains(files["index.json"], image->digest));
  int blobs = 0;
  for (const auto& [name, data] : files) {
    if (name.rfind("blobs/sha256/", 0) != 0) continue;
    ++blobs;
    EXPECT_EQ("sha256:" + name.substr(13), DigestOf(data)) << name;
  }
  EXPECT_EQ(blobs, 3);  // manifest, config, one layer
  EXPECT_EQ(store_->ExportOci("nothing", out).code(), absl::StatusCode::kNotFound);
}

TEST_F(DiskStoreTest, OciArchiveRoundTripsThroughExportAndImport) {
  auto image = store_->ImportRootfs(tar_, "busybox");
  ASSERT_TRUE(image.ok());
  std::string oci = TempDir("export") + "/bb.oci.tar";
  ASSERT_TRUE(store_->ExportOci("busybox", oci).ok());
  auto again = store_->ImportArchive(oci, "copy:1");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->digest, image->digest);
  EXPECT_EQ(Cat(*again, "/etc/os-release"), "ID=test\n");
}

// Writes a docker save archive with one layer and the given config.
std::string DockerSave(const std::string& dir, const std::string& layer, const std::string& config,
                       const std::string& manifest_json) {
  std::string path = dir + "/save.tar";
  std::ofstream(path, std::ios::binary)
      << MakeTar({File("manifest.json", manifest_json), File("config.json", config), Dir("l1/"),
                  File("l1/layer.tar", layer)});
  return path;
}

TEST_F(DiskStoreTest, DockerSaveArchiveImportsAndChecksDiffIds) {
  std::string layer = MakeTar({File("hello", "docker\n")});
  std::string manifest =
      R"([{"Config":"config.json","RepoTags":["x:1"],"Layers":["l1/layer.tar"]}])";
  std::string good_config =
      "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + DigestOf(layer) + "\"]}}";
  auto image =
      store_->ImportArchive(DockerSave(TempDir("ds"), layer, good_config, manifest), "x:1");
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(Cat(*image, "/hello"), "docker\n");

  std::string bad_config =
      "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + DigestOf("other") + "\"]}}";
  auto mismatch =
      store_->ImportArchive(DockerSave(TempDir("ds"), layer, bad_config, manifest), "y");
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kDataLoss) << mismatch.status();
  std::string missing_manifest = R"([{"Config":"config.json","Layers":["l9/layer.tar"]}])";
  auto missing =
      store_->ImportArchive(DockerSave(TempDir("ds"), layer, good_config, missing_manifest), "z");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();
  for (const char* junk : {"{", "[1,2]", "{\"Layers\":7}", "[{\"Config\":\"../../etc/passwd\"}]"}) {
    auto bad = store_->ImportArchive(DockerSave(TempDir("ds"), layer, good_config, junk), "j");
    EXPECT_FALSE(bad.ok()) << junk;
  }
  auto list = store_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);  // only x:1
}

TEST_F(DiskStoreTest, WhiteoutInALaterLayerDeletesTheFile) {
  // Regression: later layers are applied through the overlay mount, where
  // writing overlay-form whiteouts (0:0 devices) is refused.
  std::string l1 = MakeTar({File("a", "1"), File("b", "2")});
  std::string l2 = MakeTar({File(".wh.a", "")});
  std::string config = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + DigestOf(l1) +
                       "\",\"" + DigestOf(l2) + "\"]}}";
  std::string path = TempDir("wh") + "/save.tar";
  std::ofstream(path, std::ios::binary)
      << MakeTar({File("manifest.json", R"([{"Config":"c.json","Layers":["1.tar","2.tar"]}])"),
                  File("c.json", config), File("1.tar", l1), File("2.tar", l2)});
  auto image = store_->ImportArchive(path, "wh:1");
  ASSERT_TRUE(image.ok()) << image.status();
  auto view = cache_->snapshotter()->View(image->chain);
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(std::ifstream((*view)->path() + "/a").good());
  EXPECT_EQ(Read((*view)->path() + "/b"), "2");
}

TEST_F(DiskStoreTest, RemoveAndUnknownNamesSayHowToImport) {
  ASSERT_TRUE(store_->ImportRootfs(tar_, "busybox").ok());
  ASSERT_TRUE(store_->Remove("busybox").ok());
  auto gone = store_->Resolve("docker.io/library/busybox:latest");
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(gone.status().message(), "kiln image import"));
  EXPECT_EQ(store_->Remove("busybox").code(), absl::StatusCode::kNotFound);
}

TEST_F(DiskStoreTest, CorruptTarRecordsNothing) {
  std::string bad = TempDir("tars") + "/bad.tar.gz";
  std::string good = MakeTar({File("a", std::string(100000, 'x'))}, Compression::kGzip);
  std::ofstream(bad, std::ios::binary) << good.substr(0, good.size() / 2);
  auto r = store_->ImportRootfs(bad, "broken");
  EXPECT_FALSE(r.ok());
  auto list = store_->List();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
  auto usage = cache_->index()->Usage();
  ASSERT_TRUE(usage.ok());
  EXPECT_TRUE(usage->empty());
}

}  // namespace
}  // namespace kiln::image
