// A thin RAII layer over the SQLite C API: every failure becomes a MapiError.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/bytes.h"
#include "core/error.h"

namespace openmapi::store::sqlite {

class Db;

// A prepared statement. Statements are reused: a Stmt takes a prepared statement for its SQL
// from the connection's cache (or prepares one) and gives it back, reset, when it goes; two live
// Stmts never share one, so nesting and recursion are safe.
class Stmt {
 public:
  Stmt(Db& db, std::string_view sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, double v);
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, ByteView v);
  Stmt& bind_null(int i);
  // Steps once: true while a row is available.
  bool step();
  // Steps to completion (for statements without rows).
  void run();
  void reset();

  int column_type(int i) const { return sqlite3_column_type(s_, i); }
  bool is_null(int i) const { return column_type(i) == SQLITE_NULL; }
  int64_t int64(int i) const { return sqlite3_column_int64(s_, i); }
  double real(int i) const { return sqlite3_column_double(s_, i); }
  std::string text(int i) const;
  Bytes blob(int i) const;
  ByteView blob_view(int i) const;
  sqlite3_stmt* raw() const { return s_; }

 private:
  Db& db_;
  sqlite3_stmt* s_ = nullptr;
  std::string sql_;
};

class Db {
 public:
  // Opens `path`; `create` allows creating the file.
  Db(const std::string& path, bool create);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(std::string_view sql);
  sqlite3* handle() { return db_; }
  int64_t last_insert_rowid() { return sqlite3_last_insert_rowid(db_); }
  int changes() { return sqlite3_changes(db_); }
  // Throws a MapiError for SQLite result `rc` (after a failed call), naming `what`.
  [[noreturn]] void fail(int rc, std::string_view what);
  // Called after each outermost transaction commits (not for savepoints): how a mailbox tells
  // its change feed that the journal grew. Must not throw.
  std::function<void()> on_commit;

 private:
  friend class Stmt;
  // Prepared statements not in use, by SQL text (bounded: see kMaxCachedStatements).
  sqlite3_stmt* take_cached(const std::string& sql);
  void give_back(const std::string& sql, sqlite3_stmt* s);

  friend class Transaction;
  int tx_depth_ = 0;  // open Transactions: the outermost is BEGIN IMMEDIATE, inner ones savepoints
  sqlite3* db_ = nullptr;
  std::string path_;
  std::unordered_multimap<std::string, sqlite3_stmt*> cache_;
};

// A transaction that rolls back unless committed (BEGIN IMMEDIATE: writers queue up front).
// Transactions nest: one opened inside another is a savepoint, so it is still all-or-nothing,
// but what it commits becomes durable only when the outermost one commits.
class Transaction {
 public:
  explicit Transaction(Db& db);
  ~Transaction();
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace openmapi::store::sqlite
