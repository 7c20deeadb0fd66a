#include "progress.h"

#include <algorithm>

#include "status_macros.h"

namespace skillstore::server {

absl::Status ProgressTracker::Load(Db& db, int64_t now_ms) {
  std::array<int64_t, 6> counts{};
  // tasks has no index on status (schema.cc, migration 3), and a GROUP BY
  // status would read every row (~1 s per million tasks). Each status but
  // completed is counted through its partial index, completed as the rest of
  // the table's row count (SQLite counts a b-tree's entries without reading
  // the rows).
  auto count = [&db](const char* sql) -> absl::StatusOr<int64_t> {
    SKS_ASSIGN_OR_RETURN(Statement select, db.Prepare(sql));
    SKS_ASSIGN_OR_RETURN(const bool row, select.Step());
    return row ? select.ColumnInt(0) : 0;
  };
  SKS_ASSIGN_OR_RETURN(const int64_t total, count("SELECT count(*) FROM tasks"));
  SKS_ASSIGN_OR_RETURN(counts[v1::TASK_STATUS_QUEUED],
                       count("SELECT count(*) FROM tasks INDEXED BY tasks_claim_by_type "
                             "WHERE status = 'queued'"));
  SKS_ASSIGN_OR_RETURN(counts[v1::TASK_STATUS_IN_PROGRESS],
                       count("SELECT count(*) FROM tasks INDEXED BY tasks_lease_deadline "
                             "WHERE status = 'in_progress'"));
  SKS_ASSIGN_OR_RETURN(counts[v1::TASK_STATUS_FAILED],
                       count("SELECT count(*) FROM tasks INDEXED BY tasks_failed_or_cancelled "
                             "WHERE status = 'failed'"));
  SKS_ASSIGN_OR_RETURN(counts[v1::TASK_STATUS_CANCELLED],
                       count("SELECT count(*) FROM tasks INDEXED BY tasks_failed_or_cancelled "
                             "WHERE status = 'cancelled'"));
  counts[v1::TASK_STATUS_COMPLETED] =
      total - counts[v1::TASK_STATUS_QUEUED] - counts[v1::TASK_STATUS_IN_PROGRESS] -
      counts[v1::TASK_STATUS_FAILED] - counts[v1::TASK_STATUS_CANCELLED];
  int active = 0;
  {
    SKS_ASSIGN_OR_RETURN(
        Statement select,
        db.Prepare("SELECT COUNT(*) FROM workers WHERE status != 'lost' AND status != 'stopped'"));
    SKS_ASSIGN_OR_RETURN(bool row, select.Step());
    if (row) active = static_cast<int>(select.ColumnInt(0));
  }
  std::lock_guard<std::mutex> lock(mu_);
  counts_ = counts;
  active_workers_ = active;
  started_ms_ = now_ms;
  ++version_;
  return absl::OkStatus();
}

void ProgressTracker::Apply(const TxnEffects& effects, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  bool changed = false;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (effects.status_delta[i] != 0) changed = true;
    counts_[i] += effects.status_delta[i];
  }
  if (effects.finished > 0) RecordFinishedLocked(effects.finished, now_ms);
  if (changed) ++version_;
}

void ProgressTracker::SetActiveWorkers(int count) {
  std::lock_guard<std::mutex> lock(mu_);
  if (active_workers_ != count) {
    active_workers_ = count;
    ++version_;
  }
}

void ProgressTracker::RecordFinishedLocked(int64_t count, int64_t now_ms) {
  const int64_t second = now_ms / 1000;
  const size_t slot = static_cast<size_t>(second % kWindowSeconds);
  if (bucket_second_[slot] != second) {
    bucket_second_[slot] = second;
    finished_[slot] = 0;
  }
  finished_[slot] += count;
}

uint64_t ProgressTracker::version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return version_;
}

v1::Progress ProgressTracker::Snapshot(int64_t now_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  v1::Progress progress;
  progress.set_queued(counts_[v1::TASK_STATUS_QUEUED]);
  progress.set_in_progress(counts_[v1::TASK_STATUS_IN_PROGRESS]);
  progress.set_completed(counts_[v1::TASK_STATUS_COMPLETED]);
  progress.set_failed(counts_[v1::TASK_STATUS_FAILED]);
  progress.set_cancelled(counts_[v1::TASK_STATUS_CANCELLED]);
  progress.set_total(progress.queued() + progress.in_progress() + progress.completed() +
                     progress.failed() + progress.cancelled());
  progress.set_active_workers(active_workers_);
  progress.set_timestamp_unix_ms(now_ms);

  // Throughput over the last minute, or over the server's uptime while that
  // is shorter (so a fresh server does not report a fraction of its rate).
  const int64_t now_second = now_ms / 1000;
  int64_t finished = 0;
  for (int i = 0; i < kWindowSeconds; ++i) {
    if (now_second - bucket_second_[i] < kWindowSeconds) finished += finished_[i];
  }
  const double window = std::clamp(static_cast<double>(now_ms - started_ms_) / 1000.0, 1.0,
                                   static_cast<double>(kWindowSeconds));
  const double rate = static_cast<double>(finished) / window;
  progress.set_tasks_per_second(rate);
  const int64_t remaining = progress.queued() + progress.in_progress();
  if (remaining == 0) {
    progress.set_eta_seconds(0);
  } else if (rate > 0) {
    progress.set_eta_seconds(static_cast<double>(remaining) / rate);
  } else {
    progress.set_eta_seconds(-1);
  }
  return progress;
}

}  // namespace skillstore::server
