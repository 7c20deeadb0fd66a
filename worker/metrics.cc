#include "metrics.h"

#include <utility>

#include "common/metrics/instruments.h"

namespace skillstore::worker {
namespace {

// Index into the caches of WorkerMetrics, or -1 for a name not cached.
int TypeIndex(const std::string& type) {
  if (type == "parse") return 0;
  if (type == "validate") return 1;
  if (type == "analyze") return 2;
  if (type == "unspecified") return 3;
  return -1;
}

int OutcomeIndex(const std::string& outcome) {
  if (outcome == "succeeded") return 0;
  if (outcome == "failed") return 1;
  if (outcome == "timeout") return 2;
  if (outcome == "discarded") return 3;
  return -1;
}

// The cached series, looked up on first use. Two threads may both look it
// up; WithLabels returns the same series to both.
template <typename T, typename Lookup>
T& Cached(std::atomic<T*>& slot, Lookup lookup) {
  T* series = slot.load(std::memory_order_acquire);
  if (series == nullptr) {
    series = &lookup();
    slot.store(series, std::memory_order_release);
  }
  return *series;
}

}  // namespace

WorkerMetrics::WorkerMetrics(int concurrency)
    : processed_(registry_.AddCounter("skill_worker_tasks_processed_total",
                                      "Tasks run, by type and outcome.", {"type", "outcome"})),
      duration_(registry_.AddHistogram("skill_worker_task_duration_seconds",
                                       "Time to run a task, by type.", {"type"},
                                       metrics::ExponentialBuckets(0.001, 2.5, 14))),
      accepted_(registry_
                    .AddCounter("skill_worker_results_acked_total",
                                "Results acknowledged by the server.", {"result"})
                    .WithLabels({"accepted"})),
      rejected_(registry_
                    .AddCounter("skill_worker_results_acked_total",
                                "Results acknowledged by the server.", {"result"})
                    .WithLabels({"rejected"})),
      reconnects_(registry_
                      .AddCounter("skill_worker_reconnects_total",
                                  "Times the server became reachable again.")
                      .WithLabels({})),
      claims_(registry_.AddCounter("skill_worker_claims_total",
                                   "ClaimTask calls: answered with tasks, empty, or failed.",
                                   {"result"})),
      active_tasks_(
          registry_.AddGauge("skill_worker_active_tasks", "Slots busy with a task.").WithLabels({})),
      results_pending_(registry_
                           .AddGauge("skill_worker_results_pending",
                                     "Results not yet acknowledged by the server.")
                           .WithLabels({})) {
  registry_.AddGauge("skill_worker_concurrency", "Task slots of this worker.")
      .WithLabels({})
      .Set(concurrency);
}

void WorkerMetrics::SetGaugeSource(std::function<Gauges()> source) {
  registry_.AddCollectHook([this, source = std::move(source)] {
    const Gauges gauges = source();
    active_tasks_.Set(static_cast<double>(gauges.active_tasks));
    results_pending_.Set(static_cast<double>(gauges.results_pending));
  });
}

void WorkerMetrics::TaskProcessed(const std::string& type, const std::string& outcome,
                                  double seconds) {
  const int t = TypeIndex(type);
  const int o = OutcomeIndex(outcome);
  if (t < 0 || o < 0) {
    processed_.WithLabels({type, outcome}).Increment();
    duration_.WithLabels({type}).Observe(seconds);
    return;
  }
  Cached(processed_cache_[t][o], [&]() -> metrics::Counter& {
    return processed_.WithLabels({type, outcome});
  }).Increment();
  Cached(duration_cache_[t], [&]() -> metrics::Histogram& {
    return duration_.WithLabels({type});
  }).Observe(seconds);
}

void WorkerMetrics::ResultAcked(bool accepted) { (accepted ? accepted_ : rejected_).Increment(); }

void WorkerMetrics::Reconnected() { reconnects_.Increment(); }

void WorkerMetrics::ClaimAnswered(int tasks) {
  claims_.WithLabels({tasks < 0 ? "error" : tasks == 0 ? "empty" : "tasks"}).Increment();
}

}  // namespace skillstore::worker
