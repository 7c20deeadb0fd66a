#include "schema.h"

#include <vector>

#include "absl/strings/str_cat.h"

namespace skillstore::server {
namespace {

// Times in the seed columns (created_at, started_at, completed_at,
// last_heartbeat) are Unix seconds as REAL, so `datetime(created_at,
// 'unixepoch')` works in ad-hoc queries; *_ms columns are integer milliseconds.
const char* const kMigrations[] = {
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

absl::Status MigrateSchema(Db& db) {
  absl::StatusOr<int> version = UserVersion(db);
  if (!version.ok()) return version.status();
  if (*version > kMigrationCount) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the database has schema version ", *version, " but this server knows only up to ",
        kMigrationCount, "; use a newer skillstore-server"));
  }
  for (int next = *version + 1; next <= kMigrationCount; ++next) {
    absl::StatusOr<std::unique_ptr<Transaction>> txn = Transaction::Begin(db);
    if (!txn.ok()) return txn.status();
    absl::Status status = db.Exec(kMigrations[next - 1]);
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
