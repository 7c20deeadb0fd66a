#include "metrics.h"

#include <utility>

#include "common/metrics/instruments.h"

namespace skillstore::worker {

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
  processed_.WithLabels({type, outcome}).Increment();
  duration_.WithLabels({type}).Observe(seconds);
}

void WorkerMetrics::ResultAcked(bool accepted) { (accepted ? accepted_ : rejected_).Increment(); }

void WorkerMetrics::Reconnected() { reconnects_.Increment(); }

void WorkerMetrics::ClaimAnswered(int tasks) {
  claims_.WithLabels({tasks < 0 ? "error" : tasks == 0 ? "empty" : "tasks"}).Increment();
}

}  // namespace skillstore::worker
