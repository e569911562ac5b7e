#include "gateway/cache/content_store.h"

#include <cstdlib>

#include "gtest/gtest.h"
#include "sdk/base/digest.h"

namespace kiln::cache {
namespace {

std::string TempDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  return std::string(t ? t : "/tmp") + "/" + name;
}

void ExerciseStore(ContentStore& store) {
  auto d = store.Put("hello");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, DigestOf("hello"));
  EXPECT_TRUE(store.Has(*d));
  auto got = store.Get(*d);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "hello");

  auto w = store.NewWriter();
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write("abc").ok());
  auto bad = (*w)->Commit(DigestOf("xyz"));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(store.Has(DigestOf("abc")));

  EXPECT_EQ(store.Get(DigestOf("nothing")).status().code(), absl::StatusCode::kNotFound);

  // Streaming: the same bytes in chunks, and the size up front.
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4099) big[i] = static_cast<char>(i);
  auto bd = store.Put(big);
  ASSERT_TRUE(bd.ok());
  auto size = store.Size(*bd);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, static_cast<int64_t>(big.size()));
  std::string streamed;
  int chunks = 0;
  ASSERT_TRUE(store
                  .ReadTo(*bd,
                          [&](std::string_view c) {
                            streamed.append(c);
                            ++chunks;
                            return absl::OkStatus();
                          })
                  .ok());
  EXPECT_EQ(streamed, big);
  absl::Status stop =
      store.ReadTo(*bd, [](std::string_view) { return absl::CancelledError("stop"); });
  EXPECT_EQ(stop.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(store.Size(DigestOf("nothing")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(
      store.ReadTo(DigestOf("nothing"), [](std::string_view) { return absl::OkStatus(); }).code(),
      absl::StatusCode::kNotFound);
  ASSERT_TRUE(store.Delete(*d).ok());
  EXPECT_FALSE(store.Has(*d));
}

TEST(ContentStoreTest, DiskStoreVerifiesAndStores) {
  auto store = NewDiskContentStore(TempDir("cs"));
  ASSERT_TRUE(store.ok()) << store.status();
  ExerciseStore(**store);
}

TEST(ContentStoreTest, MemoryStoreBehavesLikeDisk) {
  auto store = NewMemoryContentStore();
  ExerciseStore(*store);
}

TEST(ContentStoreTest, DiskStoreRejectsMalformedDigest) {
  auto store = NewDiskContentStore(TempDir("cs2"));
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Get("sha256:../../etc/passwd").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kiln::cache
