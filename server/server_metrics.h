// ServerMetrics: the skillstore_* Prometheus metrics of skillstore-server
// (served by --metrics-listen; see the README's Observability section).
//
// Where each comes from:
//   * task counters and the duration histogram: TaskEvents of each committed
//     transaction (OnCommit, on the writer thread after COMMIT), so they
//     count exactly what the database holds;
//   * skillstore_tasks{status}, queue depth, active workers: the in-memory
//     ProgressTracker, copied at scrape time (what GetProgress answers);
//   * oldest queued age: OldestQueuedCreatedAt (task_reader.h) at scrape
//     time, one index seek per (type, priority) group, on a read-only
//     connection of its own;
//   * group commits: OnCommit's batch size and transaction time, and
//     OnWalSync's fsync time;
//   * checkpoints: OnCheckpoint, from the Checkpointer;
//   * claim wait: OnClaimAnswered, from the service;
//   * RPCs: the gRPC interceptor (rpc());
//   * TLS (when served): the certificate's expiry and the reloads, from the
//     TlsReloader at scrape time.
// Thread-safe.
#ifndef SKILLSTORE_SERVER_SERVER_METRICS_H_
#define SKILLSTORE_SERVER_SERVER_METRICS_H_

#include <array>
#include <memory>
#include <mutex>
#include <string>

#include "common/metrics/grpc_metrics.h"
#include "common/metrics/registry.h"
#include "progress.h"
#include "sqlite.h"
#include "task_events.h"
#include "task_writer.h"
#include "tls_reloader.h"

namespace skillstore::server {

class ServerMetrics {
 public:
  // Defines every metric in `registry`; `progress` and `registry` must
  // outlive this object; `db_path` is opened read-only at the first scrape.
  // `tls` (null without TLS) must outlive this object too.
  ServerMetrics(metrics::Registry& registry, const ProgressTracker& progress, std::string db_path,
                const TlsReloader* tls);
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // After a successful COMMIT: `callers` operations and claims answered by
  // it, `seconds` from BEGIN to the end of COMMIT.
  void OnCommit(const TxnEffects& effects, size_t callers, double seconds);
  void OnCommitFailed();
  // An fdatasync of the WAL that made commits durable took `seconds`.
  void OnWalSync(double seconds);
  // A WAL checkpoint took `seconds`: a background pass (with its fsync of
  // the database file), or the remainder the write loop copies itself,
  // during which no commit runs (checkpointer.h).
  void OnCheckpoint(bool remainder, double seconds);
  // A ClaimTask answered after `wait_seconds` with `tasks` tasks (-1: error).
  void OnClaimAnswered(double wait_seconds, int tasks);

  metrics::RpcMetrics& rpc() { return rpc_; }

 private:
  // Scrape hook: mirrors progress and the oldest queued task into gauges.
  void Collect();

  const ProgressTracker& progress_;
  const std::string db_path_;
  const TlsReloader* const tls_;
  metrics::RpcMetrics rpc_;

  // [TaskEvent][v1::TaskType]; row 0 (unknown type) maps to type="unknown".
  std::array<std::array<metrics::Counter*, kNumTaskTypes>, kNumTaskEvents> task_counters_{};
  std::array<metrics::Counter*, kNumRejectReasons> rejected_{};
  // [v1::TaskType][succeeded]
  std::array<std::array<metrics::Histogram*, 2>, kNumTaskTypes> durations_{};
  std::array<metrics::Gauge*, 6> tasks_by_status_{};  // indexed by v1::TaskStatus
  metrics::Gauge* queue_depth_;
  metrics::Gauge* oldest_queued_age_;
  metrics::Gauge* workers_active_;
  metrics::Histogram* commit_batch_size_;
  metrics::Histogram* commit_duration_;
  metrics::Counter* commit_failures_;
  metrics::Histogram* wal_sync_duration_;
  metrics::Histogram* checkpoint_background_;
  metrics::Histogram* checkpoint_remainder_;
  metrics::Histogram* claim_wait_task_;
  metrics::Histogram* claim_wait_empty_;
  metrics::Counter* claim_errors_;

  metrics::Gauge* tls_not_after_ = nullptr;
  // [changed, unchanged, failed], and the counts already added to them.
  std::array<metrics::Counter*, 3> tls_reloads_{};
  std::mutex tls_mu_;
  TlsReloader::ReloadCounts tls_reloads_seen_;

  std::mutex db_mu_;  // the scrape's own read-only connection
  std::unique_ptr<Db> db_;
};

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_SERVER_METRICS_H_
