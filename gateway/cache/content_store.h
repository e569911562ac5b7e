// ContentStore: blobs addressed by their sha256 digest.
//
// The disk store keeps ROOT/blobs/sha256/<hex>; a blob is written to
// ROOT/ingest first, checked against its digest, and renamed into place, so
// a reader never sees a partial blob, even after kill -9. The memory store is
// the fake for tests. Both are thread-safe.
#ifndef KILN_GATEWAY_CACHE_CONTENT_STORE_H_
#define KILN_GATEWAY_CACHE_CONTENT_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace kiln::cache {

// Streams one blob into a store. Dropping it without Commit discards it.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  virtual absl::Status Write(std::string_view chunk) = 0;
  // Seals the blob. When `expected` is not empty and the content's digest
  // differs, InvalidArgument and nothing is stored. Returns the digest.
  virtual absl::StatusOr<std::string> Commit(const std::string& expected) = 0;
};

class ContentStore {
 public:
  virtual ~ContentStore() = default;
  virtual absl::StatusOr<std::unique_ptr<BlobWriter>> NewWriter() = 0;
  // NotFound naming the digest when absent.
  virtual absl::StatusOr<std::string> Get(const std::string& digest) = 0;
  // The blob's size in bytes; NotFound when absent.
  virtual absl::StatusOr<int64_t> Size(const std::string& digest) = 0;
  // Streams the blob to `sink` in chunks, never holding it whole (layers
  // can be gigabytes). Stops at the first error `sink` returns.
  virtual absl::Status ReadTo(const std::string& digest,
                              const std::function<absl::Status(std::string_view)>& sink) = 0;
  virtual bool Has(const std::string& digest) = 0;
  virtual absl::Status Delete(const std::string& digest) = 0;
  virtual absl::StatusOr<std::vector<std::string>> List() = 0;

  // Stores `data` and returns its digest.
  absl::StatusOr<std::string> Put(std::string_view data);
};

absl::StatusOr<std::unique_ptr<ContentStore>> NewDiskContentStore(const std::string& root);
std::unique_ptr<ContentStore> NewMemoryContentStore();

}  // namespace kiln::cache

#endif  // KILN_GATEWAY_CACHE_CONTENT_STORE_H_
