#include "write_loop.h"

#include <chrono>

#include "server_metrics.h"
#include "spdlog/spdlog.h"
#include "status_macros.h"

namespace skillstore::server {

WriteLoop::WriteLoop(Db& db, TaskWriter& writer, ProgressTracker& progress, Options options)
    : db_(db), writer_(writer), progress_(progress), options_(options) {}

WriteLoop::~WriteLoop() { Stop(); }

void WriteLoop::Start() {
  thread_ = std::thread([this] { Loop(); });
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

  // Completions run after the COMMIT, with its status.
  std::vector<std::function<void(const absl::Status&)>> completions;
  completions.reserve(operations.size() + claims.size());
  TxnEffects batch;

  const auto txn_start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<Transaction>> txn = Transaction::Begin(db_);
  if (!txn.ok()) {
    spdlog::error("cannot begin a write transaction: {}", txn.status().ToString());
    for (Operation& op : operations) op.done(txn.status());
    for (PendingClaim& claim : claims) claim.done(txn.status());
    return;
  }

  for (Operation& op : operations) {
    TxnEffects effects;
    absl::Status status = InSavepoint([&] { return op.apply(writer_, now_ms, effects); });
    if (status.ok()) batch.Merge(effects);
    completions.push_back([done = std::move(op.done), status](const absl::Status& commit) {
      done(status.ok() ? commit : status);
    });
  }
  if (tick) {
    TxnEffects effects;
    absl::Status status = InSavepoint([&] { return writer_.Reap(now_ms, effects); });
    if (status.ok()) {
      batch.Merge(effects);
    } else {
      spdlog::error("reaper: {}", status.ToString());
    }
  }

  // Claims: waiting ones first (they came first), then the new ones. Once a
  // claim for all types finds nothing, no later claim in this batch can.
  bool queue_empty = false;
  auto try_claim = [&](PendingClaim& claim) -> bool {
    // A client that has gone must not be leased tasks it will never run.
    if (claim.cancelled()) return false;
    v1::ClaimTaskResponse response;
    absl::Status status;
    if (!queue_empty) {
      status = InSavepoint([&]() -> absl::Status {
        TxnEffects effects;
        absl::StatusOr<v1::ClaimTaskResponse> claimed =
            writer_.Claim(claim.request, now_ms, effects);
        if (!claimed.ok()) return claimed.status();
        response = *std::move(claimed);
        batch.Merge(effects);
        return absl::OkStatus();
      });
    }
    if (status.ok() && response.tasks().empty()) {
      if (claim.request.types().empty()) queue_empty = true;
      return false;
    }
    completions.push_back([done = std::move(claim.done), status,
                           response = std::move(response)](const absl::Status& commit) mutable {
      if (!status.ok()) return done(status);
      if (!commit.ok()) return done(commit);
      done(std::move(response));
    });
    return true;
  };
  if (!waiting_.empty() && (tick || batch.claimable)) {
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      it = try_claim(*it) ? waiting_.erase(it) : std::next(it);
    }
  }
  for (PendingClaim& claim : claims) {
    if (try_claim(claim)) continue;
    waiting_.push_back(std::move(claim));  // ExpireWaiters answers it if it may not wait
  }

  absl::Status commit = (*txn)->Commit();
  txn->reset();  // rolls back when the COMMIT failed
  if (!commit.ok()) {
    if (options_.metrics != nullptr) options_.metrics->OnCommitFailed();
    spdlog::error("group commit of {} operations failed: {}", completions.size(),
                  commit.ToString());
  } else {
    progress_.Apply(batch, now_ms);
    if (options_.metrics != nullptr) {
      options_.metrics->OnCommit(
          batch, completions.size(),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - txn_start).count());
    }
    if (batch.workers_changed) {
      absl::StatusOr<Statement> count =
          db_.Prepare("SELECT COUNT(*) FROM workers WHERE status != 'lost'");
      if (count.ok()) {
        absl::StatusOr<bool> row = count->Step();
        if (row.ok() && *row) progress_.SetActiveWorkers(static_cast<int>(count->ColumnInt(0)));
      }
    }
  }
  for (auto& completion : completions) completion(commit);
  ExpireWaiters(now_ms);
}

void WriteLoop::ExpireWaiters(int64_t now_ms) {
  if (waiting_.empty()) return;
  bool release = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    release = release_waiters_;
  }
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (release || it->deadline_ms <= now_ms || it->cancelled()) {
      spdlog::debug("long-poll claim of {} answered empty", it->request.worker_id());
      it->done(writer_.EmptyClaimResponse());
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace skillstore::server
