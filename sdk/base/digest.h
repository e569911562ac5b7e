// Content digests in the OCI form "sha256:<64 lowercase hex>".
//
// A digest names bytes: an LLB op, a blob in the content store, a cache key.
// Sha256 hashes incrementally and is not thread-safe; the free functions are.
#ifndef KILN_SDK_BASE_DIGEST_H_
#define KILN_SDK_BASE_DIGEST_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace kiln {

// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  // Adds a length-prefixed string, so that ("ab","c") and ("a","bc") differ.
  void UpdateField(std::string_view data);
  void UpdateInt(uint64_t v);
  // Finishes the hash; the object must not be used after.
  std::string HexDigest();
  std::string Digest() { return "sha256:" + HexDigest(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "sha256:<hex>" of `data`.
std::string DigestOf(std::string_view data);
// The 64 hex characters of sha256(`data`).
std::string Sha256Hex(std::string_view data);

// OK when `digest` is "sha256:" and 64 lowercase hex characters; otherwise
// InvalidArgument naming it.
absl::Status ValidateDigest(std::string_view digest);

// The hex part of a valid digest ("sha256:ab.." -> "ab..").
std::string DigestHex(std::string_view digest);

}  // namespace kiln

#endif  // KILN_SDK_BASE_DIGEST_H_
