#include "sqlite.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "sqlite_memory.h"

namespace skillstore::server {

absl::Status SqliteError(sqlite3* db, int rc, const std::string& what) {
  std::string message = absl::StrCat(what, ": ", sqlite3_errstr(rc));
  if (db != nullptr) absl::StrAppend(&message, " (", sqlite3_errmsg(db), ")");
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return absl::FailedPreconditionError(message);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement& Statement::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::BindText(int index, std::string_view value) {
  int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::BindTextNoCopy(int index, std::string_view value) {
  int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

namespace {

int BindBlobWith(sqlite3_stmt* stmt, int index, std::string_view value,
                               sqlite3_destructor_type lifetime) {
  // A zero-length blob must still be a blob, not NULL: pass a non-null pointer.
  static const char kEmpty = 0;
  return sqlite3_bind_blob64(stmt, index, value.empty() ? &kEmpty : value.data(), value.size(),
                             lifetime);
}

}  // namespace

Statement& Statement::BindBlob(int index, std::string_view value) {
  int rc = BindBlobWith(stmt_, index, value, SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::BindBlobNoCopy(int index, std::string_view value) {
  int rc = BindBlobWith(stmt_, index, value, SQLITE_STATIC);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

Statement& Statement::BindTextOrNull(int index, std::string_view value) {
  return value.empty() ? BindNull(index) : BindText(index, value);
}

absl::StatusOr<bool> Statement::Step() {
  sqlite3* db = sqlite3_db_handle(stmt_);
  if (bind_error_ != SQLITE_OK) return SqliteError(db, bind_error_, "binding a parameter");
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db, rc, absl::StrCat("running `", sqlite3_sql(stmt_), "`"));
}

absl::Status Statement::Run() {
  absl::StatusOr<bool> row = Step();
  if (!row.ok()) return row.status();
  return absl::OkStatus();
}

int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::ColumnDouble(int column) const { return sqlite3_column_double(stmt_, column); }

std::string Statement::ColumnText(int column) const { return std::string(ColumnTextView(column)); }

std::string_view Statement::ColumnTextView(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return std::string_view();
  return std::string_view(static_cast<const char*>(data), static_cast<size_t>(size));
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

absl::StatusOr<std::unique_ptr<Db>> Db::Open(const std::string& path, Mode mode) {
  // Memory statistics off: nobody reads them, and keeping them takes a
  // global mutex on every SQLite allocation. Global, so it must come before
  // SQLite initializes; later calls are refused harmlessly.
  //
  // The statement-journal spill size stays SQLite's default on purpose. A
  // larger one (1 MiB here once, to keep statement journals in one memory
  // chunk) makes SQLite 3.40 fail any statement whose journal outgrows it
  // with "database or disk is full" (tests/server/sqlite_test); and the
  // writes on the hot path are all OR FAIL (task_writer.cc), which keep no
  // statement journal at all.
  static std::once_flag configure;
  std::call_once(configure, [] {
    InstallSqliteMemory();
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  });
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX;  // each connection is used by one thread at a time
  flags |=
      mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(raw, rc, absl::StrCat("opening database ", path));
    sqlite3_close_v2(raw);
    return status;
  }
  auto db = std::unique_ptr<Db>(new Db(raw));
  // Readers may briefly wait on a checkpoint; the writer holds the only write lock.
  sqlite3_busy_timeout(raw, 5000);
  if (mode == Mode::kReadWrite) {
    // Takes effect only for a new database (before its first table and
    // before WAL mode is set); existing files keep their page size.
    // 16 KiB pages hold a typical result JSON (4-100 KB) in one to a few
    // pages instead of a chain of 4 KiB overflow pages: each page is a WAL
    // frame (two pwrite calls) and again a write at checkpoint, so big
    // results cost far fewer system calls.
    absl::Status status = db->Exec(absl::StrCat("PRAGMA page_size = ", kNewDatabasePageSize));
    if (!status.ok()) return status;
  }
  return db;
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

absl::Status Db::Exec(const std::string& sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return absl::OkStatus();
  std::string message = absl::StrCat("running `", sql, "`: ", error ? error : sqlite3_errstr(rc));
  sqlite3_free(error);
  return SqliteError(nullptr, rc, message);
}

absl::StatusOr<Statement> Db::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);  // transparent lookup: no allocation on the hot path
  if (it != cache_.end()) return Statement(it->second);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteError(db_, rc, "preparing `" + std::string(sql) + "`");
  }
  cache_.emplace(std::string(sql), stmt);
  return Statement(stmt);
}

absl::StatusOr<Statement> Db::PrepareByAddress(const char* sql, size_t size) {
  absl::StatusOr<Statement> statement = Prepare(std::string_view(sql, size));
  if (statement.ok()) by_address_.emplace(sql, cache_.find(std::string_view(sql, size))->second);
  return statement;
}

absl::StatusOr<std::unique_ptr<Transaction>> Transaction::Begin(Db& db) {
  absl::Status status = db.Exec("BEGIN IMMEDIATE");
  if (!status.ok()) return status;
  return std::unique_ptr<Transaction>(new Transaction(db));
}

Transaction::~Transaction() {
  if (!done_) db_.Exec("ROLLBACK").IgnoreError();
}

absl::Status Transaction::Commit() {
  absl::Status status = db_.Exec("COMMIT");
  // A failed COMMIT leaves the transaction open; the destructor rolls it back.
  if (status.ok()) done_ = true;
  return status;
}

}  // namespace skillstore::server
