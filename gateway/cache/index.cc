#include "gateway/cache/index.h"

#include <sqlite3.h>

#include <ctime>
#include <set>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "sdk/base/status_macros.h"

namespace kiln::cache {
namespace {

constexpr char kSchema[] = R"sql(
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records(
  key TEXT NOT NULL, output INTEGER NOT NULL, chain TEXT NOT NULL,
  PRIMARY KEY(key, output));
CREATE TABLE IF NOT EXISTS record_info(
  key TEXT PRIMARY KEY, description TEXT NOT NULL, created_at INTEGER NOT NULL,
  last_used INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS layers(
  id TEXT PRIMARY KEY, size INTEGER NOT NULL, created_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checksums(memo TEXT PRIMARY KEY, checksum TEXT NOT NULL);
INSERT OR IGNORE INTO meta(k, v) VALUES('schema', 'kiln-cache-1');
PRAGMA user_version = 1;
COMMIT;
)sql";

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

// SQLite's error as a Status: Unavailable when another process holds the
// database (worth retrying), Internal otherwise.
absl::Status SqliteError(sqlite3* db, const std::string& detail) {
  int code = sqlite3_errcode(db) & 0xff;
  std::string msg = absl::StrCat("cache index: ", detail);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return absl::UnavailableError(msg);
  return absl::InternalError(msg);
}

}  // namespace

namespace cache_internal_index {

// One use of a statement prepared once per connection (CacheIndex keeps
// them): binding, stepping, and a reset when the use ends.
class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt, int rc) : db_(db), stmt_(stmt), rc_(rc) {}
  ~Stmt() {
    if (stmt_ == nullptr) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  absl::Status status() const {
    if (rc_ == SQLITE_OK) return absl::OkStatus();
    return absl::InternalError(absl::StrCat("cache index: ", sqlite3_errmsg(db_)));
  }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  // Returns true while a row is available.
  absl::StatusOr<bool> Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteError(db_, sqlite3_errmsg(db_));
  }
  absl::Status Run() {
    KILN_ASSIGN_OR_RETURN(bool row, Step());
    (void)row;
    return absl::OkStatus();
  }
  std::string Text(int col) {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
  }
  int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int rc_;
};

}  // namespace cache_internal_index

using cache_internal_index::Stmt;

absl::StatusOr<std::unique_ptr<CacheIndex>> CacheIndex::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::InternalError(absl::StrCat("opening cache index ", path, ": ", msg));
  }
  sqlite3_busy_timeout(db, 30000);
  // Closing would checkpoint the WAL into the database (with syncs) on every
  // process exit; writers checkpoint as the WAL grows instead.
  sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  std::unique_ptr<CacheIndex> index(new CacheIndex(db));
  absl::MutexLock lock(&index->mu_);
  // A brand-new file being set up by several processes at once can answer
  // BUSY without waiting (switching to WAL, recovering it); setting up is
  // idempotent, so it is simply tried again.
  absl::Status st;
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    st = index->Initialize();
    if (!absl::IsUnavailable(st)) break;
    absl::SleepFor(absl::Milliseconds(5));
  } while (absl::Now() < deadline);
  if (!st.ok()) {
    return absl::DataLossError(
        absl::StrCat(path, " is not a usable kiln cache index: ", st.message()));
  }
  return index;
}

CacheIndex::~CacheIndex() {
  absl::MutexLock lock(&mu_);
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

absl::Status CacheIndex::Initialize() {
  // WAL: a process killed mid-transaction leaves the previous state.
  // synchronous=NORMAL skips the fsync per commit; after a power loss the
  // index is still consistent but may miss its last records, which then just
  // rebuild (layers are not fsynced either).
  // The WAL is not checkpointed on close (see Open), so the next process
  // replays it: checkpoint early and keep the file small so that stays short.
  KILN_RETURN_IF_ERROR(
      Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=64;"
           " PRAGMA journal_size_limit=1048576;"));
  KILN_ASSIGN_OR_RETURN(int64_t version, UserVersion());
  // The schema is written once, by whoever finds the file new; BEGIN
  // IMMEDIATE makes a second process wait for the first.
  if (version == 0) {
    absl::Status st = Exec(kSchema);
    if (!st.ok()) Exec("ROLLBACK").IgnoreError();
    return st;
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> CacheIndex::UserVersion() {
  Stmt q = Prepare("PRAGMA user_version");
  KILN_RETURN_IF_ERROR(q.status());
  KILN_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.Int(0) : 0;
}  // `q` resets here, ending the read transaction

Stmt CacheIndex::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return Stmt(db_, it->second, SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc == SQLITE_OK) statements_[sql] = stmt;
  return Stmt(db_, stmt, rc);
}

absl::Status CacheIndex::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) == SQLITE_OK) return absl::OkStatus();
  std::string msg = err ? err : "unknown error";
  sqlite3_free(err);
  return SqliteError(db_, msg);
}

absl::StatusOr<std::optional<std::vector<Chain>>> CacheIndex::Lookup(const std::string& key,
                                                                     int num_outputs) {
  absl::MutexLock lock(&mu_);
  Stmt q = Prepare("SELECT output, chain FROM records WHERE key = ?1 ORDER BY output");
  KILN_RETURN_IF_ERROR(q.status());
  q.Bind(1, key);
  std::vector<Chain> outputs;
  while (true) {
    KILN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    if (q.Int(0) != static_cast<int64_t>(outputs.size())) return std::nullopt;
    outputs.push_back(ChainFromString(q.Text(1)));
  }
  if (static_cast<int>(outputs.size()) != num_outputs) return std::nullopt;
  return outputs;
}

absl::Status CacheIndex::Touch(const std::vector<std::string>& keys) {
  if (keys.empty()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  KILN_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  int64_t now = Now();
  for (const std::string& key : keys) {
    // A record used in the last minute is not rewritten: no-op builds in a
    // row then write nothing at all.
    Stmt touch =
        Prepare("UPDATE record_info SET last_used = ?2 WHERE key = ?1 AND last_used < ?2 - 60");
    absl::Status st = touch.status();
    if (st.ok()) st = touch.Bind(1, key).Bind(2, now).Run();
    if (!st.ok()) {
      Exec("ROLLBACK").IgnoreError();
      return st;
    }
  }
  return Exec("COMMIT");
}

absl::Status CacheIndex::Record(const std::string& key, const std::vector<Chain>& outputs,
                                const std::string& description,
                                const std::vector<LayerInfo>& new_layers) {
  absl::MutexLock lock(&mu_);
  KILN_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> absl::Status {
    Stmt del = Prepare("DELETE FROM records WHERE key = ?1");
    KILN_RETURN_IF_ERROR(del.status());
    KILN_RETURN_IF_ERROR(del.Bind(1, key).Run());
    for (size_t i = 0; i < outputs.size(); ++i) {
      Stmt ins = Prepare("INSERT INTO records(key, output, chain) VALUES(?1, ?2, ?3)");
      KILN_RETURN_IF_ERROR(ins.status());
      KILN_RETURN_IF_ERROR(ins.Bind(1, key)
                               .Bind(2, static_cast<int64_t>(i))
                               .Bind(3, ChainToString(outputs[i]))
                               .Run());
    }
    Stmt info = Prepare(
        "INSERT OR REPLACE INTO record_info(key, description, created_at, last_used) "
        "VALUES(?1, ?2, ?3, ?3)");
    KILN_RETURN_IF_ERROR(info.status());
    KILN_RETURN_IF_ERROR(info.Bind(1, key).Bind(2, description).Bind(3, Now()).Run());
    for (const LayerInfo& l : new_layers) {
      Stmt layer =
          Prepare("INSERT OR REPLACE INTO layers(id, size, created_by) VALUES(?1, ?2, ?3)");
      KILN_RETURN_IF_ERROR(layer.status());
      KILN_RETURN_IF_ERROR(layer.Bind(1, l.id).Bind(2, l.size).Bind(3, key).Run());
    }
    return absl::OkStatus();
  };
  absl::Status st = body();
  if (!st.ok()) {
    Exec("ROLLBACK").IgnoreError();
    return st;
  }
  return Exec("COMMIT");
}

absl::StatusOr<std::optional<std::string>> CacheIndex::GetChecksum(const std::string& memo_key) {
  absl::MutexLock lock(&mu_);
  Stmt q = Prepare("SELECT checksum FROM checksums WHERE memo = ?1");
  KILN_RETURN_IF_ERROR(q.status());
  q.Bind(1, memo_key);
  KILN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::nullopt;
  return q.Text(0);
}

absl::Status CacheIndex::PutChecksum(const std::string& memo_key, const std::string& checksum) {
  absl::MutexLock lock(&mu_);
  Stmt q = Prepare("INSERT OR REPLACE INTO checksums(memo, checksum) VALUES(?1, ?2)");
  KILN_RETURN_IF_ERROR(q.status());
  return q.Bind(1, memo_key).Bind(2, checksum).Run();
}

absl::StatusOr<std::vector<RecordUsage>> CacheIndex::Usage() {
  absl::MutexLock lock(&mu_);
  Stmt q = Prepare(
      "SELECT i.key, i.description, i.created_at, i.last_used,"
      " (SELECT COUNT(*) FROM records r WHERE r.key = i.key),"
      " (SELECT COALESCE(SUM(size), 0) FROM layers l WHERE l.created_by = i.key)"
      " FROM record_info i ORDER BY i.last_used DESC, i.key");
  KILN_RETURN_IF_ERROR(q.status());
  std::vector<RecordUsage> out;
  while (true) {
    KILN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    RecordUsage u;
    u.key = q.Text(0);
    u.description = q.Text(1);
    u.created_at = q.Int(2);
    u.last_used = q.Int(3);
    u.outputs = static_cast<int>(q.Int(4));
    u.size = q.Int(5);
    out.push_back(std::move(u));
  }
  return out;
}

absl::StatusOr<int64_t> CacheIndex::TotalLayerSize() {
  absl::MutexLock lock(&mu_);
  Stmt q = Prepare("SELECT COALESCE(SUM(size), 0) FROM layers");
  KILN_RETURN_IF_ERROR(q.status());
  KILN_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.Int(0) : 0;
}

absl::StatusOr<std::vector<std::string>> CacheIndex::AllLayers() {
  absl::MutexLock lock(&mu_);
  Stmt q = Prepare("SELECT id FROM layers");
  KILN_RETURN_IF_ERROR(q.status());
  std::vector<std::string> out;
  while (true) {
    KILN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(q.Text(0));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> CacheIndex::DropUnreferencedLayers() {
  std::set<std::string> referenced;
  {
    Stmt q = Prepare("SELECT chain FROM records");
    KILN_RETURN_IF_ERROR(q.status());
    while (true) {
      KILN_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      for (std::string& id : ChainFromString(q.Text(0))) referenced.insert(std::move(id));
    }
  }
  std::vector<std::string> dropped;
  Stmt q = Prepare("SELECT id FROM layers");
  KILN_RETURN_IF_ERROR(q.status());
  while (true) {
    KILN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    std::string id = q.Text(0);
    if (!referenced.count(id)) dropped.push_back(std::move(id));
  }
  for (const std::string& id : dropped) {
    Stmt del = Prepare("DELETE FROM layers WHERE id = ?1");
    KILN_RETURN_IF_ERROR(del.status());
    KILN_RETURN_IF_ERROR(del.Bind(1, id).Run());
  }
  return dropped;
}

absl::StatusOr<std::vector<std::string>> CacheIndex::Prune(int64_t keep_bytes) {
  absl::MutexLock lock(&mu_);
  KILN_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> absl::StatusOr<std::vector<std::string>> {
    std::vector<std::string> dropped;
    while (true) {
      KILN_ASSIGN_OR_RETURN(std::vector<std::string> gone, DropUnreferencedLayers());
      dropped.insert(dropped.end(), gone.begin(), gone.end());
      Stmt total = Prepare("SELECT COALESCE(SUM(size), 0) FROM layers");
      KILN_RETURN_IF_ERROR(total.status());
      KILN_ASSIGN_OR_RETURN(bool row, total.Step());
      int64_t used = row ? total.Int(0) : 0;
      Stmt oldest = Prepare("SELECT key FROM record_info ORDER BY last_used, created_at LIMIT 1");
      KILN_RETURN_IF_ERROR(oldest.status());
      KILN_ASSIGN_OR_RETURN(bool has, oldest.Step());
      if (!has || (keep_bytes >= 0 && used <= keep_bytes)) break;
      std::string key = oldest.Text(0);
      for (const char* sql :
           {"DELETE FROM records WHERE key = ?1", "DELETE FROM record_info WHERE key = ?1"}) {
        Stmt del = Prepare(sql);
        KILN_RETURN_IF_ERROR(del.status());
        KILN_RETURN_IF_ERROR(del.Bind(1, key).Run());
      }
    }
    if (keep_bytes < 0) KILN_RETURN_IF_ERROR(Exec("DELETE FROM checksums"));
    return dropped;
  };
  absl::StatusOr<std::vector<std::string>> result = body();
  if (!result.ok()) {
    Exec("ROLLBACK").IgnoreError();
    return result.status();
  }
  KILN_RETURN_IF_ERROR(Exec("COMMIT"));
  return result;
}

}  // namespace kiln::cache
