// The single writer: one thread owns the read-write connection and applies
// every state change with group commit.
//
// Callers (gRPC reactors on any thread) hand it operations. The thread drains
// everything pending into ONE transaction (BEGIN IMMEDIATE ... COMMIT) and
// hands each operation's completion (which answers its RPC) to the responder
// thread only after the COMMIT that holds its change, and with a WalSync
// (Options::wal_sync) only after the fsync that makes that COMMIT durable.
// One fsync thus covers every caller that arrived together, which is what
// makes the store both durable and fast; and while the wal-sync thread waits
// for the disk and the responder answers, this thread already runs the next
// batch (it is the one thread every request waits for).
//
// A failing operation must be rolled back alone. The batch first runs
// without savepoints (a SAVEPOINT per operation made SQLite copy every page
// it touched into a sub-journal: most of the writer's CPU); at the first
// failure that transaction is rolled back and the batch runs again with each
// operation inside its own SAVEPOINT. Operations only touch the database and
// their own response, so running one twice is harmless.
//
// Long-poll claims also live here: a claim that finds nothing waits in a FIFO
// list (holding no thread) and is tried again in the next transaction that
// makes a task claimable (enqueue, re-queue, retry) or on the periodic tick
// (backoff ending), and answered empty at its deadline. The same tick runs the
// reaper (expired leases, lost workers).
#ifndef SKILLSTORE_SERVER_WRITE_LOOP_H_
#define SKILLSTORE_SERVER_WRITE_LOOP_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "progress.h"
#include "serial_executor.h"
#include "sqlite.h"
#include "task_writer.h"
#include "wal_sync.h"

namespace skillstore::server {

class ServerMetrics;

class WriteLoop {
 public:
  // Runs on the writer thread inside the open transaction; returns the
  // operation's own outcome (its changes are rolled back when not OK).
  using Apply =
      std::function<absl::Status(TaskWriter& writer, int64_t now_ms, TxnEffects& effects)>;
  // Called once, after the COMMIT (and its sync, with a WalSync), on the
  // responder thread, in commit order:
  // the Apply status when that was not OK, else the COMMIT status. Must not
  // block.
  using Done = std::function<void(const absl::Status& status)>;
  using ClaimDone = std::function<void(absl::StatusOr<v1::ClaimTaskResponse> response)>;

  struct Options {
    // Reaper period, and how often waiting claims look again for tasks whose
    // backoff has ended.
    int64_t tick_ms = 250;
    // Told about every commit (task events, batch size, time); optional.
    ServerMetrics* metrics = nullptr;
    // Makes commits durable before their completions run, on a thread of
    // its own (wal_sync.h); must outlive the loop. Null: each COMMIT is as
    // durable as the connection's synchronous setting makes it.
    WalSync* wal_sync = nullptr;
  };

  WriteLoop(Db& db, TaskWriter& writer, ProgressTracker& progress, Options options);
  ~WriteLoop();  // Stop()
  WriteLoop(const WriteLoop&) = delete;
  WriteLoop& operator=(const WriteLoop&) = delete;

  void Start();
  // Answers every waiting claim (empty) and makes later claims answer at once;
  // the first step of shutdown, so no RPC outlives the server's grace period.
  void ReleaseWaiters();
  // Runs what is already queued, answers waiting claims, joins the thread.
  // Later operations fail with Unavailable.
  void Stop();

  void Run(Apply apply, Done done);

  // Returns once every commit begun so far is durable: a read that calls it
  // after reading answers nothing a power cut could still take back. At
  // once without a WalSync, where a COMMIT is as durable as it gets.
  void AwaitDurable();

  // Claims tasks for `request`, waiting until `deadline_ms` when none is
  // claimable. `cancelled` is polled to drop waiters whose client has gone.
  void Claim(v1::ClaimTaskRequest request, int64_t deadline_ms, std::function<bool()> cancelled,
             ClaimDone done);

 private:
  struct Operation {
    Apply apply;
    Done done;
  };
  struct PendingClaim {
    v1::ClaimTaskRequest request;
    int64_t deadline_ms;
    std::function<bool()> cancelled;
    ClaimDone done;
  };

  void Loop();
  // One group transaction over `operations` and `claims` (new claims); may
  // add claims to waiting_.
  void RunBatch(std::vector<Operation>& operations, std::vector<PendingClaim>& claims);
  // Answers waiting claims past their deadline, cancelled, or released.
  void ExpireWaiters(int64_t now_ms);
  // Runs `body` inside a SAVEPOINT, rolled back when it fails.
  absl::Status InSavepoint(const std::function<absl::Status()>& body);
  // Hands the completions of the batch just committed (WalSync number
  // `commit`) to the responder, through the wal-sync thread once that
  // commit is durable when there is a WalSync.
  void Answer(std::vector<SerialExecutor::Closure> completions, uint64_t commit);

  Db& db_;
  TaskWriter& writer_;
  ProgressTracker& progress_;
  const Options options_;

  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<Operation> operations_;  // guarded by mu_
  std::vector<PendingClaim> claims_;   // guarded by mu_
  bool stopping_ = false;              // guarded by mu_
  bool release_waiters_ = false;       // guarded by mu_
  std::thread thread_;
  SerialExecutor responder_{"responder"};  // runs the completions; drained by Stop()
  // Waits for each batch's sync, then posts its completions to responder_;
  // null without a WalSync. Drained by Stop() before responder_.
  std::unique_ptr<SerialExecutor> syncer_;

  // Writer thread only.
  std::list<PendingClaim> waiting_;
  int64_t next_tick_ms_ = 0;
};

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_WRITE_LOOP_H_
