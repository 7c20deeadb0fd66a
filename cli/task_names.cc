#include "cli/task_names.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace skillstore::cli {

std::string TaskTypeName(v1::TaskType type) {
  switch (type) {
    case v1::TASK_TYPE_PARSE: return "parse";
    case v1::TASK_TYPE_VALIDATE: return "validate";
    case v1::TASK_TYPE_ANALYZE: return "analyze";
    default: return "unspecified";
  }
}

absl::StatusOr<v1::TaskType> ParseTaskType(std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(absl::string_view(name.data(), name.size()));
  if (lower == "parse") return v1::TASK_TYPE_PARSE;
  if (lower == "validate") return v1::TASK_TYPE_VALIDATE;
  if (lower == "analyze" || lower == "analyse") return v1::TASK_TYPE_ANALYZE;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown task type '", std::string(name), "': use parse, validate or analyze"));
}

std::string TaskStatusName(v1::TaskStatus status) {
  switch (status) {
    case v1::TASK_STATUS_QUEUED: return "queued";
    case v1::TASK_STATUS_IN_PROGRESS: return "in_progress";
    case v1::TASK_STATUS_COMPLETED: return "completed";
    case v1::TASK_STATUS_FAILED: return "failed";
    case v1::TASK_STATUS_CANCELLED: return "cancelled";
    default: return "unspecified";
  }
}

absl::StatusOr<v1::TaskStatus> ParseTaskStatus(std::string_view name) {
  const std::string lower = absl::AsciiStrToLower(absl::string_view(name.data(), name.size()));
  if (lower == "queued") return v1::TASK_STATUS_QUEUED;
  if (lower == "in_progress" || lower == "in-progress" || lower == "running")
    return v1::TASK_STATUS_IN_PROGRESS;
  if (lower == "completed" || lower == "done") return v1::TASK_STATUS_COMPLETED;
  if (lower == "failed") return v1::TASK_STATUS_FAILED;
  if (lower == "cancelled" || lower == "canceled") return v1::TASK_STATUS_CANCELLED;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown status '", std::string(name),
      "': use queued, in_progress, completed, failed or cancelled"));
}

std::string WorkerStatusName(v1::WorkerStatus status) {
  switch (status) {
    case v1::WORKER_STATUS_ACTIVE: return "active";
    case v1::WORKER_STATUS_IDLE: return "idle";
    case v1::WORKER_STATUS_LOST: return "lost";
    case v1::WORKER_STATUS_DRAINING: return "draining";
    case v1::WORKER_STATUS_STOPPED: return "stopped";
    default: return "unknown";
  }
}

std::string AttemptOutcomeName(v1::AttemptOutcome outcome) {
  switch (outcome) {
    case v1::ATTEMPT_OUTCOME_RUNNING: return "running";
    case v1::ATTEMPT_OUTCOME_SUCCEEDED: return "succeeded";
    case v1::ATTEMPT_OUTCOME_FAILED: return "failed";
    case v1::ATTEMPT_OUTCOME_LEASE_EXPIRED: return "lease_expired";
    case v1::ATTEMPT_OUTCOME_CANCELLED: return "cancelled";
    default: return "unknown";
  }
}

TaskKind ToTaskKind(v1::TaskType type) {
  switch (type) {
    case v1::TASK_TYPE_VALIDATE: return TaskKind::kValidate;
    case v1::TASK_TYPE_ANALYZE: return TaskKind::kAnalyze;
    default: return TaskKind::kParse;
  }
}

}  // namespace skillstore::cli
