#include "metrics.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace skillstore::worker {

void WorkerMetrics::SetGaugeSource(std::function<Gauges()> source) {
  std::lock_guard<std::mutex> lock(mu_);
  gauges_ = std::move(source);
}

void WorkerMetrics::TaskProcessed(const std::string& type, const std::string& outcome,
                                  double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++processed_[{type, outcome}];
  Histogram& h = durations_[type];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++h.counts[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

void WorkerMetrics::ResultAcked(bool accepted) {
  std::lock_guard<std::mutex> lock(mu_);
  ++(accepted ? accepted_ : rejected_);
}

void WorkerMetrics::Reconnected() {
  std::lock_guard<std::mutex> lock(mu_);
  ++reconnects_;
}

std::string WorkerMetrics::Render() const {
  std::function<Gauges()> source;
  {
    std::lock_guard<std::mutex> lock(mu_);
    source = gauges_;
  }
  // Outside mu_: the source takes the worker's own locks.
  const Gauges gauges = source ? source() : Gauges{};

  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  absl::StrAppend(&out,
                  "# HELP skill_worker_concurrency Task slots of this worker.\n"
                  "# TYPE skill_worker_concurrency gauge\n"
                  "skill_worker_concurrency ", concurrency_, "\n",
                  "# HELP skill_worker_active_tasks Slots busy with a task.\n"
                  "# TYPE skill_worker_active_tasks gauge\n"
                  "skill_worker_active_tasks ", gauges.active_tasks, "\n",
                  "# HELP skill_worker_results_pending Results not yet acknowledged by the server.\n"
                  "# TYPE skill_worker_results_pending gauge\n"
                  "skill_worker_results_pending ", gauges.results_pending, "\n");
  absl::StrAppend(&out,
                  "# HELP skill_worker_tasks_processed_total Tasks run, by type and outcome.\n"
                  "# TYPE skill_worker_tasks_processed_total counter\n");
  for (const auto& [key, n] : processed_) {
    absl::StrAppend(&out, "skill_worker_tasks_processed_total{type=\"", key.first,
                    "\",outcome=\"", key.second, "\"} ", n, "\n");
  }
  absl::StrAppend(&out,
                  "# HELP skill_worker_task_duration_seconds Time to run a task, by type.\n"
                  "# TYPE skill_worker_task_duration_seconds histogram\n");
  for (const auto& [type, h] : durations_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.counts[i];
      absl::StrAppend(&out, "skill_worker_task_duration_seconds_bucket{type=\"", type,
                      "\",le=\"", absl::StrFormat("%g", kBuckets[i]), "\"} ", cumulative, "\n");
    }
    absl::StrAppend(&out, "skill_worker_task_duration_seconds_bucket{type=\"", type,
                    "\",le=\"+Inf\"} ", h.count, "\n",
                    "skill_worker_task_duration_seconds_sum{type=\"", type, "\"} ",
                    absl::StrFormat("%.6f", h.sum), "\n",
                    "skill_worker_task_duration_seconds_count{type=\"", type, "\"} ", h.count,
                    "\n");
  }
  absl::StrAppend(&out,
                  "# HELP skill_worker_results_acked_total Results acknowledged by the server.\n"
                  "# TYPE skill_worker_results_acked_total counter\n"
                  "skill_worker_results_acked_total{result=\"accepted\"} ", accepted_, "\n",
                  "skill_worker_results_acked_total{result=\"rejected\"} ", rejected_, "\n",
                  "# HELP skill_worker_reconnects_total Times the server became reachable again.\n"
                  "# TYPE skill_worker_reconnects_total counter\n"
                  "skill_worker_reconnects_total ", reconnects_, "\n");
  return out;
}

}  // namespace skillstore::worker
