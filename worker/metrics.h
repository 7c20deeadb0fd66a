// The worker's Prometheus metrics, on the project's metrics library
// (common/metrics), served at --metrics-listen. Names match the dashboard in
// deploy/grafana:
//   skill_worker_concurrency                      gauge
//   skill_worker_active_tasks                     gauge (busy slots)
//   skill_worker_results_pending                  gauge (unacknowledged results)
//   skill_worker_tasks_processed_total{type,outcome}  counter
//       outcome: succeeded | failed | timeout | discarded
//   skill_worker_task_duration_seconds{type}      histogram
//   skill_worker_results_acked_total{result}      counter (accepted | rejected)
//   skill_worker_reconnects_total                 counter (server came back)
//   skill_worker_claims_total{result}             counter (tasks | empty | error)
//
// Thread-safe.
#ifndef SKILLSTORE_WORKER_METRICS_H_
#define SKILLSTORE_WORKER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "common/metrics/registry.h"

namespace skillstore::worker {

class WorkerMetrics {
 public:
  struct Gauges {
    int64_t active_tasks = 0;
    int64_t results_pending = 0;
  };

  explicit WorkerMetrics(int concurrency);

  // Read at each scrape (values that live elsewhere: busy slots, buffer).
  // Call once, before serving.
  void SetGaugeSource(std::function<Gauges()> source);

  // Called once per task: the series of the usual types and outcomes are
  // looked up once and kept (WithLabels builds a label vector and takes the
  // family's lock), others are looked up each time.
  void TaskProcessed(const std::string& type, const std::string& outcome, double seconds);
  void ResultAcked(bool accepted);
  void Reconnected();
  // A ClaimTask call answered with `tasks` tasks; tasks < 0: the call failed.
  void ClaimAnswered(int tasks);

  const metrics::Registry& registry() const { return registry_; }
  // The exposition text.
  std::string Render() const { return registry_.Expose(); }

 private:
  metrics::Registry registry_;
  metrics::Family<metrics::Counter>& processed_;
  metrics::Family<metrics::Histogram>& duration_;
  metrics::Counter& accepted_;
  metrics::Counter& rejected_;
  metrics::Counter& reconnects_;
  metrics::Family<metrics::Counter>& claims_;
  metrics::Gauge& active_tasks_;
  metrics::Gauge& results_pending_;
  // Series found by TaskProcessed, by TypeIndex and OutcomeIndex; null until
  // first used, so a series appears in the exposition only once it counted.
  static constexpr int kTypes = 4;
  static constexpr int kOutcomes = 4;
  std::array<std::array<std::atomic<metrics::Counter*>, kOutcomes>, kTypes> processed_cache_{};
  std::array<std::atomic<metrics::Histogram*>, kTypes> duration_cache_{};
};

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_METRICS_H_
