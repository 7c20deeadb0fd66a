// The write side of the task store: every state change of tasks, attempts,
// results and workers. Only the write loop's thread calls it, always inside an
// open transaction (see write_loop.h); nothing here commits.
//
// Task state machine (enforced here and only here):
//   queued -> in_progress            Claim (new fencing token; the attempt's
//                                    row is written when the attempt ends)
//   in_progress -> completed         Submit success with the current token
//   in_progress -> queued | failed   Submit failure / lease expiry (or the
//                                    holder restarted, EndEarlierInstance):
//                                    queued with backoff while attempts
//                                    remain, else failed
//   queued | in_progress -> cancelled  Cancel
//   failed | cancelled -> queued     Retry (fresh attempt budget)
// A task's fencing_token is the attempt_id of its latest lease; a result is
// accepted only with that token while the task is in_progress.
//
// The attempt history: the task row itself describes its latest attempt
// (fencing_token, attempts, worker_id, started_at, and completed_at once it
// succeeded). An attempt that ends any other way (failure, lease expiry,
// cancel) gets its row in attempts in the same transaction (EndAttempt),
// since a later attempt will overwrite those columns. A successful attempt
// gets none: a completed task never runs again, so the task row keeps its
// facts for good, and writing them twice was two b-tree inserts per task.
// TaskReader::GetTask lists the running and the successful attempt from the
// task row.
//
// Every token ever issued is at most the high-water mark SaveIdHighWater
// records in every transaction: Create() resumes above it (and above every
// row), so tokens stay strictly increasing across restarts and crashes.
//
// A task has a results row exactly while it is completed or failed (written
// by the move there, deleted by Retry): ListTasks finds completed tasks
// through results.
#ifndef SKILLSTORE_SERVER_TASK_WRITER_H_
#define SKILLSTORE_SERVER_TASK_WRITER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "codec.h"
#include "sqlite.h"
#include "task_events.h"

namespace skillstore::server {

// Ids a RetryTaskResponse lists (its retried_count counts them all): with
// hundreds of thousands failed, the whole list outgrew the 4 MiB a client
// receives by default, and the client saw an error for a retry that had
// been committed.
inline constexpr int kMaxRetriedIdsListed = 10000;

struct StoreOptions {
  int lease_seconds = 30;
  int default_max_attempts = 3;
  // Given to workers for tasks enqueued with timeout_seconds 0.
  int default_timeout_seconds = 300;
  // Retry backoff: base * 2^(attempt-1), capped.
  int64_t backoff_base_ms = 1000;
  int64_t backoff_max_ms = 60000;
  // Upper bound on ClaimTaskRequest.max_tasks. What a worker can run is
  // bounded by what its claims in flight bring per round trip, and a round
  // trip is 10-50 ms on a busy server (the write loop's transaction in
  // progress, the claim's own, its fsync). skill-worker keeps two claims in
  // flight, each asking for the free half of its slots (~256 of 513 with
  // tiny tasks): at 100 per call it got fewer tasks than it could parse.
  // In bench/compare.sh's run, 12 alternating pairs: 400 gave +11% tasks/s
  // over 100; 200 about the same as 400; 1000 5% below 400.
  int max_claim_tasks = 400;
  // Most leases one worker_id may hold at once (0: no limit); a claim is
  // cut down to fit, and refused with RESOURCE_EXHAUSTED when none fit.
  int max_leases_per_worker = 1000;

  int heartbeat_interval_seconds() const { return lease_seconds / 3 > 0 ? lease_seconds / 3 : 1; }
};

// What one transaction changed, applied to in-memory state (counts, waiters)
// only once the transaction has committed.
struct TxnEffects {
  // Net change of the number of tasks per status, indexed by v1::TaskStatus.
  std::array<int64_t, 6> status_delta{};
  // Tasks that reached completed or failed (for the throughput figure).
  int64_t finished = 0;
  // A task became queued: waiting claims should look again.
  bool claimable = false;
  // Worker rows changed (for the active-workers figure).
  bool workers_changed = false;
  // Per-type events and reported run times, for the metrics (task_events.h).
  TaskEvents events;
  // Log lines about changes (lease expired, worker lost), written only once
  // the COMMIT made them true: a rolled-back change is never reported.
  std::vector<std::function<void()>> after_commit;
  // Per worker in this transaction: results stored, for the workers table's
  // tasks_completed / tasks_failed (one UPDATE per worker per batch,
  // TaskWriter::ApplyWorkerTally, instead of one per result); and the net
  // change of the leases it holds, for TaskWriter's in-memory lease count.
  struct WorkerTally {
    int64_t completed = 0;
    int64_t failed = 0;
    int64_t leases = 0;
  };
  std::map<std::string, WorkerTally> worker_tally;

  void Add(v1::TaskStatus to) { ++status_delta[to]; }
  void Move(v1::TaskStatus from, v1::TaskStatus to);
  void Merge(const TxnEffects& other);
};

class TaskWriter {
 public:
  // A writer for `db` (migrated), with the state it keeps in memory (leases
  // per worker, the next fencing token) read from the database.
  static absl::StatusOr<std::unique_ptr<TaskWriter>> Create(Db& db, StoreOptions options);
  // The write loop's transaction boundaries, for what the writer keeps in
  // memory (leases per worker, running leases): a transaction (or a re-run
  // of one) starts; a transaction with `effects` committed.
  void BeginTransaction();
  void Committed(const TxnEffects& effects);

  // Inserts the batch (already validated by the service), deduplicating on
  // idempotency keys, including keys repeated inside the batch.
  absl::StatusOr<v1::EnqueueResponse> Enqueue(const v1::EnqueueRequest& request, int64_t now_ms,
                                              TxnEffects& effects);

  // Leases up to max_tasks claimable tasks (queued, past their backoff, of the
  // requested types), highest priority first, then oldest. May return none.
  absl::StatusOr<v1::ClaimTaskResponse> Claim(const v1::ClaimTaskRequest& request, int64_t now_ms,
                                              TxnEffects& effects);

  // The answer to a claim that found nothing (still carries the lease timing).
  v1::ClaimTaskResponse EmptyClaimResponse() const;

  // Records a result or failure for the task's current lease, or rejects it.
  absl::StatusOr<v1::SubmitResultResponse> Submit(const v1::SubmitResultRequest& request,
                                                  int64_t now_ms, TxnEffects& effects);

  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& request,
                                                  int64_t now_ms, TxnEffects& effects);

  // NotFound / FailedPrecondition (already finished) as the caller should see them.
  absl::StatusOr<v1::TaskInfo> Cancel(const v1::CancelTaskRequest& request, int64_t now_ms,
                                      TxnEffects& effects);

  absl::StatusOr<v1::RetryTaskResponse> Retry(const v1::RetryTaskRequest& request, int64_t now_ms,
                                              TxnEffects& effects);

  // Adds a batch's worker_tally to the workers table (the write loop calls it
  // once per transaction, after the batch's operations).
  absl::Status ApplyWorkerTally(const TxnEffects& effects);

  // Records in sqlite_sequence the largest task id and fencing token handed
  // out, when the transaction handed out any: the write loop calls it last
  // in every transaction. Load() starts the counters above these, so ids
  // never repeat, not even after rows were deleted by hand (what SQLite's
  // AUTOINCREMENT did with a write per INSERT; dropped in schema 4).
  absl::Status SaveIdHighWater();

  // A lease a ClaimTask answer granted, named as the answer named it.
  struct GrantedLease {
    int64_t task_id;
    int64_t fencing_token;
  };
  // Ends the leases of a ClaimTask answer that did not reach its client (the
  // call was cancelled as the answer went out): each ends as an expired
  // lease does (ExpireLease), now rather than at its deadline, so its task
  // is not held for --lease-seconds by a worker that never heard of it. A
  // lease that has ended already, or whose task moved on, is left alone.
  absl::Status EndUndeliveredLeases(absl::Span<const GrantedLease> leases, int64_t now_ms,
                                    TxnEffects& effects);

  // Re-queues (or fails, when out of attempts) tasks whose lease deadline has
  // passed, and marks workers lost after three missed heartbeat intervals.
  absl::Status Reap(int64_t now_ms, TxnEffects& effects);

 private:
  // The current lease state of one task.
  struct LeaseRow {
    int64_t task_id = 0;
    v1::TaskStatus status = v1::TASK_STATUS_UNSPECIFIED;
    int64_t fencing_token = 0;
    std::string worker_id;
    std::string task_type;
    int attempts = 0;
    int retry_base = 0;
    int max_attempts = 0;
    int64_t started_at_ms = 0;  // of the current (or last) lease
  };
  absl::StatusOr<bool> LoadLease(int64_t task_id, LeaseRow* row);
  // The same for an id as clients send it; an id that is not a task id is
  // simply not found.
  absl::StatusOr<bool> LoadLease(const std::string& task_id, LeaseRow* row);

  // A task of an Enqueue with its id, not yet written.
  struct PendingTask {
    int64_t task_id;
    const v1::TaskSpec* spec;
  };
  // The task an idempotency key already names, when `spec` (tasks[index] of
  // the request) is the same task; nullopt when the key is new.
  // ALREADY_EXISTS when a stored task holds the key for other work,
  // INVALID_ARGUMENT when an earlier task of the same request (`new_keys`)
  // does.
  absl::StatusOr<std::optional<int64_t>> FindIdempotentTask(
      const v1::TaskSpec& spec, int index,
      const std::unordered_map<std::string_view, int>& new_keys);
  // Writes the tasks rows and task_content rows of `tasks`, exactly one or
  // kEnqueueChunk of them (task_writer.cc), in one statement per table.
  absl::Status InsertTasks(absl::Span<const PendingTask> tasks, int64_t now_ms);

  // Moves the task of `lease` to completed if that lease is still current
  // (in_progress with its token); false when it is not.
  absl::StatusOr<bool> Complete(const LeaseRow& lease, int64_t now_ms);

  // The end of `lease` for running_leases_ (every end: success included).
  void ForgetLease(const LeaseRow& lease) { running_leases_.erase(lease.fencing_token); }

  // Writes the row of `lease`'s attempt, ended now with `outcome` (anything
  // but success, see the top of this file); forgets the lease.
  absl::Status EndAttempt(const LeaseRow& lease, v1::AttemptOutcome outcome,
                          const std::string& error, int64_t now_ms);

  // After a failed or expired attempt: back to queued with backoff while the
  // budget lasts, else failed with `error` stored as its result. Returns the
  // new status.
  absl::StatusOr<v1::TaskStatus> RequeueOrFail(const LeaseRow& lease, bool retryable,
                                               const std::string& error,
                                               const std::string& metrics_json, int64_t now_ms,
                                               TxnEffects& effects);

  absl::Status UpsertWorker(const std::string& worker_id, const std::string& instance_id,
                            const std::string& hostname, const char* status, int64_t now_ms,
                            TxnEffects& effects);

  // A request of `worker_id` naming `instance_id` (not empty) when the
  // worker's last one named another: the worker was restarted, and every
  // lease it holds belongs to a run that is gone. Each ends now as an
  // expired lease would (ExpireLease) rather than at its deadline. The new
  // instance is recorded by the caller's UpsertWorker: a heartbeat always, a
  // claim only when it grants; until then a later request looks again and
  // finds no lease left to end.
  absl::Status EndEarlierInstance(const std::string& worker_id, const std::string& instance_id,
                                  int64_t now_ms, TxnEffects& effects);

  // Ends every lease `worker_id` holds now (a scan of the leases in
  // progress), each as ExpireLease does, with the error "lease ended on
  // attempt N (worker '<worker_id>' <why>)". Returns how many it held.
  absl::StatusOr<size_t> EndLeasesOf(const std::string& worker_id, const std::string& why,
                                     int64_t now_ms, TxnEffects& effects);

  // Ends `lease` as lost (outcome lease_expired, `error`), re-queueing its
  // task with backoff or failing it when out of attempts: the reaper's work
  // for a lease past its deadline.
  absl::Status ExpireLease(const LeaseRow& lease, const std::string& error, int64_t now_ms,
                           TxnEffects& effects);
  absl::Status RequeueForRetry(int64_t task_id, v1::TaskStatus from, v1::TaskType type,
                               TxnEffects& effects);

  // Leases `worker_id` holds now, as far as a claim in the open transaction
  // must assume.
  int64_t LeasesHeld(const std::string& worker_id) const;

  TaskWriter(Db& db, StoreOptions options) : db_(db), options_(options) {}
  absl::Status Load();

  Db& db_;
  const StoreOptions options_;
  // The token of the next lease: above every token issued so far (see the
  // top of this file). Tokens of a rolled-back transaction are skipped, never
  // reused: they reached no one (answers go out after the COMMIT).
  int64_t next_fencing_token_ = 1;
  // The id of the next task, likewise above every task id handed out.
  int64_t next_task_id_ = 1;
  // The counters as of the last commit (what sqlite_sequence holds).
  int64_t saved_fencing_token_ = 1;
  int64_t saved_task_id_ = 1;
  // Leases per worker, kept instead of counting a worker's in_progress rows
  // on every claim. Invariant: leases_held_[w] is the number of tasks with
  // status 'in_progress' and worker_id w as of the last COMMIT (absent: 0).
  // Every transition into or out of in_progress records its +n / -1 in
  // TxnEffects::worker_tally[w].leases, applied by Committed().
  std::unordered_map<std::string, int64_t> leases_held_;
  // Leases granted per worker in the open transaction, so two claims of one
  // worker in one batch both count. Releases in the same transaction are not
  // subtracted (nor are claims undone by a savepoint): the count only errs
  // high, which can cut a claim short but never lets one exceed the limit.
  std::unordered_map<std::string, int64_t> claimed_in_transaction_;
  // The leases this writer granted that are still running, by fencing
  // token, so a success needs no read of the task row first. A lease's
  // fields never change while it runs; an entry is only a hint, though
  // (Complete checks the row), so one left by a rolled-back transaction is
  // harmless. Added by Claim, removed by ForgetLease at every end of a lease.
  std::unordered_map<int64_t, LeaseRow> running_leases_;
  // Tokens added to running_leases_ in the open transaction.
  std::vector<int64_t> running_leases_in_transaction_;
};

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_TASK_WRITER_H_
