// What a transaction did to tasks, by task type, for the server's metrics:
// how many were enqueued, claimed, completed, ... and the run times workers
// reported. TaskWriter records into TxnEffects::events; ServerMetrics reads
// them only after the COMMIT, so the counters match the database.
#ifndef SKILLSTORE_SERVER_TASK_EVENTS_H_
#define SKILLSTORE_SERVER_TASK_EVENTS_H_

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "skillstore/v1/skillstore.pb.h"

namespace skillstore::server {

enum class TaskEvent {
  kEnqueued,     // a new task (idempotent duplicates are not counted)
  kClaimed,      // a lease handed out (one per attempt)
  kCompleted,    // a result stored
  kFailed,       // the task ended failed (dead letter)
  kRetried,      // re-queued with backoff after a failed or expired attempt
  kLeaseExpired, // the reaper took a lease back
  kCancelled,
};
inline constexpr size_t kNumTaskEvents = 7;
// v1::TaskType values 0..3 (0: unknown).
inline constexpr size_t kNumTaskTypes = 4;
// v1::RejectReason values 0..5.
inline constexpr size_t kNumRejectReasons = 6;

struct TaskEvents {
  struct Duration {
    v1::TaskType type;
    bool succeeded;
    double seconds;
  };

  std::array<std::array<int64_t, kNumTaskTypes>, kNumTaskEvents> counts{};
  std::array<int64_t, kNumRejectReasons> rejected{};  // results refused, by reason
  std::vector<Duration> durations;                    // from accepted results' metrics

  void Add(TaskEvent event, v1::TaskType type) {
    const size_t t = static_cast<size_t>(type) < kNumTaskTypes ? static_cast<size_t>(type) : 0;
    ++counts[static_cast<size_t>(event)][t];
  }
  void Reject(v1::RejectReason reason) {
    const size_t r = static_cast<size_t>(reason);
    ++rejected[r < kNumRejectReasons ? r : 0];
  }
  void Merge(const TaskEvents& other) {
    for (size_t e = 0; e < kNumTaskEvents; ++e) {
      for (size_t t = 0; t < kNumTaskTypes; ++t) counts[e][t] += other.counts[e][t];
    }
    for (size_t r = 0; r < kNumRejectReasons; ++r) rejected[r] += other.rejected[r];
    durations.insert(durations.end(), other.durations.begin(), other.durations.end());
  }
};

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_TASK_EVENTS_H_
