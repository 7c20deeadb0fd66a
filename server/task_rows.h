// Reading task rows into API messages; shared by the writer (answers to
// CancelTask) and the readers (listings).
#ifndef SKILLSTORE_SERVER_TASK_ROWS_H_
#define SKILLSTORE_SERVER_TASK_ROWS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "codec.h"
#include "sqlite.h"

namespace skillstore::server {

// The column list TaskInfoFromRow expects, for "SELECT <this> FROM tasks ...".
extern const char kTaskInfoColumns[];
// The same columns qualified with `table` ("t.task_id, t.task_type, ..."),
// for a join.
std::string TaskInfoColumnsOf(absl::string_view table);

// Fills `info` from a row selected with kTaskInfoColumns.
void TaskInfoFromRow(const Statement& row, v1::TaskInfo* info);

// The task with id `task_id`, or nullopt when there is none.
absl::StatusOr<std::optional<v1::TaskInfo>> LoadTaskInfo(Db& db, int64_t task_id);

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_TASK_ROWS_H_
