// The worker's Prometheus metrics (text exposition format 0.0.4), served by
// MetricsServer when --metrics-listen is given. Names match the dashboard in
// deploy/grafana:
//   skill_worker_concurrency                      gauge
//   skill_worker_active_tasks                     gauge (busy slots)
//   skill_worker_results_pending                  gauge (unacknowledged results)
//   skill_worker_tasks_processed_total{type,outcome}  counter
//       outcome: succeeded | failed | timeout | discarded
//   skill_worker_task_duration_seconds{type}      histogram
//   skill_worker_results_acked_total{result}      counter (accepted | rejected)
//   skill_worker_reconnects_total                 counter (server came back)
//
// Thread-safe. Recording is a mutex-protected increment: a few per task, far
// below the cost of the task itself.
#ifndef SKILLSTORE_WORKER_METRICS_H_
#define SKILLSTORE_WORKER_METRICS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace skillstore::worker {

class WorkerMetrics {
 public:
  struct Gauges {
    int64_t active_tasks = 0;
    int64_t results_pending = 0;
  };

  explicit WorkerMetrics(int concurrency) : concurrency_(concurrency) {}

  // Read when rendering (values that live elsewhere: busy slots, buffer).
  void SetGaugeSource(std::function<Gauges()> source);

  void TaskProcessed(const std::string& type, const std::string& outcome, double seconds);
  void ResultAcked(bool accepted);
  void Reconnected();

  // The exposition text.
  std::string Render() const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1,    5,     30};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};  // per bucket, not cumulative
    uint64_t count = 0;
    double sum = 0;
  };

  const int concurrency_;
  mutable std::mutex mu_;
  std::function<Gauges()> gauges_;                                  // guarded by mu_
  std::map<std::pair<std::string, std::string>, uint64_t> processed_;  // guarded by mu_
  std::map<std::string, Histogram> durations_;                       // guarded by mu_
  uint64_t accepted_ = 0;                                            // guarded by mu_
  uint64_t rejected_ = 0;                                            // guarded by mu_
  uint64_t reconnects_ = 0;                                          // guarded by mu_
};

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_METRICS_H_
