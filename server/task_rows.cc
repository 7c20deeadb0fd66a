#include "task_rows.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace skillstore::server {

const char kTaskInfoColumns[] =
    "task_id, task_type, skill_path, status, priority, attempts, max_attempts, "
    "timeout_seconds, worker_id, idempotency_key, metadata, last_error, content_bytes, "
    "created_at, started_at, completed_at, not_before_ms, lease_deadline_ms, retry_base";

std::string TaskInfoColumnsOf(absl::string_view table) {
  std::string out;
  for (absl::string_view column : absl::StrSplit(kTaskInfoColumns, ", ")) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", table, ".", column);
  }
  return out;
}

void TaskInfoFromRow(const Statement& row, v1::TaskInfo* info) {
  info->set_task_id(absl::StrCat(row.ColumnInt(0)));
  info->set_type(TaskTypeFromText(row.ColumnText(1)));
  info->set_skill_path(row.ColumnText(2));
  info->set_status(TaskStatusFromText(row.ColumnText(3)));
  info->set_priority(static_cast<int32_t>(row.ColumnInt(4)));
  info->set_attempts(static_cast<int32_t>(row.ColumnInt(5)));
  info->set_max_attempts(static_cast<int32_t>(row.ColumnInt(6)));
  info->set_timeout_seconds(static_cast<int32_t>(row.ColumnInt(7)));
  info->set_worker_id(row.ColumnText(8));
  info->set_idempotency_key(row.ColumnText(9));
  MetadataFromJson(row.ColumnText(10), info->mutable_metadata());
  info->set_last_error(row.ColumnText(11));
  info->set_content_bytes(row.ColumnInt(12));
  info->set_created_at_unix_ms(SecondsToMs(row.ColumnDouble(13)));
  if (!row.ColumnIsNull(14)) info->set_started_at_unix_ms(SecondsToMs(row.ColumnDouble(14)));
  if (!row.ColumnIsNull(15)) info->set_completed_at_unix_ms(SecondsToMs(row.ColumnDouble(15)));
  info->set_not_before_unix_ms(row.ColumnInt(16));
  if (info->status() == v1::TASK_STATUS_IN_PROGRESS) {
    info->set_lease_deadline_unix_ms(row.ColumnInt(17));
  }
  info->set_attempts_before_retry(static_cast<int32_t>(row.ColumnInt(18)));
}

absl::StatusOr<std::optional<v1::TaskInfo>> LoadTaskInfo(Db& db, int64_t task_id) {
  absl::StatusOr<Statement> stmt =
      db.Prepare(absl::StrCat("SELECT ", kTaskInfoColumns, " FROM tasks WHERE task_id = ?1"));
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, task_id);
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<v1::TaskInfo>();
  v1::TaskInfo info;
  TaskInfoFromRow(*stmt, &info);
  return std::optional<v1::TaskInfo>(std::move(info));
}

}  // namespace skillstore::server
