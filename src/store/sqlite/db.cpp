#include "store/sqlite/db.h"

#include <spdlog/spdlog.h>

namespace openmapi::store::sqlite {

Db::Db(const std::string& path, bool create) : path_(path) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw_error(rc == SQLITE_CANTOPEN ? ErrorCode::MAPI_E_NOT_FOUND : ErrorCode::MAPI_E_CORRUPT_STORE,
                "cannot open mailbox database '" + path + "': " + msg);
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, 10000);
}

namespace {
// Enough for the statements a save, a load and a table use; dynamic SQL (id lists) comes and goes.
constexpr size_t kMaxCachedStatements = 96;
}  // namespace

Db::~Db() {
  for (auto& [sql, s] : cache_) sqlite3_finalize(s);
  sqlite3_close_v2(db_);
}

sqlite3_stmt* Db::take_cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) return nullptr;
  sqlite3_stmt* s = it->second;
  cache_.erase(it);
  return s;
}

void Db::give_back(const std::string& sql, sqlite3_stmt* s) {
  if (cache_.size() >= kMaxCachedStatements || sql.size() > 512) {
    sqlite3_finalize(s);
    return;
  }
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  cache_.emplace(sql, s);
}

void Db::fail(int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + sqlite3_errmsg(db_) + " (" + path_ + ")";
  switch (rc & 0xFF) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: throw_error(ErrorCode::MAPI_E_CORRUPT_STORE, msg);
    case SQLITE_FULL: throw_error(ErrorCode::MAPI_E_NOT_ENOUGH_DISK, msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED: throw_error(ErrorCode::MAPI_E_BUSY, msg);
    case SQLITE_NOMEM: throw_error(ErrorCode::MAPI_E_NOT_ENOUGH_MEMORY, msg);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN: throw_error(ErrorCode::MAPI_E_DISK_ERROR, msg);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH: throw_error(ErrorCode::MAPI_E_NO_ACCESS, msg);
    case SQLITE_CONSTRAINT: throw_error(ErrorCode::MAPI_E_COLLISION, msg);
    default: throw_error(ErrorCode::MAPI_E_CALL_FAILED, msg);
  }
}

void Db::exec(std::string_view sql) {
  char* err = nullptr;
  std::string s(sql);
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string m = err ? err : "";
    sqlite3_free(err);
    fail(rc, "SQL failed: " + m);
  }
}

Stmt::Stmt(Db& db, std::string_view sql) : db_(db), sql_(sql) {
  s_ = db_.take_cached(sql_);
  if (s_) return;
  int rc = sqlite3_prepare_v2(db.handle(), sql.data(), int(sql.size()), &s_, nullptr);
  if (rc != SQLITE_OK) db_.fail(rc, "cannot prepare statement");
}

Stmt::~Stmt() {
  if (s_) db_.give_back(sql_, s_);
}

Stmt& Stmt::bind(int i, int64_t v) {
  if (int rc = sqlite3_bind_int64(s_, i, v); rc != SQLITE_OK) db_.fail(rc, "bind");
  return *this;
}
Stmt& Stmt::bind(int i, double v) {
  if (int rc = sqlite3_bind_double(s_, i, v); rc != SQLITE_OK) db_.fail(rc, "bind");
  return *this;
}
Stmt& Stmt::bind(int i, std::string_view v) {
  if (int rc = sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8); rc != SQLITE_OK)
    db_.fail(rc, "bind");
  return *this;
}
Stmt& Stmt::bind(int i, ByteView v) {
  static const uint8_t empty = 0;
  if (int rc = sqlite3_bind_blob64(s_, i, v.empty() ? &empty : v.data(), v.size(), SQLITE_TRANSIENT); rc != SQLITE_OK)
    db_.fail(rc, "bind");
  return *this;
}
Stmt& Stmt::bind_null(int i) {
  if (int rc = sqlite3_bind_null(s_, i); rc != SQLITE_OK) db_.fail(rc, "bind");
  return *this;
}

bool Stmt::step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_.fail(rc, "statement failed");
}

void Stmt::run() {
  while (step()) {
  }
}

void Stmt::reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::string Stmt::text(int i) const {
  auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, i));
  return p ? std::string(p, size_t(sqlite3_column_bytes(s_, i))) : std::string();
}

ByteView Stmt::blob_view(int i) const {
  auto p = static_cast<const uint8_t*>(sqlite3_column_blob(s_, i));
  return p ? ByteView(p, size_t(sqlite3_column_bytes(s_, i))) : ByteView();
}

Bytes Stmt::blob(int i) const {
  auto v = blob_view(i);
  return Bytes(v.begin(), v.end());
}

Transaction::Transaction(Db& db) : db_(db) {
  Stmt(db_, db_.tx_depth_ == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT nested").run();  // prepared once per connection
  ++db_.tx_depth_;
}

Transaction::~Transaction() {
  if (done_) return;
  --db_.tx_depth_;
  const char* sql = db_.tx_depth_ == 0 ? "ROLLBACK" : "ROLLBACK TO nested; RELEASE nested";
  char* err = nullptr;
  if (sqlite3_exec(db_.handle(), sql, nullptr, nullptr, &err) != SQLITE_OK) {
    spdlog::warn("rollback failed: {}", err ? err : "?");
    sqlite3_free(err);
  }
}

void Transaction::commit() {
  const bool outermost = db_.tx_depth_ == 1;
  Stmt(db_, outermost ? "COMMIT" : "RELEASE nested").run();
  --db_.tx_depth_;
  done_ = true;
  if (outermost && db_.on_commit) db_.on_commit();
}

}  // namespace openmapi::store::sqlite
