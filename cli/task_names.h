// Names of the API's enums as people type and read them ("parse",
// "in_progress", "lease_expired"), and the bridge from the API's TaskType to
// the engine's TaskKind.
#ifndef SKILLSTORE_CLI_TASK_NAMES_H_
#define SKILLSTORE_CLI_TASK_NAMES_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/task_executor.h"
#include "skillstore/v1/skillstore.pb.h"

namespace skillstore::cli {

// "parse", "validate", "analyze"; "unspecified" for anything else.
std::string TaskTypeName(v1::TaskType type);
// Accepts the names above (case-insensitive). InvalidArgument otherwise.
absl::StatusOr<v1::TaskType> ParseTaskType(std::string_view name);

// "queued", "in_progress", "completed", "failed", "cancelled".
std::string TaskStatusName(v1::TaskStatus status);
// Accepts the names above, "in-progress" and "running" (case-insensitive).
absl::StatusOr<v1::TaskStatus> ParseTaskStatus(std::string_view name);

// "active", "idle", "lost", "draining".
std::string WorkerStatusName(v1::WorkerStatus status);
// "running", "succeeded", "failed", "lease_expired", "cancelled".
std::string AttemptOutcomeName(v1::AttemptOutcome outcome);

// The engine's kind for an API type (UNSPECIFIED maps to parse).
TaskKind ToTaskKind(v1::TaskType type);

}  // namespace skillstore::cli

#endif  // SKILLSTORE_CLI_TASK_NAMES_H_
