// CacheIndex: the crash-safe map from cache keys to results, in SQLite.
//
// A record maps (cache key, output index) to a Chain of layer ids. All outputs
// of one vertex are written in one transaction with the layers they
// introduced, so after a crash (kill -9 included) a key either has every
// output or none. Layers are directories the snapshotter committed before the
// record was written; a layer directory with no row is garbage that the
// owner of the root's exclusive lock sweeps.
//
// Thread-safe: one connection guarded by a mutex. Several processes may open
// the same file (WAL mode, busy timeout).
#ifndef KILN_GATEWAY_CACHE_INDEX_H_
#define KILN_GATEWAY_CACHE_INDEX_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gateway/cache/chain.h"

struct sqlite3;
struct sqlite3_stmt;

namespace kiln::cache {

namespace cache_internal_index {
class Stmt;
}

struct LayerInfo {
  std::string id;
  int64_t size = 0;
};

struct RecordUsage {
  std::string key;
  std::string description;
  int outputs = 0;
  int64_t size = 0;  // bytes of the layers this record introduced
  int64_t created_at = 0;
  int64_t last_used = 0;
};

class CacheIndex {
 public:
  // Opens (creating if needed) the index at `path`. Errors: Internal with
  // SQLite's message, DataLoss when the file is not a kiln index.
  static absl::StatusOr<std::unique_ptr<CacheIndex>> Open(const std::string& path);
  ~CacheIndex();

  // The outputs recorded under `key`, or nullopt when there are not exactly
  // `num_outputs` of them. Read-only: see Touch.
  absl::StatusOr<std::optional<std::vector<Chain>>> Lookup(const std::string& key, int num_outputs);

  // Marks records used now, in one transaction (prune drops the least
  // recently used first). Resolution is a minute: fresher marks are kept.
  absl::Status Touch(const std::vector<std::string>& keys);

  // Records every output of `key` and the layers it introduced, atomically.
  // Recording a key that exists replaces it.
  absl::Status Record(const std::string& key, const std::vector<Chain>& outputs,
                      const std::string& description, const std::vector<LayerInfo>& new_layers);

  // Memoized content checksums of immutable results (see solver/cachekey).
  absl::StatusOr<std::optional<std::string>> GetChecksum(const std::string& memo_key);
  absl::Status PutChecksum(const std::string& memo_key, const std::string& checksum);

  absl::StatusOr<std::vector<RecordUsage>> Usage();
  absl::StatusOr<int64_t> TotalLayerSize();

  // Deletes records, least recently used first, until the layers still
  // referenced take at most `keep_bytes` (all records when keep_bytes < 0),
  // then forgets the unreferenced layers and returns their ids; the caller
  // removes their directories.
  absl::StatusOr<std::vector<std::string>> Prune(int64_t keep_bytes);

  // Every layer id the index knows.
  absl::StatusOr<std::vector<std::string>> AllLayers();

 private:
  explicit CacheIndex(sqlite3* db) : db_(db) {}
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<int64_t> UserVersion() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Journal mode and, for a new file, the schema. Idempotent.
  absl::Status Initialize() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A statement of this connection, prepared on first use and kept: `sql`
  // must be a string literal (its address is the key).
  cache_internal_index::Stmt Prepare(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<std::string>> DropUnreferencedLayers()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
  std::map<const char*, sqlite3_stmt*> statements_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kiln::cache

#endif  // KILN_GATEWAY_CACHE_INDEX_H_
