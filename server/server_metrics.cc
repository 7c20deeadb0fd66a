#include "server_metrics.h"

#include "codec.h"
#include "task_reader.h"

namespace skillstore::server {
namespace {

constexpr const char* kTypeLabels[kNumTaskTypes] = {"unknown", "parse", "validate", "analyze"};
constexpr const char* kRejectLabels[kNumRejectReasons] = {
    "unspecified", "stale_lease", "cancelled", "unknown_task", "invalid", "wrong_worker"};

struct EventDefinition {
  TaskEvent event;
  const char* name;
  const char* help;
};
constexpr EventDefinition kEvents[kNumTaskEvents] = {
    {TaskEvent::kEnqueued, "skillstore_tasks_enqueued_total",
     "Tasks enqueued (idempotent duplicates not counted), by type"},
    {TaskEvent::kClaimed, "skillstore_tasks_claimed_total",
     "Leases handed to workers (one per attempt), by type"},
    {TaskEvent::kCompleted, "skillstore_tasks_completed_total",
     "Tasks completed with a stored result, by type"},
    {TaskEvent::kFailed, "skillstore_tasks_failed_total",
     "Tasks that ended failed (dead letter: not retryable or out of attempts), by type"},
    {TaskEvent::kRetried, "skillstore_tasks_retried_total",
     "Tasks re-queued: with backoff after a failed or expired attempt, or by RetryTask, by type"},
    {TaskEvent::kLeaseExpired, "skillstore_tasks_lease_expired_total",
     "Leases taken back before a result: the worker stopped heartbeating, did not name the "
     "lease, restarted or stopped, by type"},
    {TaskEvent::kCancelled, "skillstore_tasks_cancelled_total", "Tasks cancelled, by type"},
};

}  // namespace

ServerMetrics::ServerMetrics(metrics::Registry& registry, const ProgressTracker& progress,
                             std::string db_path, const TlsReloader* tls)
    : progress_(progress), db_path_(std::move(db_path)), tls_(tls), rpc_(registry, "skillstore") {
  if (tls_ != nullptr) {
    tls_not_after_ =
        &registry
             .AddGauge("skillstore_tls_certificate_expiry_timestamp_seconds",
                       "Unix time at which the TLS certificate being served expires (alert on "
                       "this minus time() getting small)")
             .Get();
    auto& reloads = registry.AddCounter(
        "skillstore_tls_reloads_total",
        "Checks of the TLS files (SIGHUP, --tls-reload-interval) by result: changed (a renewal "
        "now served), unchanged, failed (refused; the previous certificate still serves)",
        {"result"});
    tls_reloads_ = {&reloads.WithLabels({"changed"}), &reloads.WithLabels({"unchanged"}),
                    &reloads.WithLabels({"failed"})};
  }
  auto& tasks = registry.AddGauge(
      "skillstore_tasks", "Tasks in the store by status (the counts GetProgress reports)",
      {"status"});
  for (v1::TaskStatus status :
       {v1::TASK_STATUS_QUEUED, v1::TASK_STATUS_IN_PROGRESS, v1::TASK_STATUS_COMPLETED,
        v1::TASK_STATUS_FAILED, v1::TASK_STATUS_CANCELLED}) {
    tasks_by_status_[status] = &tasks.WithLabels({TaskStatusText(status)});
  }
  queue_depth_ = &registry
                      .AddGauge("skillstore_queue_depth",
                                "Tasks queued, including those waiting out a retry backoff")
                      .Get();
  oldest_queued_age_ =
      &registry
           .AddGauge("skillstore_queue_oldest_age_seconds",
                     "Seconds since the oldest queued task was enqueued (0 when none is queued)")
           .Get();
  workers_active_ =
      &registry.AddGauge("skillstore_workers_active", "Workers not marked lost").Get();

  for (const EventDefinition& definition : kEvents) {
    auto& family = registry.AddCounter(definition.name, definition.help, {"type"});
    for (size_t t = 0; t < kNumTaskTypes; ++t) {
      // The three real types exist from the start (at zero), so rate() and
      // dashboards see them before the first event; "unknown" only if used.
      if (t > 0) task_counters_[static_cast<size_t>(definition.event)][t] =
          &family.WithLabels({kTypeLabels[t]});
    }
  }
  auto& rejected = registry.AddCounter(
      "skillstore_results_rejected_total",
      "Results refused and not stored (stale or foreign lease, cancelled, unknown task, invalid), "
      "by reason",
      {"reason"});
  for (size_t r = 1; r < kNumRejectReasons; ++r) {
    rejected_[r] = &rejected.WithLabels({kRejectLabels[r]});
  }
  auto& durations = registry.AddHistogram(
      "skillstore_task_duration_seconds",
      "Task run time reported by workers with each accepted result, by type and outcome",
      {"type", "outcome"}, metrics::DurationBuckets());
  for (size_t t = 1; t < kNumTaskTypes; ++t) {
    durations_[t][0] = &durations.WithLabels({kTypeLabels[t], "failed"});
    durations_[t][1] = &durations.WithLabels({kTypeLabels[t], "succeeded"});
  }
  commit_batch_size_ = &registry
                            .AddHistogram("skillstore_commit_batch_size",
                                          "Operations and claims answered by one group commit",
                                          {}, metrics::ExponentialBuckets(1, 2, 13))
                            .Get();
  commit_duration_ =
      &registry
           .AddHistogram("skillstore_commit_duration_seconds",
                         "Time of one group transaction, BEGIN to the end of COMMIT (with "
                         "--synchronous=full the fsync follows, see wal_sync_duration)",
                         {}, metrics::LatencyBuckets())
           .Get();
  commit_failures_ =
      &registry.AddCounter("skillstore_commit_failures_total", "Group commits that failed").Get();
  wal_sync_duration_ =
      &registry
           .AddHistogram("skillstore_wal_sync_duration_seconds",
                         "One fdatasync of the WAL making group commits durable before their "
                         "replies (--synchronous=full); the disk's flush latency",
                         {}, metrics::LatencyBuckets())
           .Get();
  auto& checkpoints = registry.AddHistogram(
      "skillstore_checkpoint_duration_seconds",
      "One WAL checkpoint: phase=background copies the WAL into the database file on its own "
      "thread while commits go on; phase=remainder is the last copy, made by the write loop "
      "itself before the WAL starts over, during which no commit runs",
      {"phase"}, metrics::LatencyBuckets());
  checkpoint_background_ = &checkpoints.WithLabels({"background"});
  checkpoint_remainder_ = &checkpoints.WithLabels({"remainder"});
  auto& claim_wait = registry.AddHistogram(
      "skillstore_claim_wait_seconds",
      "How long ClaimTask waited before answering: outcome=task got work, empty timed out",
      {"outcome"}, {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 20, 30, 60});
  claim_wait_task_ = &claim_wait.WithLabels({"task"});
  claim_wait_empty_ = &claim_wait.WithLabels({"empty"});
  claim_errors_ =
      &registry.AddCounter("skillstore_claim_errors_total", "ClaimTask calls answered with an error")
           .Get();

  registry.AddCollectHook([this] { Collect(); });
}

void ServerMetrics::OnCommit(const TxnEffects& effects, size_t callers, double seconds) {
  const TaskEvents& events = effects.events;
  for (size_t e = 0; e < kNumTaskEvents; ++e) {
    for (size_t t = 0; t < kNumTaskTypes; ++t) {
      const int64_t n = events.counts[e][t];
      if (n == 0) continue;
      metrics::Counter* counter = task_counters_[e][t];
      if (counter != nullptr) counter->Increment(static_cast<double>(n));
    }
  }
  for (size_t r = 1; r < kNumRejectReasons; ++r) {
    if (events.rejected[r] > 0) rejected_[r]->Increment(static_cast<double>(events.rejected[r]));
  }
  for (const TaskEvents::Duration& duration : events.durations) {
    const size_t t = static_cast<size_t>(duration.type);
    if (t > 0 && t < kNumTaskTypes) durations_[t][duration.succeeded ? 1 : 0]->Observe(duration.seconds);
  }
  if (callers > 0) {
    commit_batch_size_->Observe(static_cast<double>(callers));
    commit_duration_->Observe(seconds);
  }
}

void ServerMetrics::OnCommitFailed() { commit_failures_->Increment(); }

void ServerMetrics::OnWalSync(double seconds) { wal_sync_duration_->Observe(seconds); }

void ServerMetrics::OnCheckpoint(bool remainder, double seconds) {
  (remainder ? checkpoint_remainder_ : checkpoint_background_)->Observe(seconds);
}

void ServerMetrics::OnClaimAnswered(double wait_seconds, int tasks) {
  if (tasks < 0) {
    claim_errors_->Increment();
  } else {
    (tasks > 0 ? claim_wait_task_ : claim_wait_empty_)->Observe(wait_seconds);
  }
}

void ServerMetrics::Collect() {
  const int64_t now_ms = NowUnixMs();
  const v1::Progress progress = progress_.Snapshot(now_ms);
  tasks_by_status_[v1::TASK_STATUS_QUEUED]->Set(static_cast<double>(progress.queued()));
  tasks_by_status_[v1::TASK_STATUS_IN_PROGRESS]->Set(static_cast<double>(progress.in_progress()));
  tasks_by_status_[v1::TASK_STATUS_COMPLETED]->Set(static_cast<double>(progress.completed()));
  tasks_by_status_[v1::TASK_STATUS_FAILED]->Set(static_cast<double>(progress.failed()));
  tasks_by_status_[v1::TASK_STATUS_CANCELLED]->Set(static_cast<double>(progress.cancelled()));
  queue_depth_->Set(static_cast<double>(progress.queued()));
  workers_active_->Set(static_cast<double>(progress.active_workers()));
  if (tls_ != nullptr) {
    tls_not_after_->Set(static_cast<double>(tls_->NotAfter()));
    const TlsReloader::ReloadCounts now = tls_->reload_counts();
    std::lock_guard<std::mutex> lock(tls_mu_);
    tls_reloads_[0]->Increment(static_cast<double>(now.changed - tls_reloads_seen_.changed));
    tls_reloads_[1]->Increment(static_cast<double>(now.unchanged - tls_reloads_seen_.unchanged));
    tls_reloads_[2]->Increment(static_cast<double>(now.failed - tls_reloads_seen_.failed));
    tls_reloads_seen_ = now;
  }

  std::lock_guard<std::mutex> lock(db_mu_);
  if (db_ == nullptr) {
    absl::StatusOr<std::unique_ptr<Db>> db = Db::Open(db_path_, Db::Mode::kReadOnly);
    if (!db.ok()) return;  // the gauge keeps its last value
    db_ = std::move(*db);
  }
  absl::StatusOr<std::optional<double>> created_at = OldestQueuedCreatedAt(*db_);
  if (!created_at.ok()) return;
  const double age =
      created_at->has_value() ? static_cast<double>(now_ms) / 1000.0 - **created_at : 0.0;
  oldest_queued_age_->Set(age > 0 ? age : 0.0);
}

}  // namespace skillstore::server
