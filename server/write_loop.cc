#include "write_loop.h"

#include <pthread.h>

#include <chrono>
#include <optional>

#include "server_metrics.h"
#include "spdlog/spdlog.h"
#include "status_macros.h"

namespace skillstore::server {

WriteLoop::WriteLoop(Db& db, TaskWriter& writer, ProgressTracker& progress, Options options)
    : db_(db), writer_(writer), progress_(progress), options_(options) {
  if (options_.wal_sync != nullptr) syncer_ = std::make_unique<SerialExecutor>("wal-sync");
}

WriteLoop::~WriteLoop() { Stop(); }

void WriteLoop::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "write-loop");  // for top -H, perf, gdb
    Loop();
  });
}

void WriteLoop::ReleaseWaiters() {
  std::lock_guard<std::mutex> lock(mu_);
  release_waiters_ = true;
  wake_.notify_one();
}

void WriteLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    release_waiters_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  if (syncer_ != nullptr) syncer_->Drain();  // posts its last completions to responder_
  responder_.Drain();
}

void WriteLoop::Run(Apply apply, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      operations_.push_back({std::move(apply), std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  done(absl::UnavailableError("the server is shutting down; try again later"));
}

void WriteLoop::Claim(v1::ClaimTaskRequest request, int64_t deadline_ms,
                      std::function<bool()> cancelled, ClaimDone done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      claims_.push_back({std::move(request), deadline_ms, std::move(cancelled), std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  done(absl::UnavailableError("the server is shutting down; try again later"));
}

void WriteLoop::Loop() {
  std::vector<Operation> operations;
  std::vector<PendingClaim> claims;
  next_tick_ms_ = NowUnixMs();
  while (true) {
    bool stopping = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      int64_t wake_ms = next_tick_ms_;
      for (const PendingClaim& claim : waiting_) wake_ms = std::min(wake_ms, claim.deadline_ms);
      const auto wake_at =
          std::chrono::system_clock::time_point(std::chrono::milliseconds(wake_ms));
      wake_.wait_until(lock, wake_at, [&] {
        return !operations_.empty() || !claims_.empty() || stopping_ ||
               (release_waiters_ && !waiting_.empty());
      });
      operations.swap(operations_);
      claims.swap(claims_);
      stopping = stopping_;
    }
    RunBatch(operations, claims);
    operations.clear();
    claims.clear();
    if (stopping) {
      std::lock_guard<std::mutex> lock(mu_);
      if (operations_.empty() && claims_.empty() && waiting_.empty()) break;
    }
  }
}

absl::Status WriteLoop::InSavepoint(const std::function<absl::Status()>& body) {
  SKS_ASSIGN_OR_RETURN(Statement begin, db_.Prepare("SAVEPOINT operation"));
  SKS_RETURN_IF_ERROR(begin.Run());
  absl::Status status = body();
  if (!status.ok()) {
    SKS_ASSIGN_OR_RETURN(Statement rollback, db_.Prepare("ROLLBACK TO operation"));
    SKS_RETURN_IF_ERROR(rollback.Run());
  }
  SKS_ASSIGN_OR_RETURN(Statement release, db_.Prepare("RELEASE operation"));
  SKS_RETURN_IF_ERROR(release.Run());
  return status;
}

void WriteLoop::RunBatch(std::vector<Operation>& operations, std::vector<PendingClaim>& claims) {
  const int64_t now_ms = NowUnixMs();
  const bool tick = now_ms >= next_tick_ms_;
  if (tick) next_tick_ms_ = now_ms + options_.tick_ms;
  if (operations.empty() && claims.empty() && !tick) {
    ExpireWaiters(now_ms);
    return;
  }

  // Claims in the order they are served: waiting ones first (they came
  // first), then the new ones. A waiting claim is looked at only when this
  // batch can have made a task claimable (or on the tick).
  std::vector<PendingClaim*> claim_order;
  std::vector<std::list<PendingClaim>::iterator> waiting_order;
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) waiting_order.push_back(it);
  // Per claim in claim_order: served (answered now) and how; unserved ones
  // wait (ExpireWaiters answers those that may not).
  std::vector<bool> served;
  std::vector<absl::StatusOr<v1::ClaimTaskResponse>> claim_results;
  std::vector<absl::Status> op_status(operations.size());
  TxnEffects batch;

  const auto txn_start = std::chrono::steady_clock::now();
  std::unique_ptr<Transaction> txn;
  absl::Status save_ids_status;
  // One pass over the batch inside `txn`. Fast pass (savepoints false): no
  // SAVEPOINT per operation, because SQLite copies every page an operation
  // touches into its sub-journal (with 16 KiB pages that was most of the
  // writer's CPU); it gives up (false) at the first failing operation, the
  // transaction is rolled back and the slow pass runs the batch again with a
  // SAVEPOINT around each operation so the failing one is undone alone.
  // Operations only read and write the database and their own response, so
  // running one twice is harmless.
  auto run_pass = [&](bool savepoints) -> bool {
    batch = TxnEffects();
    writer_.BeginTransaction();
    auto guarded = [&](const std::function<absl::Status()>& body) {
      return savepoints ? InSavepoint(body) : body();
    };
    // The fast pass records effects straight into `batch` (no per-operation
    // TxnEffects to build and merge): any failure there abandons the whole
    // pass, and the next pass starts from an empty batch. Only the slow pass,
    // where a failed operation is undone alone, needs its effects apart.
    for (size_t i = 0; i < operations.size(); ++i) {
      if (!savepoints) {
        op_status[i] = operations[i].apply(writer_, now_ms, batch);
        if (!op_status[i].ok()) return false;
        continue;
      }
      TxnEffects effects;
      op_status[i] = guarded([&] { return operations[i].apply(writer_, now_ms, effects); });
      if (op_status[i].ok()) batch.Merge(effects);
    }
    if (tick) {
      TxnEffects effects;
      absl::Status status = guarded([&] { return writer_.Reap(now_ms, effects); });
      if (!status.ok() && !savepoints) return false;
      if (status.ok()) {
        batch.Merge(effects);
      } else {
        spdlog::error("reaper: {}", status.ToString());
      }
    }
    claim_order.clear();
    if (!waiting_order.empty() && (tick || batch.claimable)) {
      for (auto it : waiting_order) claim_order.push_back(&*it);
    }
    for (PendingClaim& claim : claims) claim_order.push_back(&claim);
    served.assign(claim_order.size(), false);
    claim_results.clear();
    claim_results.resize(claim_order.size(), absl::UnknownError("not served"));
    // Once a claim for all types finds nothing, no later claim in this batch can.
    bool queue_empty = false;
    for (size_t i = 0; i < claim_order.size(); ++i) {
      PendingClaim& claim = *claim_order[i];
      // A client that has gone must not be leased tasks it will never run.
      if (claim.cancelled()) continue;
      if (queue_empty) continue;
      TxnEffects effects;
      v1::ClaimTaskResponse response;
      absl::Status status = guarded([&]() -> absl::Status {
        absl::StatusOr<v1::ClaimTaskResponse> claimed =
            writer_.Claim(claim.request, now_ms, effects);
        if (!claimed.ok()) return claimed.status();
        response = *std::move(claimed);
        return absl::OkStatus();
      });
      if (!status.ok() && !savepoints) return false;
      // Even a claim that found nothing may have changed something: ended
      // the leases of its worker's previous run (TaskWriter::Claim).
      if (status.ok()) batch.Merge(effects);
      if (status.ok() && response.tasks().empty()) {
        if (claim.request.types().empty()) queue_empty = true;
        continue;
      }
      served[i] = true;
      claim_results[i] = status.ok() ? absl::StatusOr<v1::ClaimTaskResponse>(std::move(response))
                                     : absl::StatusOr<v1::ClaimTaskResponse>(status);
    }
    if (!batch.worker_tally.empty()) {
      absl::Status status = guarded([&] { return writer_.ApplyWorkerTally(batch); });
      if (!status.ok() && !savepoints) return false;
      // The tasks' own changes stand; only the per-worker counts are behind.
      if (!status.ok()) spdlog::error("updating the workers' task counts: {}", status.ToString());
    }
    // Last, so it sees every id this transaction handed out. Not guarded: a
    // transaction that cannot record its ids must not commit them, in either
    // pass.
    save_ids_status = writer_.SaveIdHighWater();
    return save_ids_status.ok();
  };

  absl::Status begin_status;
  for (bool savepoints : {false, true}) {
    absl::StatusOr<std::unique_ptr<Transaction>> begun = Transaction::Begin(db_);
    if (!begun.ok()) {
      begin_status = begun.status();
      break;
    }
    txn = *std::move(begun);
    if (run_pass(savepoints)) break;
    txn.reset();  // rolls the failed pass back
  }
  if (txn == nullptr) {
    const absl::Status failure = begin_status.ok() ? save_ids_status : begin_status;
    spdlog::error("{}: {}",
                  begin_status.ok() ? "cannot record the ids handed out"
                                    : "cannot begin a write transaction",
                  failure.ToString());
    // Through Answer like any batch's, so they cannot overtake the answers
    // of an earlier batch still waiting for its sync (a result stream's
    // acks go out in order).
    std::vector<SerialExecutor::Closure> failures;
    for (Operation& op : operations) {
      failures.push_back([done = std::move(op.done), failure] { done(failure); });
    }
    for (PendingClaim& claim : claims) {
      failures.push_back([done = std::move(claim.done), failure] { done(failure); });
    }
    Answer(std::move(failures), options_.wal_sync != nullptr ? options_.wal_sync->LastBegun() : 0);
    return;
  }

  const uint64_t commit_number =
      options_.wal_sync != nullptr ? options_.wal_sync->BeginCommit() : 0;
  absl::Status commit = txn->Commit();
  if (options_.wal_sync != nullptr) options_.wal_sync->EndCommit(commit_number);
  txn.reset();  // rolls back when the COMMIT failed
  // Completions run after the COMMIT, with its status, on the responder.
  std::vector<SerialExecutor::Closure> completions;
  completions.reserve(1 + operations.size() + claim_order.size());
  if (!commit.ok()) {
    if (options_.metrics != nullptr) options_.metrics->OnCommitFailed();
    spdlog::error("group commit of {} operations failed: {}", operations.size() + claims.size(),
                  commit.ToString());
  } else {
    writer_.Committed(batch);
    if (options_.wal_sync == nullptr) progress_.Apply(batch, now_ms);
    size_t answered = operations.size();
    for (bool s : served) answered += s ? 1 : 0;
    if (options_.metrics != nullptr) {
      options_.metrics->OnCommit(
          batch, answered,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - txn_start).count());
    }
    if (batch.workers_changed) {
      absl::StatusOr<Statement> count = db_.Prepare(
          "SELECT COUNT(*) FROM workers WHERE status != 'lost' AND status != 'stopped'");
      if (count.ok()) {
        absl::StatusOr<bool> row = count->Step();
        if (row.ok() && *row) progress_.SetActiveWorkers(static_cast<int>(count->ColumnInt(0)));
      }
    }
    for (const auto& log : batch.after_commit) log();
    // With a WalSync, the counts GetProgress and WatchProgress show move once
    // the commit is durable, ahead of its answers (wal_sync.h). The batch's
    // last use, so it moves there.
    if (options_.wal_sync != nullptr) {
      completions.push_back(
          [this, effects = std::make_shared<const TxnEffects>(std::move(batch)), now_ms] {
            progress_.Apply(*effects, now_ms);
          });
    }
  }

  for (size_t i = 0; i < operations.size(); ++i) {
    completions.push_back([done = std::move(operations[i].done),
                           status = op_status[i].ok() ? commit : op_status[i]] { done(status); });
  }
  const size_t waiting_looked_at = claim_order.size() - claims.size();
  for (size_t i = 0; i < claim_order.size(); ++i) {
    if (!served[i]) continue;
    absl::StatusOr<v1::ClaimTaskResponse> response =
        !claim_results[i].ok() ? claim_results[i].status()
        : !commit.ok()         ? absl::StatusOr<v1::ClaimTaskResponse>(commit)
                               : std::move(claim_results[i]);
    completions.push_back(
        [done = std::move(claim_order[i]->done), response = std::move(response)]() mutable {
          done(std::move(response));
        });
  }
  Answer(std::move(completions), commit_number);
  for (size_t i = 0; i < waiting_looked_at; ++i) {
    if (served[i]) waiting_.erase(waiting_order[i]);
  }
  for (size_t i = waiting_looked_at; i < claim_order.size(); ++i) {
    if (!served[i]) waiting_.push_back(std::move(*claim_order[i]));
  }
  ExpireWaiters(now_ms);
}

void WriteLoop::AwaitDurable() {
  if (options_.wal_sync != nullptr) options_.wal_sync->AwaitDurable(options_.wal_sync->LastBegun());
}

void WriteLoop::Answer(std::vector<SerialExecutor::Closure> completions, uint64_t commit) {
  if (syncer_ == nullptr) {
    responder_.Post(std::move(completions));
    return;
  }
  // Error answers too (a failed COMMIT, a batch that could not begin) wait
  // their turn here, so no batch's answers overtake an earlier batch's.
  auto batch = std::make_shared<std::vector<SerialExecutor::Closure>>(std::move(completions));
  syncer_->Post({[this, commit, batch] {
    const std::optional<double> seconds = options_.wal_sync->WaitDurable(commit);
    if (seconds.has_value() && options_.metrics != nullptr) options_.metrics->OnWalSync(*seconds);
    responder_.Post(std::move(*batch));
  }});
}

void WriteLoop::ExpireWaiters(int64_t now_ms) {
  if (waiting_.empty()) return;
  bool release = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    release = release_waiters_;
  }
  std::vector<SerialExecutor::Closure> answers;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (release || it->deadline_ms <= now_ms || it->cancelled()) {
      spdlog::debug("long-poll claim of {} answered empty", it->request.worker_id());
      answers.push_back([done = std::move(it->done), empty = writer_.EmptyClaimResponse()] {
        done(empty);
      });
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
  // After every commit so far is durable, like any answer: a claim that
  // found nothing may still have changed something (ended the leases of its
  // worker's previous run), and its client may read that next.
  if (!answers.empty()) {
    Answer(std::move(answers),
           options_.wal_sync != nullptr ? options_.wal_sync->LastBegun() : 0);
  }
}

}  // namespace skillstore::server
