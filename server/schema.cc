#include "schema.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "status_macros.h"

namespace skillstore::server {
namespace {

// Times in the seed columns (created_at, started_at, completed_at,
// last_heartbeat) are Unix seconds as REAL, so `datetime(created_at,
// 'unixepoch')` works in ad-hoc queries; *_ms columns are integer milliseconds.
const char* const kSqlMigrations[] = {
    // 1: the seed tables of the original design, plus leases, attempts,
    // priorities, backoff and idempotency keys.
    R"sql(
CREATE TABLE tasks (
  task_id          INTEGER PRIMARY KEY AUTOINCREMENT,
  task_type        TEXT    NOT NULL CHECK (task_type IN ('parse', 'validate', 'analyze')),
  skill_path       TEXT    NOT NULL DEFAULT '',
  status           TEXT    NOT NULL CHECK (status IN
                     ('queued', 'in_progress', 'completed', 'failed', 'cancelled')),
  created_at       REAL    NOT NULL,
  started_at       REAL,
  completed_at     REAL,
  worker_id        TEXT,
  metadata         TEXT    NOT NULL DEFAULT '{}',
  priority         INTEGER NOT NULL DEFAULT 0,
  max_attempts     INTEGER NOT NULL DEFAULT 3,
  timeout_seconds  INTEGER NOT NULL DEFAULT 0,
  attempts         INTEGER NOT NULL DEFAULT 0,
  -- attempts already used when the task was last retried by hand; the
  -- attempt budget (max_attempts) counts from here.
  retry_base       INTEGER NOT NULL DEFAULT 0,
  idempotency_key  TEXT,
  content_bytes    INTEGER NOT NULL DEFAULT 0,
  not_before_ms    INTEGER NOT NULL DEFAULT 0,
  fencing_token    INTEGER,
  lease_deadline_ms INTEGER,
  last_error       TEXT
);
-- Claiming: the next queued task, highest priority first, then oldest.
CREATE INDEX tasks_claim ON tasks (priority DESC, task_id) WHERE status = 'queued';
CREATE INDEX tasks_claim_by_type ON tasks (task_type, priority DESC, task_id)
  WHERE status = 'queued';
-- The reaper: leases by deadline.
CREATE INDEX tasks_lease_deadline ON tasks (lease_deadline_ms) WHERE status = 'in_progress';
CREATE UNIQUE INDEX tasks_idempotency_key ON tasks (idempotency_key)
  WHERE idempotency_key IS NOT NULL;
-- Listings filtered by status or worker, paged by task_id.
CREATE INDEX tasks_status ON tasks (status, task_id);
CREATE INDEX tasks_worker ON tasks (worker_id, task_id) WHERE worker_id IS NOT NULL;

-- Content lives apart so task rows stay small for scans.
CREATE TABLE task_content (
  task_id  INTEGER PRIMARY KEY REFERENCES tasks (task_id),
  content  BLOB NOT NULL
);

-- One row per lease; attempt_id is the lease's fencing token.
CREATE TABLE attempts (
  attempt_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id        INTEGER NOT NULL REFERENCES tasks (task_id),
  attempt        INTEGER NOT NULL,
  worker_id      TEXT    NOT NULL,
  started_at_ms  INTEGER NOT NULL,
  ended_at_ms    INTEGER,
  outcome        TEXT    NOT NULL CHECK (outcome IN
                   ('running', 'succeeded', 'failed', 'lease_expired', 'cancelled')),
  error          TEXT
);
CREATE INDEX attempts_task ON attempts (task_id, attempt_id);

CREATE TABLE results (
  task_id     INTEGER PRIMARY KEY REFERENCES tasks (task_id),
  result      TEXT,
  error       TEXT,
  metrics     TEXT NOT NULL DEFAULT '{}',
  created_at  REAL NOT NULL
);

CREATE TABLE workers (
  worker_id        TEXT    PRIMARY KEY,
  status           TEXT    NOT NULL CHECK (status IN ('active', 'idle', 'lost', 'draining')),
  tasks_completed  INTEGER NOT NULL DEFAULT 0,
  last_heartbeat   REAL    NOT NULL,
  created_at       REAL    NOT NULL,
  hostname         TEXT    NOT NULL DEFAULT '',
  tasks_failed     INTEGER NOT NULL DEFAULT 0,
  concurrency      INTEGER NOT NULL DEFAULT 0,
  version          TEXT    NOT NULL DEFAULT ''
);
)sql",
};

// Migration 2: the CHECK constraints of migration 1 as chains of `=` tests.
//
// SQLite compiles `CHECK (x IN ('a', 'b', 'c'))` into code that builds a
// temporary b-tree of the list (open, page allocation, one insert per value,
// close) every time the constraint is checked: on every INSERT, and on every
// UPDATE that sets the column. That happened ~6 times per task (enqueue,
// claim, result: tasks.status, tasks.task_type, attempts.outcome,
// workers.status) and was ~15% of the server's CPU for small tasks. An OR
// chain of comparisons accepts exactly the same values with no allocation.
//
// SQLite cannot ALTER a CHECK constraint; copying every table to change one
// would take minutes on a large database. The stored CREATE TABLE text is
// edited instead, the procedure https://sqlite.org/lang_altertable.html
// ("Making Other Kinds Of Table Schema Changes") documents for changing
// constraints without touching the stored rows: safe here because the new
// constraints accept exactly what the old ones did, so every existing row
// still satisfies them.
struct TableEdit {
  const char* table;
  const char* old_text;  // exactly as migration 1 wrote it
  const char* new_text;
};
const TableEdit kCheckRewrites[] = {
    {"tasks", "CHECK (task_type IN ('parse', 'validate', 'analyze'))",
     "CHECK (task_type = 'parse' OR task_type = 'validate' OR task_type = 'analyze')"},
    {"tasks",
     "CHECK (status IN\n                     ('queued', 'in_progress', 'completed', 'failed', "
     "'cancelled'))",
     "CHECK (status = 'queued' OR status = 'in_progress' OR status = 'completed' OR\n"
     "                     status = 'failed' OR status = 'cancelled')"},
    {"attempts",
     "CHECK (outcome IN\n                   ('running', 'succeeded', 'failed', 'lease_expired', "
     "'cancelled'))",
     "CHECK (outcome = 'running' OR outcome = 'succeeded' OR outcome = 'failed' OR\n"
     "                   outcome = 'lease_expired' OR outcome = 'cancelled')"},
    {"workers", "CHECK (status IN ('active', 'idle', 'lost', 'draining'))",
     "CHECK (status = 'active' OR status = 'idle' OR status = 'lost' OR status = 'draining')"},
};

// Applies `edits` to the stored CREATE TABLE text of their tables, in one
// change of the schema. Every edit must find its old text: a table not
// written by migration 1 is not edited blind.
template <size_t N>
absl::Status EditStoredTables(Db& db, const TableEdit (&edits)[N]) {
  SKS_ASSIGN_OR_RETURN(Statement cookie, db.Prepare("PRAGMA schema_version"));
  SKS_ASSIGN_OR_RETURN(const bool has_cookie, cookie.Step());
  if (!has_cookie) return absl::InternalError("PRAGMA schema_version returned no row");
  const int64_t schema_version = cookie.ColumnInt(0);
  SKS_RETURN_IF_ERROR(cookie.Run());  // finished before the schema changes under it

  std::vector<std::string> tables;
  for (const TableEdit& edit : edits) {
    if (std::find(tables.begin(), tables.end(), edit.table) == tables.end()) {
      tables.push_back(edit.table);
    }
  }
  SKS_RETURN_IF_ERROR(db.Exec("PRAGMA writable_schema = ON"));
  // Back to OFF on every path: a connection left able to write its schema
  // table could corrupt the database with any later mistake.
  struct SchemaEditing {
    Db& db;
    ~SchemaEditing() { db.Exec("PRAGMA writable_schema = OFF").IgnoreError(); }
  } editing{db};
  for (const std::string& table : tables) {
    std::string sql;
    {
      SKS_ASSIGN_OR_RETURN(
          Statement select,
          db.Prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?1"));
      select.BindText(1, table);
      SKS_ASSIGN_OR_RETURN(const bool found, select.Step());
      if (!found) return absl::FailedPreconditionError(absl::StrCat("no table ", table));
      sql = select.ColumnText(0);
    }
    for (const TableEdit& edit : edits) {
      if (edit.table != table) continue;
      const size_t at = sql.find(edit.old_text);
      if (at == std::string::npos) {
        return absl::FailedPreconditionError(absl::StrCat(
            "table ", table, " does not have `", edit.old_text, "`, which this migration edits"));
      }
      sql.replace(at, std::string_view(edit.old_text).size(), edit.new_text);
    }
    SKS_ASSIGN_OR_RETURN(
        Statement update,
        db.Prepare("UPDATE sqlite_schema SET sql = ?2 WHERE type = 'table' AND name = ?1"));
    update.BindText(1, table).BindText(2, sql);
    SKS_RETURN_IF_ERROR(update.Run());
  }
  // A new schema cookie makes every connection (this one included) reload
  // the schema before its next statement.
  return db.Exec(absl::StrCat("PRAGMA schema_version = ", schema_version + 1));
}

absl::Status RewriteCheckConstraints(Db& db) { return EditStoredTables(db, kCheckRewrites); }

// Migration 3: fewer index entries to move per task on the hot path.
//
// Each task passes queued -> in_progress -> completed; every index whose key
// or partial-index condition involves `status` has an entry deleted and
// another inserted at each step, all on the single writer thread. Dropped:
//  * tasks_status (status, task_id): 5 b-tree writes per task, for listings
//    and a per-claim count of a worker's leases. Listings now use what each
//    status already has (task_reader.cc): queued tasks the rowid order (they
//    are the newest), in_progress the lease index (as many entries as there
//    are leases), completed the results table (one row per completed or failed
//    task, kept by the task writer), failed / cancelled the small partial
//    index below. The lease count per worker is kept in memory by the task
//    writer.
//  * tasks_claim (priority DESC, task_id) over all types: claims read
//    tasks_claim_by_type once per type and merge (task_writer.cc).
// One index serves failed and cancelled tasks (SQLite sees that
// `status = 'failed'` implies its OR condition): every write of a tasks row
// opens a cursor on, and tests the condition of, each partial index, so two
// would cost more. Partial-index conditions are `=` tests (not IN lists, see
// migration 2). Only indexes change: no table is copied, so this is quick on
// a big database (creating the small index reads the table once).
const char kMigration3Sql[] = R"sql(
DROP INDEX tasks_status;
DROP INDEX tasks_claim;
CREATE INDEX tasks_failed_or_cancelled ON tasks (status, task_id)
  WHERE status = 'failed' OR status = 'cancelled';
)sql";

// Migration 4: two fewer b-tree writes per task on the hot path, and fewer
// pages rewritten per commit.
//  * tasks_worker (worker_id, task_id) got an entry for every task ever
//    claimed; only a listing by worker without a status filter used it.
//    Such a listing now reads tasks in id order (task_reader.cc), as a
//    listing by type does; every status filter has its own path.
//  * AUTOINCREMENT on tasks and attempts: SQLite wrote the table's row in
//    sqlite_sequence at the end of every INSERT, one more write per task for
//    each table. Ids still never repeat, deleted rows included: the task
//    writer hands out task ids and fencing tokens (attempt ids) from its own
//    counters and records their high-water marks in sqlite_sequence once per
//    transaction (TaskWriter::SaveIdHighWater). The keyword is edited out of
//    the stored CREATE TABLE text (as migration 2 does): AUTOINCREMENT only
//    changes how a new rowid is chosen, not how rows are stored, so every
//    existing row and page stays as it is.
const TableEdit kAutoincrementRemovals[] = {
    {"tasks", "task_id          INTEGER PRIMARY KEY AUTOINCREMENT,",
     "task_id          INTEGER PRIMARY KEY,"},
    {"attempts", "attempt_id     INTEGER PRIMARY KEY AUTOINCREMENT,",
     "attempt_id     INTEGER PRIMARY KEY,"},
};

absl::Status DropWorkerIndexAndAutoincrement(Db& db) {
  SKS_RETURN_IF_ERROR(db.Exec("DROP INDEX tasks_worker"));
  return EditStoredTables(db, kAutoincrementRemovals);
}

// Migration 5: a successful attempt gets no attempts row (task_writer.h);
// the completed task row is its record, and TaskReader::GetTask lists it
// from there, two b-tree inserts per task fewer. Rows written before stay
// and are listed as before (the reader does not add the task row's attempt
// when the last row already has its token). Nothing stored changes: the
// version moves so that an older server, which would list a completed task
// without its successful attempt, refuses the database instead.
absl::Status RecordSuccessfulAttemptsInTheTaskRow(Db&) { return absl::OkStatus(); }

// Migration 6: the run (process) of each worker that last spoke, so that a
// restarted worker's old leases end at once (TaskWriter::EndEarlierInstance).
// Adding a column with a constant default rewrites no row.
const char kMigration6Sql[] = R"sql(
ALTER TABLE workers ADD COLUMN instance_id TEXT NOT NULL DEFAULT '';
)sql";

// Migration 7: task content that was not sent is NULL, apart from content
// sent empty. Until now both were stored as an empty blob, so a worker with
// --skills-root read skill_path from its own disk for an empty file given to
// `skillctl enqueue`, and processed another file than the one enqueued. The
// column loses NOT NULL (by editing the stored CREATE TABLE text, as
// migration 2 does; the SQLite procedure lists dropping NOT NULL among the
// changes that leave every stored row valid). Open tasks stored before keep
// their meaning: their empty content becomes NULL, so they are read from disk
// as they would have been. Finished tasks are left as they are.
const TableEdit kContentMayBeNull[] = {
    {"task_content", "content  BLOB NOT NULL", "content  BLOB"},
};

absl::Status LetContentBeUnset(Db& db) {
  SKS_RETURN_IF_ERROR(EditStoredTables(db, kContentMayBeNull));
  return db.Exec(
      "UPDATE task_content SET content = NULL WHERE length(content) = 0 AND task_id IN "
      "(SELECT task_id FROM tasks WHERE status = 'queued' OR status = 'in_progress')");
}

// Migration 8: a worker that says it exits (HeartbeatRequest.stopping) is
// 'stopped', not 'lost'. The status CHECK (an `=` chain since migration 2)
// gains the value; a wider CHECK leaves every stored row valid.
const TableEdit kWorkersMayStop[] = {
    {"workers",
     "CHECK (status = 'active' OR status = 'idle' OR status = 'lost' OR status = 'draining')",
     "CHECK (status = 'active' OR status = 'idle' OR status = 'lost' OR status = 'draining' OR\n"
     "                           status = 'stopped')"},
};

absl::Status LetWorkersStop(Db& db) { return EditStoredTables(db, kWorkersMayStop); }

// Migration N is kMigrations[N - 1]: SQL, or code for what SQL cannot say.
struct Migration {
  const char* sql;
  absl::Status (*apply)(Db& db);
};
const Migration kMigrations[] = {
    {kSqlMigrations[0], nullptr},
    {nullptr, RewriteCheckConstraints},
    {kMigration3Sql, nullptr},
    {nullptr, DropWorkerIndexAndAutoincrement},
    {nullptr, RecordSuccessfulAttemptsInTheTaskRow},
    {kMigration6Sql, nullptr},
    {nullptr, LetContentBeUnset},
    {nullptr, LetWorkersStop},
};

constexpr int kMigrationCount = sizeof(kMigrations) / sizeof(kMigrations[0]);

absl::StatusOr<int> UserVersion(Db& db) {
  absl::StatusOr<Statement> stmt = db.Prepare("PRAGMA user_version");
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  return *row ? static_cast<int>(stmt->ColumnInt(0)) : 0;
}

}  // namespace

int LatestSchemaVersion() { return kMigrationCount; }

absl::Status MigrateSchema(Db& db) { return MigrateSchema(db, kMigrationCount); }

absl::Status MigrateSchema(Db& db, int target_version) {
  if (target_version < 1 || target_version > kMigrationCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("schema version ", target_version, " does not exist"));
  }
  absl::StatusOr<int> version = UserVersion(db);
  if (!version.ok()) return version.status();
  if (*version > kMigrationCount) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the database has schema version ", *version, " but this server knows only up to ",
        kMigrationCount, "; use a newer skillstore-server"));
  }
  if (*version >= target_version) return absl::OkStatus();
  for (int next = *version + 1; next <= target_version; ++next) {
    absl::StatusOr<std::unique_ptr<Transaction>> txn = Transaction::Begin(db);
    if (!txn.ok()) return txn.status();
    const Migration& migration = kMigrations[next - 1];
    absl::Status status =
        migration.sql != nullptr ? db.Exec(migration.sql) : migration.apply(db);
    if (status.ok()) status = db.Exec(absl::StrCat("PRAGMA user_version = ", next));
    if (status.ok()) status = (*txn)->Commit();
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat("schema migration ", next, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace skillstore::server
