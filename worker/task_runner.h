// Runs one claimed task through the skill engine and turns the outcome into
// the SubmitResult message for its lease. The glue between the claim loop
// and common/task_executor.h.
//
// Outcome mapping (the engine's contract -> the server's):
//   OK                    -> success, result_json
//   InvalidArgument       -> failed, not retryable (malformed skill)
//   ResourceExhausted     -> failed, not retryable (over an engine limit)
//   other status / throw  -> failed, retryable (engine bug or memory pressure:
//                            another attempt, maybe on another worker, may
//                            succeed; max_attempts bounds the cost)
//   timeout               -> failed, retryable (see ExecutorPool)
// Every outcome carries metrics: duration, worker id, task type, bytes in/out.
//
// Copyable and immutable: a copy travels with each job, so an abandoned
// engine call never refers to a destroyed worker.
#ifndef SKILLSTORE_WORKER_TASK_RUNNER_H_
#define SKILLSTORE_WORKER_TASK_RUNNER_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "skills_root.h"
#include "skillstore/v1/skillstore.pb.h"

namespace skillstore::worker {

class TaskRunner {
 public:
  using Result = skillstore::v1::SubmitResultRequest;

  struct Options {
    std::string worker_id;
    std::optional<SkillsRoot> skills_root;
    // Largest skill read from --skills-root.
    size_t max_content_bytes = 8u << 20;
    // Largest result_json sent; a bigger one is reported as a failure
    // (it would exceed the server's message limit).
    size_t max_result_bytes = 32u << 20;
    // TESTING ONLY (--debug-task-delay-ms): sleep this long before running
    // each task, so tests can kill or stop a worker while it holds a lease
    // without depending on the engine's speed. Zero in production.
    absl::Duration debug_delay = absl::ZeroDuration();
  };

  explicit TaskRunner(Options options) : options_(std::move(options)) {}

  // Never throws.
  Result Run(const skillstore::v1::ClaimedTask& task) const;

  // The result reported when `task` ran past its timeout.
  Result TimeoutResult(const skillstore::v1::ClaimedTask& task, absl::Duration timeout,
                       absl::Duration ran_for) const;

 private:
  Result Start(const skillstore::v1::ClaimedTask& task) const;
  Options options_;
};

// "parse", "validate", "analyze", or "unspecified".
std::string TaskTypeName(skillstore::v1::TaskType type);

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_TASK_RUNNER_H_
