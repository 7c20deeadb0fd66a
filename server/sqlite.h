// RAII wrappers around the SQLite C API: a connection (Db), a prepared
// statement (Statement) and a transaction guard (Transaction).
//
// Every SQL statement the server runs goes through Db::Prepare, which caches
// the compiled statement per connection, so hot paths never re-parse SQL.
// A Db is not thread-safe: each thread (the writer, each reader) owns its own.
#ifndef SKILLSTORE_SERVER_SQLITE_H_
#define SKILLSTORE_SERVER_SQLITE_H_

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace skillstore::server {

// A cached prepared statement, borrowed from its Db. Bind parameters are
// 1-based, columns 0-based (as in the C API). The statement is reset and its
// bindings cleared when the Statement is destroyed, so it can be reused.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, double value);
  Statement& BindText(int index, std::string_view value);
  // Bind without copying: `value` must stay alive and unchanged until the
  // statement is reset (this Statement destroyed). For big values on the
  // writer's hot path (result JSON, task content up to the content limit),
  // where a copy is a malloc and a memcpy of every byte on the one thread
  // every request waits for.
  Statement& BindTextNoCopy(int index, std::string_view value);
  Statement& BindBlob(int index, std::string_view value);
  Statement& BindBlobNoCopy(int index, std::string_view value);
  Statement& BindNull(int index);
  // Binds NULL for an empty string, the text otherwise.
  Statement& BindTextOrNull(int index, std::string_view value);

  // Advances to the next row: true when a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Runs a statement that returns no rows.
  absl::Status Run();

  int64_t ColumnInt(int column) const;
  double ColumnDouble(int column) const;
  std::string ColumnText(int column) const;  // "" for NULL
  // The same bytes without a copy, valid until the next Step or the end of
  // the statement: for reading part of a big value.
  std::string_view ColumnTextView(int column) const;
  bool ColumnIsNull(int column) const;

 private:
  sqlite3_stmt* stmt_;
  int bind_error_ = SQLITE_OK;
};

// Page size of databases this server creates (see Db::Open).
inline constexpr int kNewDatabasePageSize = 16384;

class Db {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // Opens (creating in kReadWrite mode) the database file.
  static absl::StatusOr<std::unique_ptr<Db>> Open(const std::string& path, Mode mode);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements that return no rows (PRAGMAs, DDL, BEGIN...).
  absl::Status Exec(const std::string& sql);

  // Returns the cached compiled form of `sql`, compiling it on first use.
  absl::StatusOr<Statement> Prepare(std::string_view sql);
  // The same for SQL written as a string literal (every hot path): found by
  // the literal's address, so the statement text is not compared against
  // the cache's keys on each of the ~10 statements a task costs. Only for
  // literals: the text at that address must never change.
  template <size_t N>
  absl::StatusOr<Statement> Prepare(const char (&sql)[N]) {
    return PrepareStable(std::string_view(sql, N - 1));
  }
  // The same for SQL built at run time that then lives, unchanged and at
  // the same address, as long as this Db: a function-local static string
  // (Enqueue's multi-row INSERTs).
  absl::StatusOr<Statement> PrepareStable(std::string_view sql) {
    auto it = by_address_.find(sql.data());
    if (it != by_address_.end()) return Statement(it->second);
    return PrepareByAddress(sql.data(), sql.size());
  }

  int Changes() const { return sqlite3_changes(db_); }
  sqlite3* raw() { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  absl::StatusOr<Statement> PrepareByAddress(const char* sql, size_t size);

  sqlite3* db_;
  // Owns every statement (finalized by ~Db).
  std::map<std::string, sqlite3_stmt*, std::less<>> cache_;
  // Literal address -> a statement of cache_ (not owned).
  std::unordered_map<const char*, sqlite3_stmt*> by_address_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless Commit()
// succeeded. IMMEDIATE takes the write lock up front, so a transaction never
// fails half-way with SQLITE_BUSY on lock upgrade.
class Transaction {
 public:
  static absl::StatusOr<std::unique_ptr<Transaction>> Begin(Db& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  absl::Status Commit();

 private:
  explicit Transaction(Db& db) : db_(db) {}
  Db& db_;
  bool done_ = false;
};

// Turns a SQLite result code into a Status naming what failed.
absl::Status SqliteError(sqlite3* db, int rc, const std::string& what);

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_SQLITE_H_
