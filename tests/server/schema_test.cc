// Schema migrations on real SQLite files: a database left at version 1 is
// upgraded in place with its rows and constraints intact, and the upgraded
// (or new) schema checks its constraints without a temporary b-tree per
// write. And the task writer's hot path on that schema: claimed tasks carry
// their row's fields, and the per-result metrics JSON survives hostile ids.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "process.h"
#include "server_test_util.h"
#include "schema.h"
#include "sqlite.h"
#include "task_reader.h"
#include "task_writer.h"

namespace skillstore::server {
namespace {

using testing::OpenWalDb;
using testing::QueryInt;
using testing::Success;

std::string Text(Db& db, const std::string& sql) {
  absl::StatusOr<Statement> stmt = db.Prepare(sql);
  EXPECT_TRUE(stmt.ok()) << stmt.status();
  if (!stmt.ok()) return "";
  absl::StatusOr<bool> row = stmt->Step();
  EXPECT_TRUE(row.ok() && *row) << sql;
  return stmt->ColumnText(0);
}

// Migrates `db` to the latest schema version; the file must come out whole.
void ExpectMigratesToLatest(Db& db) {
  ASSERT_TRUE(MigrateSchema(db).ok());
  EXPECT_EQ(QueryInt(db, "PRAGMA user_version"), LatestSchemaVersion());
  EXPECT_EQ(Text(db, "PRAGMA integrity_check"), "ok");
}

// How many temporary b-trees one run of `sql` opens (EXPLAIN's opcodes).
int EphemeralTables(Db& db, const std::string& sql) {
  // EXPLAIN compiles against the schema this connection last read without
  // checking the schema cookie (running a statement does check it and
  // recompiles): read the database first so that is the current schema.
  QueryInt(db, "SELECT COUNT(*) FROM sqlite_schema");
  absl::StatusOr<Statement> stmt = db.Prepare("EXPLAIN " + sql);
  EXPECT_TRUE(stmt.ok()) << stmt.status();
  if (!stmt.ok()) return -1;
  int count = 0;
  while (true) {
    absl::StatusOr<bool> row = stmt->Step();
    EXPECT_TRUE(row.ok()) << row.status();
    if (!row.ok() || !*row) break;
    if (stmt->ColumnText(1) == "OpenEphemeral") ++count;
  }
  return count;
}

// One write per CHECK constraint of the schema, as the server's hot path
// writes them.
const char* const kCheckedWrites[] = {
    "INSERT INTO tasks (task_type, status, created_at) VALUES ('parse', 'queued', 1)",
    "UPDATE tasks SET status = 'completed' WHERE task_id = 1",
    "INSERT INTO attempts (task_id, attempt, worker_id, started_at_ms, outcome) "
    "VALUES (1, 1, 'w', 1, 'running')",
    "UPDATE attempts SET outcome = 'succeeded' WHERE attempt_id = 1",
    "INSERT INTO workers (worker_id, status, last_heartbeat, created_at) "
    "VALUES ('w', 'active', 1, 1) ON CONFLICT (worker_id) DO UPDATE SET status = 'idle'",
};

void ExpectConstraintsHold(Db& db) {
  for (const char* type : {"parse", "validate", "analyze"}) {
    for (const char* status : {"queued", "in_progress", "completed", "failed", "cancelled"}) {
      EXPECT_TRUE(db.Exec(std::string("INSERT INTO tasks (task_type, status, created_at) VALUES ('") +
                          type + "', '" + status + "', 1)")
                      .ok())
          << type << " " << status;
    }
  }
  for (const char* outcome : {"running", "succeeded", "failed", "lease_expired", "cancelled"}) {
    EXPECT_TRUE(db.Exec(std::string("INSERT INTO attempts (task_id, attempt, worker_id, "
                                    "started_at_ms, outcome) VALUES (1, 1, 'w', 1, '") +
                        outcome + "')")
                    .ok())
        << outcome;
  }
  for (const char* status : {"active", "idle", "lost", "draining", "stopped"}) {
    EXPECT_TRUE(db.Exec(std::string("INSERT INTO workers (worker_id, status, last_heartbeat, "
                                    "created_at) VALUES ('w-") +
                        status + "', '" + status + "', 1, 1)")
                    .ok())
        << status;
  }
  const char* const refused[] = {
      "INSERT INTO tasks (task_type, status, created_at) VALUES ('compile', 'queued', 1)",
      "INSERT INTO tasks (task_type, status, created_at) VALUES ('parse', 'done', 1)",
      "UPDATE tasks SET status = 'Queued' WHERE task_id = 1",
      "INSERT INTO attempts (task_id, attempt, worker_id, started_at_ms, outcome) "
      "VALUES (1, 1, 'w', 1, 'ok')",
      "INSERT INTO workers (worker_id, status, last_heartbeat, created_at) "
      "VALUES ('w-busy', 'busy', 1, 1)",
  };
  for (const char* sql : refused) {
    absl::Status status = db.Exec(sql);
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << sql << ": " << status;
  }
}

TEST(Schema, VersionOneDatabaseIsUpgradedWithItsRowsAndConstraints) {
  skillstore::testing::TempDir dir;
  const std::string path = dir.File("store.db");
  {
    std::unique_ptr<Db> db = OpenWalDb(path);
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(MigrateSchema(*db, 1).ok());
    ASSERT_EQ(QueryInt(*db, "PRAGMA user_version"), 1);
    // Version 1 builds a temporary b-tree for its IN-list checks.
    EXPECT_GT(EphemeralTables(*db, kCheckedWrites[0]), 0);
    ASSERT_TRUE(db->Exec("INSERT INTO tasks (task_type, skill_path, status, created_at) VALUES "
                         "('parse', 'a/SKILL.md', 'in_progress', 1), "
                         "('analyze', 'b/SKILL.md', 'queued', 2)")
                    .ok());
    ASSERT_TRUE(db->Exec("INSERT INTO attempts (task_id, attempt, worker_id, started_at_ms, "
                         "outcome) VALUES (1, 1, 'w1', 1000, 'running')")
                    .ok());
    ASSERT_TRUE(db->Exec("INSERT INTO workers (worker_id, status, last_heartbeat, created_at) "
                         "VALUES ('w1', 'active', 1, 1)")
                    .ok());
  }
  // A connection open before the upgrade (like a reader's) must see the new
  // schema afterwards.
  std::unique_ptr<Db> before = OpenWalDb(path);
  ASSERT_NE(before, nullptr);
  EXPECT_EQ(QueryInt(*before, "SELECT COUNT(*) FROM tasks"), 2);

  std::unique_ptr<Db> db = OpenWalDb(path);
  ASSERT_NE(db, nullptr);
  ExpectMigratesToLatest(*db);
  EXPECT_TRUE(MigrateSchema(*db).ok());  // nothing left to do
  EXPECT_EQ(QueryInt(*db, "PRAGMA user_version"), LatestSchemaVersion());

  // The rows are untouched.
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM tasks"), 2);
  EXPECT_EQ(Text(*db, "SELECT skill_path FROM tasks WHERE status = 'queued'"), "b/SKILL.md");
  EXPECT_EQ(Text(*db, "SELECT outcome FROM attempts WHERE task_id = 1"), "running");
  EXPECT_EQ(Text(*db, "SELECT status FROM workers WHERE worker_id = 'w1'"), "active");
  // No IN-list constraint is left, on either connection.
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND "
                     "name IN ('tasks', 'attempts', 'workers') AND "
                     "(instr(sql, ' IN (') > 0 OR instr(sql, ' IN' || char(10)) > 0)"),
            0);
  for (Db* conn : {db.get(), before.get()}) {
    for (const char* sql : kCheckedWrites) EXPECT_EQ(EphemeralTables(*conn, sql), 0) << sql;
  }
  ExpectConstraintsHold(*db);
}

// Migration 3 only drops and creates indexes: the status index and the
// all-types claim index go, a narrow partial index of failed and cancelled
// tasks comes (built from the rows already there).
TEST(Schema, VersionTwoDatabaseIsUpgradedToFewerIndexes) {
  skillstore::testing::TempDir dir;
  std::unique_ptr<Db> db = OpenWalDb(dir.File("store.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(MigrateSchema(*db, 2).ok());
  ASSERT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'tasks_status'"), 1);
  for (const char* status :
       {"queued", "in_progress", "completed", "failed", "cancelled", "failed", "cancelled"}) {
    ASSERT_TRUE(db->Exec(std::string("INSERT INTO tasks (task_type, status, created_at) VALUES "
                                     "('parse', '") +
                         status + "', 1)")
                    .ok());
  }
  ASSERT_TRUE(MigrateSchema(*db, 3).ok());
  EXPECT_EQ(QueryInt(*db, "PRAGMA user_version"), 3);
  EXPECT_EQ(Text(*db, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(Text(*db, "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_schema "
                      "WHERE type = 'index' AND tbl_name = 'tasks' AND sql IS NOT NULL "
                      "ORDER BY name)"),
            "tasks_claim_by_type tasks_failed_or_cancelled tasks_idempotency_key "
            "tasks_lease_deadline tasks_worker");
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM tasks INDEXED BY tasks_failed_or_cancelled "
                          "WHERE status = 'failed'"),
            2);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM tasks INDEXED BY tasks_failed_or_cancelled "
                          "WHERE status = 'cancelled'"),
            2);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM tasks"), 7);
}

// Dropping a big index inside the migration's transaction writes a big
// statement journal; with the 1 MiB statement-journal spill size the server
// once configured, SQLite 3.40 failed that with "database or disk is full"
// (tests/server/sqlite_test has the general case). A quarter of a million
// tasks is enough.
TEST(Schema, VersionTwoDatabaseWithManyTasksIsUpgraded) {
  skillstore::testing::TempDir dir;
  std::unique_ptr<Db> db = OpenWalDb(dir.File("store.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(MigrateSchema(*db, 2).ok());
  ASSERT_TRUE(db->Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                       "WHERE i < 250000) INSERT INTO tasks (task_type, status, created_at) "
                       "SELECT 'parse', 'queued', i FROM n")
                  .ok());
  const absl::Status migrated = MigrateSchema(*db);
  ASSERT_TRUE(migrated.ok()) << migrated;
  EXPECT_EQ(QueryInt(*db, "PRAGMA user_version"), LatestSchemaVersion());
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'tasks_status'"), 0);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM tasks INDEXED BY tasks_claim_by_type "
                          "WHERE status = 'queued'"),
            250000);
}

// Migration 4 drops tasks_worker and AUTOINCREMENT (two writes per task).
// Ids must still never repeat, not even those of rows deleted by hand: the
// task writer starts above what sqlite_sequence remembers and keeps it up
// to date once per transaction.
TEST(Schema, VersionThreeDatabaseLosesAutoincrementButNeverRepeatsIds) {
  skillstore::testing::TempDir dir;
  std::unique_ptr<Db> db = OpenWalDb(dir.File("store.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(MigrateSchema(*db, 3).ok());
  ASSERT_TRUE(db->Exec("INSERT INTO tasks (task_type, status, created_at) VALUES "
                       "('parse', 'completed', 1), ('parse', 'queued', 1), ('parse', 'queued', 1)")
                  .ok());
  ASSERT_TRUE(db->Exec("INSERT INTO attempts (attempt_id, task_id, attempt, worker_id, "
                       "started_at_ms, outcome) VALUES (7, 1, 1, 'w', 1, 'succeeded')")
                  .ok());
  // The newest rows deleted by hand: only sqlite_sequence remembers 3 and 7.
  ASSERT_TRUE(db->Exec("DELETE FROM tasks WHERE task_id = 3; DELETE FROM attempts").ok());

  ExpectMigratesToLatest(*db);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM sqlite_schema WHERE instr(upper(sql), "
                          "'AUTOINCREMENT') > 0 OR name = 'tasks_worker'"),
            0);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM tasks"), 2);

  v1::EnqueueRequest enqueue;
  enqueue.add_tasks()->set_type(v1::TASK_TYPE_PARSE);
  v1::ClaimTaskRequest claim;
  claim.set_worker_id("w");
  claim.set_max_tasks(1);
  // One committed transaction, as the write loop runs it: the operations,
  // then SaveIdHighWater, COMMIT, Committed. Returns the new task's id and
  // the claimed lease's token.
  auto enqueue_and_claim = [&]() -> std::pair<int64_t, int64_t> {
    absl::StatusOr<std::unique_ptr<TaskWriter>> writer = TaskWriter::Create(*db, StoreOptions());
    EXPECT_TRUE(writer.ok()) << writer.status();
    if (!writer.ok()) return {0, 0};
    absl::StatusOr<std::unique_ptr<Transaction>> txn = Transaction::Begin(*db);
    EXPECT_TRUE(txn.ok()) << txn.status();
    if (!txn.ok()) return {0, 0};
    (*writer)->BeginTransaction();
    TxnEffects effects;
    absl::StatusOr<v1::EnqueueResponse> enqueued = (*writer)->Enqueue(enqueue, 1000, effects);
    absl::StatusOr<v1::ClaimTaskResponse> claimed = (*writer)->Claim(claim, 1000, effects);
    EXPECT_TRUE(enqueued.ok() && claimed.ok() && claimed->tasks_size() == 1);
    if (!enqueued.ok() || !claimed.ok() || claimed->tasks_size() != 1) return {0, 0};
    EXPECT_TRUE((*writer)->SaveIdHighWater().ok());
    EXPECT_TRUE((*txn)->Commit().ok());
    (*writer)->Committed(effects);
    return {std::stoll(enqueued->task_ids(0)), claimed->tasks(0).lease().fencing_token()};
  };
  const auto [task_a, token_a] = enqueue_and_claim();
  EXPECT_EQ(task_a, 4);   // not 3, the deleted row's id
  EXPECT_EQ(token_a, 8);  // not 7, the deleted attempt's
  EXPECT_EQ(Text(*db, "SELECT group_concat(name || '=' || seq, ' ') FROM (SELECT * FROM "
                      "sqlite_sequence ORDER BY name)"),
            "attempts=8 tasks=4");

  // Again the newest rows go by hand (the new task and every lease).
  ASSERT_TRUE(db->Exec("DELETE FROM tasks WHERE task_id >= 4; UPDATE tasks SET "
                       "status = 'queued', fencing_token = NULL, lease_deadline_ms = NULL")
                  .ok());
  const auto [task_b, token_b] = enqueue_and_claim();
  EXPECT_EQ(task_b, 5);
  EXPECT_EQ(token_b, 9);
  EXPECT_EQ(Text(*db, "PRAGMA integrity_check"), "ok");
}

// Schema 5 writes no attempts row for a successful attempt (the completed
// task row is its record); a row a schema-4 server wrote for one stays and
// is listed once, and a task completed after the upgrade lists its
// successful attempt from the task row, after its failed ones.
TEST(Schema, VersionFourSuccessfulAttemptRowsAreListedOnce) {
  skillstore::testing::TempDir dir;
  const std::string path = dir.File("store.db");
  std::unique_ptr<Db> db = OpenWalDb(path);
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(MigrateSchema(*db, 4).ok());
  // Task 1 completed by a schema-4 server: its attempts row says so.
  ASSERT_TRUE(db->Exec("INSERT INTO tasks (task_id, task_type, status, created_at, started_at, "
                       "completed_at, worker_id, attempts, fencing_token) VALUES "
                       "(1, 'parse', 'completed', 1, 2, 3, 'old', 1, 7)")
                  .ok());
  ASSERT_TRUE(db->Exec("INSERT INTO attempts (attempt_id, task_id, attempt, worker_id, "
                       "started_at_ms, ended_at_ms, outcome) VALUES "
                       "(7, 1, 1, 'old', 2000, 3000, 'succeeded')")
                  .ok());
  ASSERT_TRUE(MigrateSchema(*db).ok());
  EXPECT_EQ(QueryInt(*db, "PRAGMA user_version"), LatestSchemaVersion());

  // Task 2, after the upgrade: attempt 1 fails (retryable), attempt 2 succeeds.
  absl::StatusOr<std::unique_ptr<TaskWriter>> writer = TaskWriter::Create(*db, StoreOptions());
  ASSERT_TRUE(writer.ok()) << writer.status();
  absl::StatusOr<std::unique_ptr<Transaction>> txn = Transaction::Begin(*db);
  ASSERT_TRUE(txn.ok()) << txn.status();
  (*writer)->BeginTransaction();
  TxnEffects effects;
  v1::EnqueueRequest enqueue;
  enqueue.add_tasks()->set_type(v1::TASK_TYPE_PARSE);
  ASSERT_TRUE((*writer)->Enqueue(enqueue, 10000, effects).ok());
  v1::ClaimTaskRequest claim;
  claim.set_worker_id("new");
  claim.set_max_tasks(1);
  absl::StatusOr<v1::ClaimTaskResponse> first = (*writer)->Claim(claim, 11000, effects);
  ASSERT_TRUE(first.ok() && first->tasks_size() == 1) << first.status();
  v1::SubmitResultRequest failure;
  failure.set_task_id(first->tasks(0).task_id());
  failure.set_fencing_token(first->tasks(0).lease().fencing_token());
  failure.set_success(false);
  failure.set_retryable(true);
  failure.set_error("flaky");
  ASSERT_TRUE((*writer)->Submit(failure, 12000, effects).ok());
  ASSERT_TRUE(db->Exec("UPDATE tasks SET not_before_ms = 0").ok());  // no backoff wait
  absl::StatusOr<v1::ClaimTaskResponse> second = (*writer)->Claim(claim, 13000, effects);
  ASSERT_TRUE(second.ok() && second->tasks_size() == 1) << second.status();
  absl::StatusOr<v1::SubmitResultResponse> done =
      (*writer)->Submit(Success(second->tasks(0), "new", "{}"), 14000, effects);
  ASSERT_TRUE(done.ok() && done->accepted()) << done.status();
  ASSERT_TRUE((*writer)->SaveIdHighWater().ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM attempts WHERE task_id = 2"), 1);  // the failure

  TaskReader reader(path);
  v1::GetTaskRequest get;
  get.set_task_id("1");
  absl::StatusOr<v1::GetTaskResponse> old_task = reader.GetTask(get);
  ASSERT_TRUE(old_task.ok()) << old_task.status();
  ASSERT_EQ(old_task->attempts_size(), 1);
  EXPECT_EQ(old_task->attempts(0).outcome(), v1::ATTEMPT_OUTCOME_SUCCEEDED);
  EXPECT_EQ(old_task->attempts(0).fencing_token(), 7);

  get.set_task_id(second->tasks(0).task_id());
  absl::StatusOr<v1::GetTaskResponse> new_task = reader.GetTask(get);
  ASSERT_TRUE(new_task.ok()) << new_task.status();
  ASSERT_EQ(new_task->attempts_size(), 2);
  EXPECT_EQ(new_task->attempts(0).outcome(), v1::ATTEMPT_OUTCOME_FAILED);
  EXPECT_EQ(new_task->attempts(0).error(), "flaky");
  const v1::Attempt& success = new_task->attempts(1);
  EXPECT_EQ(success.outcome(), v1::ATTEMPT_OUTCOME_SUCCEEDED);
  EXPECT_EQ(success.attempt(), 2);
  EXPECT_EQ(success.worker_id(), "new");
  EXPECT_EQ(success.fencing_token(), second->tasks(0).lease().fencing_token());
  EXPECT_EQ(success.started_at_unix_ms(), 13000);
  EXPECT_EQ(success.ended_at_unix_ms(), 14000);
}

// Before version 7 content not sent was stored as an empty blob. Open tasks
// keep that meaning (NULL: read skill_path from disk); finished ones are
// left alone; the column then takes NULL for new tasks.
TEST(Schema, VersionSixEmptyContentOfOpenTasksBecomesContentNotSent) {
  skillstore::testing::TempDir dir;
  std::unique_ptr<Db> db = OpenWalDb(dir.File("store.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(MigrateSchema(*db, 6).ok());
  ASSERT_TRUE(db->Exec("INSERT INTO tasks (task_id, task_type, status, created_at) VALUES "
                       "(1, 'parse', 'queued', 1), (2, 'parse', 'in_progress', 1), "
                       "(3, 'parse', 'completed', 1), (4, 'parse', 'queued', 1)")
                  .ok());
  ASSERT_TRUE(db->Exec("INSERT INTO task_content (task_id, content) VALUES "
                       "(1, x''), (2, x''), (3, x''), (4, x'41')")
                  .ok());
  EXPECT_FALSE(db->Exec("INSERT INTO task_content (task_id, content) VALUES (5, NULL)").ok());

  ExpectMigratesToLatest(*db);
  EXPECT_EQ(Text(*db, "SELECT group_concat(task_id) FROM task_content WHERE content IS NULL"),
            "1,2");
  EXPECT_EQ(QueryInt(*db, "SELECT length(content) FROM task_content WHERE task_id = 3"), 0);
  EXPECT_EQ(Text(*db, "SELECT content FROM task_content WHERE task_id = 4"), "A");
  EXPECT_TRUE(db->Exec("INSERT INTO task_content (task_id, content) VALUES (5, NULL)").ok());
}

// Migration 8 lets a worker be 'stopped'; its rows stay as they were.
TEST(Schema, VersionSevenWorkersMayStop) {
  skillstore::testing::TempDir dir;
  std::unique_ptr<Db> db = OpenWalDb(dir.File("store.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(MigrateSchema(*db, 7).ok());
  ASSERT_TRUE(db->Exec("INSERT INTO workers (worker_id, status, last_heartbeat, created_at) "
                       "VALUES ('w1', 'lost', 1, 1)")
                  .ok());
  EXPECT_FALSE(db->Exec("INSERT INTO workers (worker_id, status, last_heartbeat, created_at) "
                        "VALUES ('w2', 'stopped', 1, 1)")
                   .ok());
  ExpectMigratesToLatest(*db);
  EXPECT_EQ(Text(*db, "SELECT status FROM workers WHERE worker_id = 'w1'"), "lost");
  EXPECT_TRUE(db->Exec("INSERT INTO workers (worker_id, status, last_heartbeat, created_at) "
                       "VALUES ('w2', 'stopped', 1, 1)")
                  .ok());
  EXPECT_FALSE(db->Exec("INSERT INTO workers (worker_id, status, last_heartbeat, created_at) "
                        "VALUES ('w3', 'gone', 1, 1)")
                   .ok());
}

TEST(Schema, NewDatabaseChecksWithoutTemporaryTables) {
  skillstore::testing::TempDir dir;
  std::unique_ptr<Db> db = OpenWalDb(dir.File("store.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(MigrateSchema(*db).ok());
  EXPECT_EQ(QueryInt(*db, "PRAGMA user_version"), LatestSchemaVersion());
  for (const char* sql : kCheckedWrites) EXPECT_EQ(EphemeralTables(*db, sql), 0) << sql;
  ExpectConstraintsHold(*db);
}

TEST(Schema, AnUnknownTargetVersionIsRefused) {
  skillstore::testing::TempDir dir;
  std::unique_ptr<Db> db = OpenWalDb(dir.File("store.db"));
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(MigrateSchema(*db, LatestSchemaVersion() + 1).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MigrateSchema(*db, 0).code(), absl::StatusCode::kInvalidArgument);
}

// The task writer's hot paths on a new database (migrated, WAL mode); each
// test makes its writers with the options it needs.
class TaskWriterHotPath : public ::testing::Test {
 protected:
  void SetUp() override {
    db = OpenWalDb(dir.File("store.db"));
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(MigrateSchema(*db).ok());
  }

  skillstore::testing::TempDir dir;
  std::unique_ptr<Db> db;
};

// Claim reads the lease's fields with the candidate row, and Submit writes
// its metrics JSON by hand: both checked against the stored rows.
TEST_F(TaskWriterHotPath, ClaimedFieldsAndMetricsJsonMatchTheRows) {
  StoreOptions options;
  options.default_timeout_seconds = 77;
  absl::StatusOr<std::unique_ptr<TaskWriter>> created = TaskWriter::Create(*db, options);
  ASSERT_TRUE(created.ok()) << created.status();
  TaskWriter& writer = **created;
  // Quotes, a backslash, control characters and non-ASCII text.
  const std::string worker = "w\"1\\\n\x01\xc3\xa9";

  absl::StatusOr<std::unique_ptr<Transaction>> txn = Transaction::Begin(*db);
  ASSERT_TRUE(txn.ok()) << txn.status();
  TxnEffects effects;
  v1::EnqueueRequest enqueue;
  v1::TaskSpec* low = enqueue.add_tasks();
  low->set_type(v1::TASK_TYPE_VALIDATE);
  low->set_skill_path("low/SKILL.md");
  low->set_content("low");
  v1::TaskSpec* high = enqueue.add_tasks();
  high->set_type(v1::TASK_TYPE_ANALYZE);
  high->set_skill_path("high/SKILL.md");
  high->set_content("high content");
  high->set_priority(5);
  high->set_max_attempts(7);
  (*high->mutable_metadata())["k"] = "v";
  ASSERT_TRUE(writer.Enqueue(enqueue, 1000, effects).ok());

  v1::ClaimTaskRequest claim;
  claim.set_worker_id(worker);
  claim.set_max_tasks(1);
  absl::StatusOr<v1::ClaimTaskResponse> claimed = writer.Claim(claim, 2000, effects);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->tasks_size(), 1);
  const v1::ClaimedTask& task = claimed->tasks(0);
  EXPECT_EQ(task.skill_path(), "high/SKILL.md");  // priority first
  EXPECT_EQ(task.type(), v1::TASK_TYPE_ANALYZE);
  EXPECT_EQ(task.priority(), 5);
  EXPECT_EQ(task.max_attempts(), 7);
  EXPECT_EQ(task.timeout_seconds(), 77);
  EXPECT_EQ(task.content(), "high content");
  ASSERT_EQ(task.metadata().count("k"), 1u);
  EXPECT_EQ(task.metadata().at("k"), "v");
  EXPECT_EQ(task.lease().attempt(), 1);
  // No metadata is stored as the empty object (queries may parse the column).
  EXPECT_EQ(Text(*db, "SELECT metadata FROM tasks WHERE skill_path = 'low/SKILL.md'"), "{}");
  EXPECT_EQ(QueryInt(*db, "SELECT attempts FROM tasks WHERE task_id = " + task.task_id()), 1);
  EXPECT_EQ(QueryInt(*db, "SELECT fencing_token FROM tasks WHERE task_id = " + task.task_id()),
            task.lease().fencing_token());
  // The running attempt is the task row; its attempts row comes at its end.
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM attempts"), 0);

  v1::SubmitResultRequest submit = Success(task, worker, "{}");
  submit.mutable_metrics()->set_duration_seconds(0.1);
  submit.mutable_metrics()->set_bytes_in(12);
  submit.mutable_metrics()->set_bytes_out(3000000000);
  absl::StatusOr<v1::SubmitResultResponse> submitted = writer.Submit(submit, 3000, effects);
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  EXPECT_TRUE(submitted->accepted()) << submitted->message();
  ASSERT_TRUE((*txn)->Commit().ok());
  // The successful attempt is the completed task row: no attempts row.
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM attempts"), 0);
  const std::string task_row = " FROM tasks WHERE task_id = " + task.task_id();
  EXPECT_EQ(Text(*db, "SELECT status" + task_row), "completed");
  EXPECT_EQ(QueryInt(*db, "SELECT fencing_token" + task_row), task.lease().fencing_token());
  EXPECT_EQ(QueryInt(*db, "SELECT attempts" + task_row), 1);
  EXPECT_EQ(Text(*db, "SELECT worker_id" + task_row), worker);
  EXPECT_EQ(QueryInt(*db, "SELECT CAST(started_at * 1000 AS INTEGER)" + task_row), 2000);
  EXPECT_EQ(QueryInt(*db, "SELECT CAST(completed_at * 1000 AS INTEGER)" + task_row), 3000);

  const nlohmann::json metrics = nlohmann::json::parse(
      Text(*db, "SELECT metrics FROM results WHERE task_id = " + task.task_id()), nullptr,
      /*allow_exceptions=*/false);
  ASSERT_TRUE(metrics.is_object()) << metrics;
  EXPECT_EQ(metrics.at("worker_id"), worker);
  EXPECT_EQ(metrics.at("task_type"), "analyze");
  EXPECT_EQ(metrics.at("attempt"), 1);
  EXPECT_EQ(metrics.at("bytes_in"), 12);
  EXPECT_EQ(metrics.at("bytes_out"), 3000000000);
  EXPECT_EQ(metrics.at("duration_seconds").get<double>(), 0.1);  // exactly, not rounded
}

// Content sent empty and content not sent are different tasks: the first is
// an empty file (the engine fails it), the second is read by a worker from
// its --skills-root. Both ways of writing rows (a chunk of 16, one by one)
// keep the difference, and a claim hands it on.
TEST_F(TaskWriterHotPath, ContentSentEmptyIsNotContentLeftOut) {
  absl::StatusOr<std::unique_ptr<TaskWriter>> writer = TaskWriter::Create(*db, StoreOptions());
  ASSERT_TRUE(writer.ok()) << writer.status();
  absl::StatusOr<std::unique_ptr<Transaction>> txn = Transaction::Begin(*db);
  ASSERT_TRUE(txn.ok()) << txn.status();
  TxnEffects effects;
  v1::EnqueueRequest enqueue;
  for (int i = 0; i < 17; ++i) {  // a chunk of 16, then one alone
    v1::TaskSpec* spec = enqueue.add_tasks();
    spec->set_type(v1::TASK_TYPE_PARSE);
    spec->set_skill_path(absl::StrCat("t", i, "/SKILL.md"));
    if (i % 3 == 0) spec->set_content("");  // sent, empty
    if (i % 3 == 1) spec->set_content("# x");
    // i % 3 == 2: not sent
  }
  ASSERT_TRUE((*writer)->Enqueue(enqueue, 1000, effects).ok());
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM task_content WHERE content IS NULL"), 5);
  v1::ClaimTaskRequest claim;
  claim.set_worker_id("w");
  claim.set_max_tasks(17);
  absl::StatusOr<v1::ClaimTaskResponse> claimed = (*writer)->Claim(claim, 2000, effects);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->tasks_size(), 17);
  for (const v1::ClaimedTask& task : claimed->tasks()) {
    const int i = std::stoi(task.skill_path().substr(1));
    SCOPED_TRACE(task.skill_path());
    EXPECT_EQ(task.has_content(), i % 3 != 2);
    EXPECT_EQ(task.content(), i % 3 == 1 ? "# x" : "");
  }
  ASSERT_TRUE((*txn)->Commit().ok());
}

// Enqueue writes unkeyed tasks 16 rows per statement, the rest of a request
// row by row, and a task with an idempotency key alone, after the tasks
// before it: every row must still hold its own task's fields, ids must
// follow the request's order, and a key repeated later in the same request
// must find the task the first one made.
TEST_F(TaskWriterHotPath, EnqueueInChunksKeepsEveryTasksFieldsAndOrder) {
  absl::StatusOr<std::unique_ptr<TaskWriter>> writer = TaskWriter::Create(*db, StoreOptions());
  ASSERT_TRUE(writer.ok()) << writer.status();
  absl::StatusOr<std::unique_ptr<Transaction>> txn = Transaction::Begin(*db);
  ASSERT_TRUE(txn.ok()) << txn.status();
  TxnEffects effects;

  // 20 unkeyed (one chunk and a remainder of 4), a keyed one, 16 more
  // unkeyed, the same key again, then 3 unkeyed.
  v1::EnqueueRequest enqueue;
  std::vector<int> spec_of_task;  // index into enqueue.tasks() of each new task, in order
  auto add = [&](const std::string& key) {
    const int i = enqueue.tasks_size();
    v1::TaskSpec* spec = enqueue.add_tasks();
    spec->set_type(i % 3 == 0 ? v1::TASK_TYPE_ANALYZE : v1::TASK_TYPE_PARSE);
    spec->set_skill_path("s" + std::to_string(i) + "/SKILL.md");
    spec->set_content(std::string(static_cast<size_t>(i), 'c') + std::to_string(i));
    spec->set_priority(i % 5);
    spec->set_max_attempts(1 + i % 4);
    spec->set_timeout_seconds(i);
    if (i % 7 == 0) (*spec->mutable_metadata())["n"] = std::to_string(i);
    spec->set_idempotency_key(key);
  };
  for (int i = 0; i < 20; ++i) add("");
  add("key-1");
  for (int i = 0; i < 16; ++i) add("");
  add("key-1");
  // A repeat of a key is the same task (type and content); its label may differ.
  const int first_keyed = 20;
  enqueue.mutable_tasks()->rbegin()->set_type(enqueue.tasks(first_keyed).type());
  enqueue.mutable_tasks()->rbegin()->set_content(enqueue.tasks(first_keyed).content());
  for (int i = 0; i < 3; ++i) add("");
  absl::StatusOr<v1::EnqueueResponse> enqueued = (*writer)->Enqueue(enqueue, 5000, effects);
  ASSERT_TRUE(enqueued.ok()) << enqueued.status();
  ASSERT_TRUE((*txn)->Commit().ok());

  ASSERT_EQ(enqueued->task_ids_size(), enqueue.tasks_size());
  EXPECT_EQ(enqueued->enqueued_count(), enqueue.tasks_size() - 1);
  EXPECT_EQ(enqueued->deduplicated_count(), 1);
  EXPECT_TRUE(enqueued->deduplicated(37));
  EXPECT_EQ(enqueued->task_ids(37), enqueued->task_ids(20));  // the first key-1 task
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM tasks"), enqueue.tasks_size() - 1);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM task_content"), enqueue.tasks_size() - 1);
  int64_t previous = 0;
  for (int i = 0; i < enqueue.tasks_size(); ++i) {
    if (i == 37) continue;
    const v1::TaskSpec& spec = enqueue.tasks(i);
    const std::string& id = enqueued->task_ids(i);
    EXPECT_GT(std::stoll(id), previous) << i;
    previous = std::stoll(id);
    const std::string row = " FROM tasks WHERE task_id = " + id;
    EXPECT_EQ(Text(*db, "SELECT skill_path" + row), spec.skill_path()) << i;
    EXPECT_EQ(Text(*db, "SELECT task_type" + row), i % 3 == 0 ? "analyze" : "parse") << i;
    EXPECT_EQ(Text(*db, "SELECT status" + row), "queued") << i;
    EXPECT_EQ(QueryInt(*db, "SELECT priority" + row), spec.priority()) << i;
    EXPECT_EQ(QueryInt(*db, "SELECT max_attempts" + row), spec.max_attempts()) << i;
    EXPECT_EQ(QueryInt(*db, "SELECT timeout_seconds" + row), spec.timeout_seconds()) << i;
    EXPECT_EQ(QueryInt(*db, "SELECT content_bytes" + row),
              static_cast<int64_t>(spec.content().size()))
        << i;
    EXPECT_EQ(QueryInt(*db, "SELECT CAST(created_at * 1000 AS INTEGER)" + row), 5000) << i;
    EXPECT_EQ(Text(*db, "SELECT metadata" + row),
              i % 7 == 0 ? "{\"n\":\"" + std::to_string(i) + "\"}" : "{}")
        << i;
    EXPECT_EQ(Text(*db, "SELECT ifnull(idempotency_key, '-')" + row), i == 20 ? "key-1" : "-")
        << i;
    EXPECT_EQ(Text(*db, "SELECT content FROM task_content WHERE task_id = " + id),
              spec.content())
        << i;
  }
  // The chunk statements build no temporary b-tree either.
  const std::string chunk_sql = Text(
      *db, "SELECT sql FROM sqlite_stmt WHERE sql LIKE 'INSERT OR FAIL INTO tasks%' "
           "ORDER BY length(sql) DESC LIMIT 1");
  EXPECT_GT(chunk_sql.size(), 1000u);  // the 16-row statement
  EXPECT_EQ(EphemeralTables(*db, chunk_sql), 0);
}

// Fencing tokens come from a counter in the task writer, seeded at start-up
// from the attempts rows and the running leases: a new writer on the same
// database (a restarted server, or one after kill -9: only committed state
// counts) never issues a token again. And a 'running' attempts row written
// at the claim by a server before schema 3 is ended in place.
TEST_F(TaskWriterHotPath, FencingTokensStayIncreasingAcrossWriters) {
  v1::EnqueueRequest enqueue;
  for (int i = 0; i < 4; ++i) enqueue.add_tasks()->set_type(v1::TASK_TYPE_PARSE);
  v1::ClaimTaskRequest claim;
  claim.set_worker_id("w");
  claim.set_max_tasks(1);
  // Runs `body` in one committed transaction with a writer made for it,
  // ended as the write loop ends every transaction (SaveIdHighWater).
  auto with_new_writer = [&](auto body) {
    absl::StatusOr<std::unique_ptr<TaskWriter>> writer = TaskWriter::Create(*db, StoreOptions());
    ASSERT_TRUE(writer.ok()) << writer.status();
    absl::StatusOr<std::unique_ptr<Transaction>> txn = Transaction::Begin(*db);
    ASSERT_TRUE(txn.ok()) << txn.status();
    TxnEffects effects;
    body(**writer, effects);
    ASSERT_TRUE((*writer)->SaveIdHighWater().ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  };
  auto claim_one = [&](TaskWriter& writer, TxnEffects& effects) {
    absl::StatusOr<v1::ClaimTaskResponse> claimed = writer.Claim(claim, 1000, effects);
    EXPECT_TRUE(claimed.ok() && claimed->tasks_size() == 1) << claimed.status();
    return claimed.ok() && claimed->tasks_size() == 1 ? claimed->tasks(0) : v1::ClaimedTask();
  };
  v1::ClaimedTask first;
  with_new_writer([&](TaskWriter& writer, TxnEffects& effects) {
    ASSERT_TRUE(writer.Enqueue(enqueue, 1000, effects).ok());
    first = claim_one(writer, effects);
  });
  // Still running (no attempts row): the next writer starts above its token.
  v1::ClaimedTask second;
  with_new_writer([&](TaskWriter& writer, TxnEffects& effects) {
    second = claim_one(writer, effects);
    v1::SubmitResultRequest submit;
    submit.set_task_id(second.task_id());
    submit.set_fencing_token(second.lease().fencing_token());
    submit.set_success(true);
    absl::StatusOr<v1::SubmitResultResponse> done = writer.Submit(submit, 2000, effects);
    ASSERT_TRUE(done.ok() && done->accepted()) << done.status();
  });
  EXPECT_GT(second.lease().fencing_token(), first.lease().fencing_token());
  // The first lease is gone by hand: the newest token is now the completed
  // task's (no attempts row) and the recorded high-water mark.
  ASSERT_TRUE(db->Exec("UPDATE tasks SET status = 'queued', fencing_token = NULL, "
                       "lease_deadline_ms = NULL WHERE task_id = " + first.task_id())
                  .ok());
  v1::ClaimedTask third;
  with_new_writer([&](TaskWriter& writer, TxnEffects& effects) {
    third = claim_one(writer, effects);
  });
  EXPECT_GT(third.lease().fencing_token(), second.lease().fencing_token());

  // A 'running' row as schema 2 wrote it at the claim, for the third lease.
  ASSERT_TRUE(db->Exec("INSERT INTO attempts (attempt_id, task_id, attempt, worker_id, "
                       "started_at_ms, outcome) VALUES (" +
                       std::to_string(third.lease().fencing_token()) + ", " + third.task_id() +
                       ", 1, 'w', 1000, 'running')")
                  .ok());
  with_new_writer([&](TaskWriter& writer, TxnEffects& effects) {
    v1::SubmitResultRequest submit;
    submit.set_task_id(third.task_id());
    submit.set_fencing_token(third.lease().fencing_token());
    submit.set_success(false);
    submit.set_error("boom");
    absl::StatusOr<v1::SubmitResultResponse> done = writer.Submit(submit, 3000, effects);
    ASSERT_TRUE(done.ok() && done->accepted()) << done.status();
  });
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM attempts WHERE task_id = " + third.task_id()), 1);
  EXPECT_EQ(Text(*db, "SELECT outcome || ' ' || ended_at_ms || ' ' || error FROM attempts "
                      "WHERE task_id = " + third.task_id()),
            "failed 3000 boom");
  // Hot writes open no temporary b-tree (the attempt's upsert included).
  for (const char* sql :
       {"INSERT OR FAIL INTO attempts (attempt_id, task_id, attempt, worker_id, started_at_ms, "
        "ended_at_ms, outcome, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
        "ON CONFLICT (attempt_id) DO UPDATE SET ended_at_ms = excluded.ended_at_ms, "
        "outcome = excluded.outcome, error = excluded.error WHERE attempts.outcome = 'running'"}) {
    EXPECT_EQ(EphemeralTables(*db, sql), 0) << sql;
  }
}

// A success for a lease the writer granted skips reading the task row, but
// only while the row still holds that lease: a row changed behind the
// writer's back (as a rolled-back transaction would leave its memory) gets
// the full checks.
TEST_F(TaskWriterHotPath, SuccessOfAKnownLeaseIsStillCheckedAgainstTheRow) {
  absl::StatusOr<std::unique_ptr<TaskWriter>> writer = TaskWriter::Create(*db, StoreOptions());
  ASSERT_TRUE(writer.ok()) << writer.status();
  TxnEffects effects;
  v1::EnqueueRequest enqueue;
  for (int i = 0; i < 3; ++i) enqueue.add_tasks()->set_type(v1::TASK_TYPE_PARSE);
  ASSERT_TRUE((*writer)->Enqueue(enqueue, 1000, effects).ok());
  v1::ClaimTaskRequest claim;
  claim.set_worker_id("w");
  claim.set_max_tasks(3);
  absl::StatusOr<v1::ClaimTaskResponse> claimed = (*writer)->Claim(claim, 1000, effects);
  ASSERT_TRUE(claimed.ok() && claimed->tasks_size() == 3) << claimed.status();
  auto success = [&](const v1::ClaimedTask& task, const std::string& worker) {
    absl::StatusOr<v1::SubmitResultResponse> done =
        (*writer)->Submit(Success(task, worker, "{}"), 2000, effects);
    EXPECT_TRUE(done.ok()) << done.status();
    return done.ok() ? *done : v1::SubmitResultResponse();
  };
  ASSERT_TRUE(db->Exec("UPDATE tasks SET status = 'cancelled' WHERE task_id = " +
                       claimed->tasks(0).task_id())
                  .ok());
  v1::SubmitResultResponse cancelled = success(claimed->tasks(0), "w");
  EXPECT_FALSE(cancelled.accepted());
  EXPECT_EQ(cancelled.reject_reason(), v1::REJECT_REASON_CANCELLED);
  EXPECT_EQ(Text(*db, "SELECT status FROM tasks WHERE task_id = " + claimed->tasks(0).task_id()),
            "cancelled");

  v1::SubmitResultResponse wrong = success(claimed->tasks(1), "someone-else");
  EXPECT_FALSE(wrong.accepted());
  EXPECT_EQ(wrong.reject_reason(), v1::REJECT_REASON_WRONG_WORKER);

  v1::SubmitResultResponse right = success(claimed->tasks(1), "w");
  EXPECT_TRUE(right.accepted()) << right.message();
  const std::string task_row = " FROM tasks WHERE task_id = " + claimed->tasks(1).task_id();
  EXPECT_EQ(Text(*db, "SELECT worker_id || ' ' || attempts || ' ' || status" + task_row),
            "w 1 completed");
  EXPECT_EQ(QueryInt(*db, "SELECT CAST(completed_at * 1000 AS INTEGER)" + task_row), 2000);
  // Submitted again (a lost acknowledgement): already recorded, nothing
  // written (a second success would have moved completed_at).
  v1::SubmitResultResponse again = (*writer)->Submit(Success(claimed->tasks(1), "w", "{}"), 2500,
                                                      effects).value();
  EXPECT_TRUE(again.accepted());
  EXPECT_EQ(again.message(), "already recorded for this lease");
  EXPECT_EQ(QueryInt(*db, "SELECT CAST(completed_at * 1000 AS INTEGER)" + task_row), 2000);
  EXPECT_EQ(QueryInt(*db, "SELECT COUNT(*) FROM attempts WHERE task_id = " +
                              claimed->tasks(1).task_id()),
            0);
  // Another result under the same lease is refused too: the first is kept.
  v1::SubmitResultResponse different =
      (*writer)->Submit(Success(claimed->tasks(1), "w", "{\"v\":2}"), 2550, effects).value();
  EXPECT_FALSE(different.accepted());
  EXPECT_EQ(different.reject_reason(), v1::REJECT_REASON_INVALID);
  EXPECT_NE(different.message().find("already recorded another result; the first one is kept"),
            std::string::npos)
      << different.message();
  EXPECT_EQ(Text(*db, "SELECT result FROM results WHERE task_id = " + claimed->tasks(1).task_id()),
            "{}");
  // The other outcome for the same lease is refused, not acknowledged as if
  // it were the one stored.
  v1::SubmitResultRequest failure = Success(claimed->tasks(1), "w", "");
  failure.set_success(false);
  failure.set_error("late failure");
  v1::SubmitResultResponse other = (*writer)->Submit(failure, 2600, effects).value();
  EXPECT_FALSE(other.accepted());
  EXPECT_EQ(other.reject_reason(), v1::REJECT_REASON_INVALID);
  EXPECT_EQ(other.message(), "lease " + std::to_string(claimed->tasks(1).lease().fencing_token()) +
                                 " of task " + claimed->tasks(1).task_id() +
                                 " already recorded a success; a second, different outcome is "
                                 "not stored");
  EXPECT_EQ(other.task_status(), v1::TASK_STATUS_COMPLETED);
  EXPECT_EQ(Text(*db, "SELECT ifnull(last_error, '-')" + task_row), "-");
}

// How many hundreds of VDBE instructions `db` runs during `body`: what a
// query costs, independent of the machine's speed.
int64_t VdbeHundreds(Db& db, const std::function<void()>& body) {
  int64_t hundreds = 0;
  sqlite3_progress_handler(
      db.raw(), 100,
      [](void* counter) {
        ++*static_cast<int64_t*>(counter);
        return 0;
      },
      &hundreds);
  body();
  sqlite3_progress_handler(db.raw(), 0, nullptr, nullptr);
  return hundreds;
}

// The gauge skillstore_queue_oldest_age_seconds reads this at every scrape.
// Schema 3 dropped the status index its query used, which made it read every
// task row ahead of the first queued one (all of them when none is queued).
// It now seeks the claim index once per (type, priority) group.
TEST(TaskReaderQueries, OldestQueuedTaskIsFoundWithoutReadingFinishedTasks) {
  skillstore::testing::TempDir dir;
  std::unique_ptr<Db> db = OpenWalDb(dir.File("store.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(MigrateSchema(*db).ok());
  int64_t hundreds = 0;
  auto count_steps = [&](const std::function<void()>& body) {
    hundreds = VdbeHundreds(*db, body);
  };

  std::optional<double> none = 7.0;
  count_steps([&] {
    absl::StatusOr<std::optional<double>> oldest = OldestQueuedCreatedAt(*db);
    ASSERT_TRUE(oldest.ok()) << oldest.status();
    none = *oldest;
  });
  EXPECT_FALSE(none.has_value());

  ASSERT_TRUE(db->Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                       "WHERE i < 20000) INSERT INTO tasks (task_type, status, created_at) "
                       "SELECT 'parse', 'completed', i FROM n")
                  .ok());
  // Queued in id order: the validate task is the oldest, whatever the
  // priorities and types of the others.
  ASSERT_TRUE(db->Exec("INSERT INTO tasks (task_type, status, created_at, priority) VALUES "
                       "('validate', 'queued', 100000, 0), ('parse', 'queued', 200000, 9), "
                       "('analyze', 'queued', 300000, -3), ('parse', 'queued', 400000, 0), "
                       "('parse', 'queued', 500000, 9)")
                  .ok());
  std::optional<double> oldest_created;
  count_steps([&] {
    absl::StatusOr<std::optional<double>> oldest = OldestQueuedCreatedAt(*db);
    ASSERT_TRUE(oldest.ok()) << oldest.status();
    oldest_created = *oldest;
  });
  ASSERT_TRUE(oldest_created.has_value());
  EXPECT_EQ(*oldest_created, 100000);
  // A scan of the 20,000 finished rows runs over 100,000 instructions; the
  // index seeks (two parse groups, one each of validate and analyze) a few
  // hundred.
  EXPECT_LT(hundreds, 50);

  ASSERT_TRUE(db->Exec("UPDATE tasks SET status = 'completed' WHERE created_at = 100000").ok());
  absl::StatusOr<std::optional<double>> next = OldestQueuedCreatedAt(*db);
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ(**next, 200000);
}

// ListTasks(status=queued) read tasks in id order from the first task on:
// every finished task ahead of the first queued one, on every first page.
// ListQueued merges the claim index's (type, priority) groups instead.
TEST(TaskReaderQueries, QueuedTasksAreListedInIdOrderWithoutReadingFinishedTasks) {
  skillstore::testing::TempDir dir;
  std::unique_ptr<Db> db = OpenWalDb(dir.File("store.db"));
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(MigrateSchema(*db).ok());
  ASSERT_TRUE(db->Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                       "WHERE i < 20000) INSERT INTO tasks (task_type, status, created_at) "
                       "SELECT 'parse', 'completed', i FROM n")
                  .ok());
  // Queued tasks of every type and several priorities, interleaved by id,
  // with finished ones between them.
  const char* const types[] = {"parse", "validate", "analyze"};
  std::vector<std::string> queued, queued_parse;
  for (int i = 0; i < 24; ++i) {
    const std::string type = types[i % 3];
    const int priority = (i * 7) % 5 - 2;
    ASSERT_TRUE(db->Exec("INSERT INTO tasks (task_type, status, created_at, priority) VALUES ('" +
                         type + "', 'queued', 1, " + std::to_string(priority) +
                         "), ('parse', 'completed', 1, 0)")
                    .ok());
    const std::string id = std::to_string(QueryInt(*db, "SELECT max(task_id) FROM tasks") - 1);
    queued.push_back(id);
    if (type == "parse") queued_parse.push_back(id);
  }

  // Every page of `request`, `page_size` at a time: the ids in order.
  auto list_all = [&](v1::ListTasksRequest request, int page_size) {
    std::vector<std::string> ids;
    int64_t after = 0;
    while (true) {
      absl::StatusOr<v1::ListTasksResponse> page = ListQueued(*db, request, after, page_size);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      EXPECT_LE(page->tasks_size(), page_size);
      for (const v1::TaskInfo& task : page->tasks()) {
        EXPECT_EQ(task.status(), v1::TASK_STATUS_QUEUED);
        ids.push_back(task.task_id());
      }
      if (page->next_page_token().empty()) break;
      const std::string& token = page->next_page_token();
      EXPECT_EQ(token.rfind("tasks:", 0), 0u) << token;
      after = std::stoll(token.substr(token.find(':') + 1));
    }
    return ids;
  };
  EXPECT_EQ(list_all(v1::ListTasksRequest(), 5), queued);
  EXPECT_EQ(list_all(v1::ListTasksRequest(), 1000), queued);
  v1::ListTasksRequest parse_only;
  parse_only.set_type(v1::TASK_TYPE_PARSE);
  EXPECT_EQ(list_all(parse_only, 3), queued_parse);
  v1::ListTasksRequest by_worker;
  by_worker.set_worker_id("w");  // queued tasks hold no worker
  EXPECT_TRUE(list_all(by_worker, 10).empty());

  // A first page costs index seeks, not a pass over the 20,000 finished
  // tasks ahead of the queued ones (which ran over 100,000 instructions).
  absl::StatusOr<v1::ListTasksResponse> first = absl::UnknownError("not run");
  const int64_t hundreds =
      VdbeHundreds(*db, [&] { first = ListQueued(*db, v1::ListTasksRequest(), 0, 10); });
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->tasks_size(), 10);
  EXPECT_LT(hundreds, 100);
}

}  // namespace
}  // namespace skillstore::server
