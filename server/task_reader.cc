#include "task_reader.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <unordered_map>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/utf8.h"
#include "nlohmann/json.hpp"
#include "status_macros.h"
#include "task_rows.h"

namespace skillstore::server {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
// A page also ends once its tasks take this many bytes, well under the
// 4 MiB a gRPC client receives by default (errors are cut at 16 KiB, see
// submit_stream.cc, but metadata, labels and errors add up).
constexpr size_t kMaxPageBytes = 2 << 20;
// A worker's task ids listed by ListWorkers (WorkerInfo.current_task_ids):
// with --max-leases-per-worker 0 one worker may hold any number of leases,
// and a page holds at least one worker whatever its size.
constexpr int64_t kMaxCurrentTaskIdsListed = 1000;

// Page tokens name the listing they continue, then where it stopped
// ("tasks:17", "workers:<hex of the last worker id>"), so that a token of
// one listing handed to another is refused rather than read as a cursor of
// the wrong kind (which ended the listing early with no error).
constexpr char kTasksTokenPrefix[] = "tasks:";
constexpr char kWorkersTokenPrefix[] = "workers:";

absl::Status NotOurPageToken(const std::string& token) {
  return absl::InvalidArgumentError(
      absl::StrCat("page_token ", QuotedForMessage(token),
                   " is not a token of this listing; pass next_page_token from its previous page"));
}

// Called when another task would go on the page: true, with the page's
// next_page_token set, when the page already holds `page_size` tasks or
// `kMaxPageBytes` of them.
bool PageIsFull(v1::ListTasksResponse& response, int page_size, size_t page_bytes) {
  if (response.tasks_size() < page_size && page_bytes < kMaxPageBytes) return false;
  response.set_next_page_token(
      absl::StrCat(kTasksTokenPrefix, response.tasks(response.tasks_size() - 1).task_id()));
  return true;
}

absl::Status NoSuchTask(const std::string& task_id) {
  return absl::NotFoundError(absl::StrCat("no task with id ", QuotedForMessage(task_id)));
}

}  // namespace

TaskReader::Connection::~Connection() {
  if (db_ == nullptr) return;
  std::lock_guard<std::mutex> lock(pool_.mu_);
  pool_.idle_.push_back(std::move(db_));
}

absl::StatusOr<TaskReader::Connection> TaskReader::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Db> db = std::move(idle_.back());
      idle_.pop_back();
      return Connection(*this, std::move(db));
    }
  }
  SKS_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, Db::Open(db_path_, Db::Mode::kReadOnly));
  return Connection(*this, std::move(db));
}

namespace {

// Calls visit(priority, first_id) for each (type, priority) group of queued
// tasks of `type` in tasks_claim_by_type, highest priority first; first_id
// is the group's lowest task id. One index seek per group; at most
// kMaxPriorityGroups groups.
absl::Status ForEachQueuedGroup(
    Db& db, v1::TaskType type,
    const std::function<absl::Status(int64_t priority, int64_t first_id)>& visit) {
  int64_t at_most = std::numeric_limits<int64_t>::max();  // priorities are int32: no wrap
  for (int group = 0; group < kMaxPriorityGroups; ++group) {
    int64_t priority = 0;
    int64_t first_id = 0;
    {
      SKS_ASSIGN_OR_RETURN(
          Statement head,
          db.Prepare("SELECT priority, task_id FROM tasks INDEXED BY tasks_claim_by_type "
                     "WHERE status = 'queued' AND task_type = ?1 AND priority <= ?2 "
                     "ORDER BY priority DESC, task_id LIMIT 1"));
      head.BindText(1, TaskTypeText(type)).Bind(2, at_most);
      SKS_ASSIGN_OR_RETURN(const bool row, head.Step());
      if (!row) return absl::OkStatus();
      priority = head.ColumnInt(0);
      first_id = head.ColumnInt(1);
    }  // reset before `visit` runs statements of its own
    SKS_RETURN_IF_ERROR(visit(priority, first_id));
    at_most = priority - 1;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<double>> OldestQueuedCreatedAt(Db& db) {
  std::optional<int64_t> oldest_id;
  for (v1::TaskType type :
       {v1::TASK_TYPE_PARSE, v1::TASK_TYPE_VALIDATE, v1::TASK_TYPE_ANALYZE}) {
    SKS_RETURN_IF_ERROR(ForEachQueuedGroup(db, type, [&](int64_t, int64_t first_id) {
      if (!oldest_id || first_id < *oldest_id) oldest_id = first_id;
      return absl::OkStatus();
    }));
  }
  if (!oldest_id) return std::nullopt;
  SKS_ASSIGN_OR_RETURN(Statement select,
                       db.Prepare("SELECT created_at FROM tasks WHERE task_id = ?1"));
  select.Bind(1, *oldest_id);
  SKS_ASSIGN_OR_RETURN(const bool row, select.Step());
  if (!row) return std::nullopt;  // claimed between the two reads
  return select.ColumnDouble(0);
}

absl::StatusOr<v1::ListTasksResponse> ListQueued(Db& db, const v1::ListTasksRequest& request,
                                                 int64_t after, int page_size) {
  SKS_RETURN_IF_ERROR(db.Exec("BEGIN"));  // the groups and the rows: one snapshot
  struct EndRead {
    Db& db;
    ~EndRead() { db.Exec("COMMIT").IgnoreError(); }
  } end_read{db};

  std::vector<v1::TaskType> types = {v1::TASK_TYPE_PARSE, v1::TASK_TYPE_VALIDATE,
                                     v1::TASK_TYPE_ANALYZE};
  if (request.type() != v1::TASK_TYPE_UNSPECIFIED) types = {request.type()};
  std::vector<int64_t> ids;
  for (v1::TaskType type : types) {
    SKS_RETURN_IF_ERROR(ForEachQueuedGroup(db, type, [&](int64_t priority, int64_t) {
      SKS_ASSIGN_OR_RETURN(
          Statement members,
          db.Prepare("SELECT task_id FROM tasks INDEXED BY tasks_claim_by_type "
                     "WHERE status = 'queued' AND task_type = ?1 AND priority = ?2 "
                     "AND task_id > ?3 AND (?4 = '' OR worker_id = ?4) "
                     "ORDER BY task_id LIMIT ?5"));
      members.BindText(1, TaskTypeText(type))
          .Bind(2, priority)
          .Bind(3, after)
          .BindText(4, request.worker_id())
          .Bind(5, page_size + 1);
      while (true) {
        SKS_ASSIGN_OR_RETURN(const bool row, members.Step());
        if (!row) return absl::OkStatus();
        ids.push_back(members.ColumnInt(0));
      }
    }));
  }
  std::sort(ids.begin(), ids.end());

  v1::ListTasksResponse response;
  size_t page_bytes = 0;
  for (int64_t id : ids) {
    if (PageIsFull(response, page_size, page_bytes)) break;
    SKS_ASSIGN_OR_RETURN(std::optional<v1::TaskInfo> info, LoadTaskInfo(db, id));
    if (!info) continue;  // never, in this snapshot
    page_bytes += info->ByteSizeLong();
    *response.add_tasks() = *std::move(info);
  }
  return response;
}

absl::StatusOr<v1::ListTasksResponse> TaskReader::ListTasks(const v1::ListTasksRequest& request) {
  int64_t after = 0;
  if (!request.page_token().empty()) {
    const std::string_view token = request.page_token();
    const std::string_view prefix = kTasksTokenPrefix;
    std::optional<int64_t> id;
    if (token.substr(0, prefix.size()) == prefix) id = ParseTaskId(token.substr(prefix.size()));
    if (!id) return NotOurPageToken(request.page_token());
    after = *id;
  }
  if (request.page_size() < 0) {
    return absl::InvalidArgumentError("page_size must not be negative");
  }
  const int page_size =
      request.page_size() == 0 ? kDefaultPageSize : std::min(request.page_size(), kMaxPageSize);
  if (request.type() != v1::TASK_TYPE_UNSPECIFIED && TaskTypeText(request.type()).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown type filter ", request.type(),
                     "; send TASK_TYPE_PARSE, TASK_TYPE_VALIDATE or TASK_TYPE_ANALYZE, or leave it "
                     "unset for every type"));
  }
  if (request.status() == v1::TASK_STATUS_QUEUED) {
    SKS_ASSIGN_OR_RETURN(Connection db, Acquire());
    return ListQueued(*db, request, after, page_size);
  }

  // tasks has no index on status (schema.cc, migration 3): each status is
  // read through what it has, paged by task_id. The status is written into
  // the text as a literal: SQLite uses a partial index only for a WHERE it
  // can see implies the index's own.
  std::string sql;
  const char* order_by = " ORDER BY t.task_id LIMIT ?5";
  switch (request.status()) {
    case v1::TASK_STATUS_UNSPECIFIED:
      sql = absl::StrCat("SELECT ", kTaskInfoColumns, " FROM tasks AS t WHERE task_id > ?1");
      break;
    case v1::TASK_STATUS_IN_PROGRESS:
      // The lease index holds exactly the in_progress tasks (one per lease).
      sql = absl::StrCat("SELECT ", kTaskInfoColumns,
                         " FROM tasks AS t INDEXED BY tasks_lease_deadline "
                         "WHERE task_id > ?1 AND status = 'in_progress'");
      break;
    case v1::TASK_STATUS_COMPLETED:
      // Every completed task has its row in results (and so does every
      // failed one; nothing else has): walked in task_id order.
      sql = absl::StrCat("SELECT ", TaskInfoColumnsOf("t"),
                         " FROM results AS r CROSS JOIN tasks AS t ON t.task_id = r.task_id "
                         "WHERE r.task_id > ?1 AND t.status = 'completed'");
      order_by = " ORDER BY r.task_id LIMIT ?5";  // the order results is read in: no sort
      break;
    case v1::TASK_STATUS_FAILED:
      sql = absl::StrCat("SELECT ", kTaskInfoColumns,
                         " FROM tasks AS t INDEXED BY tasks_failed_or_cancelled "
                         "WHERE task_id > ?1 AND status = 'failed'");
      break;
    case v1::TASK_STATUS_CANCELLED:
      sql = absl::StrCat("SELECT ", kTaskInfoColumns,
                         " FROM tasks AS t INDEXED BY tasks_failed_or_cancelled "
                         "WHERE task_id > ?1 AND status = 'cancelled'");
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown status filter ", request.status(),
          "; send TASK_STATUS_QUEUED, TASK_STATUS_IN_PROGRESS, TASK_STATUS_COMPLETED, "
          "TASK_STATUS_FAILED or TASK_STATUS_CANCELLED, or leave it unset for every status"));
  }
  if (request.type() != v1::TASK_TYPE_UNSPECIFIED) absl::StrAppend(&sql, " AND t.task_type = ?3");
  if (!request.worker_id().empty()) absl::StrAppend(&sql, " AND t.worker_id = ?4");
  absl::StrAppend(&sql, order_by);

  SKS_ASSIGN_OR_RETURN(Connection db, Acquire());
  SKS_ASSIGN_OR_RETURN(Statement select, db->Prepare(sql));
  select.Bind(1, after);
  if (request.type() != v1::TASK_TYPE_UNSPECIFIED) select.BindText(3, TaskTypeText(request.type()));
  if (!request.worker_id().empty()) select.BindText(4, request.worker_id());
  select.Bind(5, page_size + 1);  // one more tells whether another page exists

  v1::ListTasksResponse response;
  size_t page_bytes = 0;
  while (true) {
    SKS_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    if (PageIsFull(response, page_size, page_bytes)) break;
    v1::TaskInfo* task = response.add_tasks();
    TaskInfoFromRow(select, task);
    page_bytes += task->ByteSizeLong();
  }
  return response;
}

namespace {

// What GetTask lists of a task's attempts (see GetTaskResponse): with the
// largest content and task row, the answer stays inside the 128 KiB that
// kDefaultMaxContentBytes leaves under 4 MiB.
constexpr int kMaxAttemptsListed = 50;
constexpr size_t kMaxAttemptErrorBytesListed = 16 << 10;

}  // namespace

absl::StatusOr<v1::GetTaskResponse> TaskReader::GetTask(const v1::GetTaskRequest& request) {
  SKS_ASSIGN_OR_RETURN(const int64_t task_id, TaskIdArgument(request.task_id()));
  SKS_ASSIGN_OR_RETURN(Connection db, Acquire());
  // One read transaction, so task, attempts and content are one snapshot.
  SKS_RETURN_IF_ERROR(db->Exec("BEGIN"));
  struct EndRead {
    Db& db;
    ~EndRead() { db.Exec("COMMIT").IgnoreError(); }
  } end_read{*db};

  SKS_ASSIGN_OR_RETURN(std::optional<v1::TaskInfo> info, LoadTaskInfo(*db, task_id));
  if (!info) return NoSuchTask(request.task_id());
  v1::GetTaskResponse response;
  *response.mutable_task() = *std::move(info);

  // Newest first, so the attempts left out are the earliest; put back in
  // order below.
  SKS_ASSIGN_OR_RETURN(
      Statement attempts,
      db->Prepare("SELECT attempt_id, attempt, worker_id, started_at_ms, ended_at_ms, outcome, "
                  "error FROM attempts WHERE task_id = ?1 ORDER BY attempt_id DESC"));
  attempts.Bind(1, task_id);
  size_t error_bytes = 0;
  while (true) {
    SKS_ASSIGN_OR_RETURN(bool row, attempts.Step());
    if (!row) break;
    const size_t error_size = attempts.ColumnTextView(6).size();
    if (response.attempts_size() > 0 && (response.attempts_size() >= kMaxAttemptsListed ||
                                         error_bytes + error_size > kMaxAttemptErrorBytesListed)) {
      response.set_attempts_omitted(response.attempts_omitted() + 1);
      continue;
    }
    error_bytes += error_size;
    v1::Attempt* attempt = response.add_attempts();
    attempt->set_fencing_token(attempts.ColumnInt(0));
    attempt->set_attempt(static_cast<int32_t>(attempts.ColumnInt(1)));
    attempt->set_worker_id(attempts.ColumnText(2));
    attempt->set_started_at_unix_ms(attempts.ColumnInt(3));
    attempt->set_ended_at_unix_ms(attempts.ColumnInt(4));
    attempt->set_outcome(AttemptOutcomeFromText(attempts.ColumnText(5)));
    attempt->set_error(attempts.ColumnText(6));
  }
  std::reverse(response.mutable_attempts()->begin(), response.mutable_attempts()->end());
  // A running attempt and a successful one have no attempts row (see
  // task_writer.h): they are the task row's latest lease. A database from
  // before schema 3 may still hold the running one's row, and one from
  // before schema 5 the successful one's, listed above.
  const v1::TaskStatus status = response.task().status();
  if (status == v1::TASK_STATUS_IN_PROGRESS || status == v1::TASK_STATUS_COMPLETED) {
    SKS_ASSIGN_OR_RETURN(
        Statement lease,
        db->Prepare("SELECT fencing_token, attempts, worker_id, started_at, completed_at "
                    "FROM tasks WHERE task_id = ?1"));
    lease.Bind(1, task_id);
    SKS_ASSIGN_OR_RETURN(bool row, lease.Step());
    const int n = response.attempts_size();
    if (row && !lease.ColumnIsNull(0) &&
        (n == 0 || response.attempts(n - 1).fencing_token() != lease.ColumnInt(0))) {
      v1::Attempt* attempt = response.add_attempts();
      attempt->set_fencing_token(lease.ColumnInt(0));
      attempt->set_attempt(static_cast<int32_t>(lease.ColumnInt(1)));
      attempt->set_worker_id(lease.ColumnText(2));
      attempt->set_started_at_unix_ms(SecondsToMs(lease.ColumnDouble(3)));
      if (status == v1::TASK_STATUS_COMPLETED) {
        attempt->set_ended_at_unix_ms(SecondsToMs(lease.ColumnDouble(4)));
        attempt->set_outcome(v1::ATTEMPT_OUTCOME_SUCCEEDED);
      } else {
        attempt->set_outcome(v1::ATTEMPT_OUTCOME_RUNNING);
      }
    }
  }
  if (request.include_content()) {
    SKS_ASSIGN_OR_RETURN(Statement content,
                         db->Prepare("SELECT content FROM task_content WHERE task_id = ?1"));
    content.Bind(1, task_id);
    SKS_ASSIGN_OR_RETURN(bool row, content.Step());
    if (row) response.set_content(content.ColumnText(0));
  }
  return response;
}

namespace {

// The longest UTF-8 character: a smaller max_result_bytes could ask for a
// piece that holds nothing.
constexpr int32_t kMinResultPieceBytes = 4;

// Checks a GetResult request's piece before the result is read.
absl::Status CheckResultPieceArguments(const v1::GetResultRequest& request) {
  if (request.result_offset() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("result_offset must be >= 0 (a byte offset into the result), got ",
                     request.result_offset()));
  }
  if (request.max_result_bytes() < 0 ||
      (request.max_result_bytes() > 0 && request.max_result_bytes() < kMinResultPieceBytes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_result_bytes must be 0 (the whole result) or at least ", kMinResultPieceBytes,
        " (one UTF-8 character), got ", request.max_result_bytes()));
  }
  return absl::OkStatus();
}

// The piece of `result` that starts at `offset` and holds at most
// `max_bytes` (0: no limit) without splitting a character: result_json is a
// protobuf string, which must be valid UTF-8 on its own. With max_bytes >= 4
// a piece short of the end always holds at least one character, so a client
// that follows next_result_offset always gets to the end.
absl::StatusOr<std::string_view> ResultPiece(std::string_view result, int64_t offset,
                                             int32_t max_bytes) {
  if (offset > static_cast<int64_t>(result.size())) {
    return absl::OutOfRangeError(absl::StrCat("result_offset ", offset,
                                              " is past the end of the result, which has ",
                                              result.size(), " bytes"));
  }
  std::string_view rest = result.substr(static_cast<size_t>(offset));
  if (!rest.empty() && (static_cast<unsigned char>(rest.front()) & 0xC0) == 0x80) {
    return absl::InvalidArgumentError(absl::StrCat(
        "result_offset ", offset,
        " is inside a UTF-8 character: continue from the next_result_offset of the piece "
        "before"));
  }
  if (max_bytes == 0 || rest.size() <= static_cast<size_t>(max_bytes)) return rest;
  const size_t length = Utf8PrefixLength(rest, static_cast<size_t>(max_bytes));
  // Results are checked for UTF-8 when they arrive (submit_stream.cc), so
  // this holds unless the column was edited by hand; an empty piece would
  // send the client round in circles.
  if (length == 0) {
    return absl::DataLossError(absl::StrCat("the stored result is not UTF-8 at byte ", offset));
  }
  return rest.substr(0, length);
}

}  // namespace

absl::StatusOr<v1::GetResultResponse> TaskReader::GetResult(const v1::GetResultRequest& request) {
  SKS_ASSIGN_OR_RETURN(const int64_t task_id, TaskIdArgument(request.task_id()));
  SKS_RETURN_IF_ERROR(CheckResultPieceArguments(request));
  SKS_ASSIGN_OR_RETURN(Connection db, Acquire());
  SKS_ASSIGN_OR_RETURN(
      Statement select,
      db->Prepare("SELECT t.status, t.task_type, t.skill_path, r.task_id, r.result, r.error, "
                  "r.metrics, r.created_at FROM tasks t LEFT JOIN results r USING (task_id) "
                  "WHERE t.task_id = ?1"));
  select.Bind(1, task_id);
  SKS_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return NoSuchTask(request.task_id());
  const std::string status = select.ColumnText(0);
  // A task without a result row is FAILED_PRECONDITION whatever its state:
  // NOT_FOUND is kept for ids of tasks that do not exist.
  if (select.ColumnIsNull(3)) {
    if (status == "queued" || status == "in_progress") {
      return absl::FailedPreconditionError(
          absl::StrCat("task ", task_id, " is ", status, " and has no result yet"));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "task ", task_id, " is ", status,
        " and has no stored result (GetTask shows its attempts and last error; RetryTask "
        "queues it again)"));
  }
  v1::GetResultResponse response;
  response.set_task_id(absl::StrCat(task_id));
  response.set_status(TaskStatusFromText(status));
  response.set_type(TaskTypeFromText(select.ColumnText(1)));
  response.set_skill_path(select.ColumnText(2));
  const std::string_view result = select.ColumnTextView(4);
  SKS_ASSIGN_OR_RETURN(const std::string_view piece,
                       ResultPiece(result, request.result_offset(), request.max_result_bytes()));
  response.set_result_json(piece.data(), piece.size());
  response.set_result_bytes(static_cast<int64_t>(result.size()));
  response.set_next_result_offset(request.result_offset() + static_cast<int64_t>(piece.size()));
  response.set_error(select.ColumnText(5));
  response.set_created_at_unix_ms(SecondsToMs(select.ColumnDouble(7)));
  nlohmann::json metrics =
      nlohmann::json::parse(select.ColumnText(6), nullptr, /*allow_exceptions=*/false);
  if (metrics.is_object()) {
    // Checked field by field: the column may have been edited by hand.
    auto number = [&](const char* key) -> const nlohmann::json* {
      auto it = metrics.find(key);
      return it != metrics.end() && it->is_number() ? &*it : nullptr;
    };
    auto text = [&](const char* key) {
      auto it = metrics.find(key);
      return it != metrics.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    v1::ResultMetrics* out = response.mutable_metrics();
    if (const auto* v = number("duration_seconds")) out->set_duration_seconds(v->get<double>());
    if (const auto* v = number("bytes_in")) out->set_bytes_in(v->get<int64_t>());
    if (const auto* v = number("bytes_out")) out->set_bytes_out(v->get<int64_t>());
    out->set_worker_id(text("worker_id"));
    out->set_task_type(text("task_type"));
  }
  return response;
}

absl::StatusOr<v1::ListWorkersResponse> TaskReader::ListWorkers(
    const v1::ListWorkersRequest& request) {
  // The token is the last worker_id of the previous page, in hex: worker ids
  // are any bytes, a page token a protobuf string.
  std::string after;
  if (!request.page_token().empty()) {
    absl::string_view hex = request.page_token();
    if (!absl::ConsumePrefix(&hex, kWorkersTokenPrefix) || hex.empty() || hex.size() % 2 != 0 ||
        !absl::c_all_of(hex, absl::ascii_isxdigit)) {
      return NotOurPageToken(request.page_token());
    }
    after = absl::HexStringToBytes(hex);
  }
  if (request.page_size() < 0) {
    return absl::InvalidArgumentError("page_size must not be negative");
  }
  const int page_size =
      request.page_size() == 0 ? kMaxPageSize : std::min(request.page_size(), kMaxPageSize);
  SKS_ASSIGN_OR_RETURN(Connection db, Acquire());
  SKS_RETURN_IF_ERROR(db->Exec("BEGIN"));
  struct EndRead {
    Db& db;
    ~EndRead() { db.Exec("COMMIT").IgnoreError(); }
  } end_read{*db};
  std::string sql =
      "SELECT worker_id, hostname, status, tasks_completed, tasks_failed, last_heartbeat, "
      "created_at, concurrency, version FROM workers WHERE worker_id > ?1";
  if (request.active_only()) sql += " AND status != 'lost' AND status != 'stopped'";
  sql += " ORDER BY worker_id LIMIT ?2";
  SKS_ASSIGN_OR_RETURN(Statement select, db->Prepare(sql));
  select.BindText(1, after).Bind(2, page_size + 1);
  v1::ListWorkersResponse response;
  while (true) {
    SKS_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) break;
    v1::WorkerInfo* worker = response.add_workers();
    worker->set_worker_id(select.ColumnText(0));
    worker->set_hostname(select.ColumnText(1));
    worker->set_status(WorkerStatusFromText(select.ColumnText(2)));
    worker->set_tasks_completed(select.ColumnInt(3));
    worker->set_tasks_failed(select.ColumnInt(4));
    worker->set_last_heartbeat_unix_ms(SecondsToMs(select.ColumnDouble(5)));
    worker->set_created_at_unix_ms(SecondsToMs(select.ColumnDouble(6)));
    worker->set_concurrency(static_cast<int32_t>(select.ColumnInt(7)));
    worker->set_version(select.ColumnText(8));
  }
  // Every worker's current tasks in one pass over the lease index (one entry
  // per in_progress task).
  std::unordered_map<std::string, v1::WorkerInfo*> by_id;
  for (v1::WorkerInfo& worker : *response.mutable_workers()) by_id[worker.worker_id()] = &worker;
  SKS_ASSIGN_OR_RETURN(
      Statement tasks,
      db->Prepare("SELECT worker_id, task_id FROM tasks INDEXED BY tasks_lease_deadline "
                  "WHERE status = 'in_progress' ORDER BY task_id"));
  while (true) {
    SKS_ASSIGN_OR_RETURN(bool row, tasks.Step());
    if (!row) break;
    auto it = by_id.find(tasks.ColumnText(0));
    if (it == by_id.end()) continue;
    v1::WorkerInfo& worker = *it->second;
    if (worker.current_task_count() < kMaxCurrentTaskIdsListed) {
      worker.add_current_task_ids(absl::StrCat(tasks.ColumnInt(1)));
    }
    worker.set_current_task_count(worker.current_task_count() + 1);
  }
  // The page ends at page_size workers or kMaxPageBytes, whichever comes
  // first (but holds at least one worker).
  int kept = 0;
  size_t page_bytes = 0;
  for (const v1::WorkerInfo& worker : response.workers()) {
    if (kept == page_size || (kept > 0 && page_bytes + worker.ByteSizeLong() > kMaxPageBytes)) {
      break;
    }
    page_bytes += worker.ByteSizeLong();
    ++kept;
  }
  if (kept < response.workers_size()) {
    response.mutable_workers()->DeleteSubrange(kept, response.workers_size() - kept);
    response.set_next_page_token(absl::StrCat(
        kWorkersTokenPrefix, absl::BytesToHexString(response.workers(kept - 1).worker_id())));
  }
  return response;
}

}  // namespace skillstore::server
