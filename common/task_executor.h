// The one entry point through which the worker (and `skillctl parse`) runs
// the skill engine on a task's content.
//
// Thread-safe: RunTask may be called from many threads at once; it keeps no
// state between calls. Output is deterministic for a given input, apart from
// the `parse_timestamp` field of parse results.
#ifndef SKILLSTORE_COMMON_TASK_EXECUTOR_H_
#define SKILLSTORE_COMMON_TASK_EXECUTOR_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/json_layout.h"

namespace skillstore {

enum class TaskKind { kParse, kValidate, kAnalyze };

// "parse", "validate", "analyze".
std::string_view TaskKindName(TaskKind kind);

// Runs one task over `content` (a SKILL.md, or decomposition JSON for
// validate). `source_label` names the input in the output and in errors
// (usually the skill's path; may be empty).
//
// Returns the result as a JSON document in `layout` (the worker sends
// compact results; people read indented ones), or:
//   InvalidArgument  - the input is malformed (binary, invalid UTF-8, broken
//                      YAML, ...); the message names the problem. Retrying
//                      cannot help.
//   ResourceExhausted - the input exceeds an engine limit (size, nesting).
//   Internal         - a bug in the engine; the message says what failed.
absl::StatusOr<std::string> RunTask(TaskKind kind, std::string_view content,
                                    std::string_view source_label,
                                    JsonLayout layout = JsonLayout::kIndented);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_TASK_EXECUTOR_H_
