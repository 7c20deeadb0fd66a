#include "task_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/metrics/log_fields.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"
#include "status_macros.h"
#include "task_rows.h"

namespace skillstore::server {
namespace {

// Every INSERT / UPDATE here says OR FAIL. With SQLite's default (ABORT) a
// statement that may fail half-way first copies each page it modifies into
// a statement journal, so it can undo itself: for us a 16 KiB memcpy per
// page per statement, most of the writer's CPU for small tasks. Undoing is
// already covered one level up: a failing operation fails its whole
// transaction, or its SAVEPOINT in the write loop's retry pass (see
// write_loop.h), so nothing half-done is ever committed.

constexpr int64_t kMaxClaimResponseBytes = 3 << 20;

// `text` as a JSON string literal, appended to `out`. Ids and type names are
// valid UTF-8 (protobuf checks string fields), so only quotes, backslashes
// and control characters need escaping.
void AppendJsonString(absl::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (byte < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[byte >> 4]);
      out->push_back(kHex[byte & 0x0f]);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// The results.metrics column of one result. Written by hand: an
// nlohmann::json object per result (a map node and a string per field, then
// a serializer) was ~3% of the server's CPU for small tasks.
std::string MetricsJson(const v1::SubmitResultRequest& request, const std::string& worker_id,
                        const std::string& task_type, int attempt) {
  const v1::ResultMetrics& m = request.metrics();
  std::string out;
  out.reserve(128 + worker_id.size());
  out.append("{\"attempt\":");
  absl::StrAppend(&out, attempt, ",\"bytes_in\":", m.bytes_in(), ",\"bytes_out\":", m.bytes_out(),
                  ",\"duration_seconds\":");
  const double seconds = m.duration_seconds();
  if (std::isfinite(seconds)) {
    // Shortest text that reads back as the same double.
    char buffer[32];
    const std::to_chars_result end = std::to_chars(buffer, buffer + sizeof(buffer), seconds);
    out.append(buffer, end.ptr);
  } else {
    out.append("null");  // JSON has no infinity or NaN
  }
  out.append(",\"task_type\":");
  AppendJsonString(task_type, &out);
  out.append(",\"worker_id\":");
  AppendJsonString(worker_id, &out);
  out.push_back('}');
  return out;
}

}  // namespace

void TxnEffects::Move(v1::TaskStatus from, v1::TaskStatus to) {
  --status_delta[from];
  ++status_delta[to];
  if (to == v1::TASK_STATUS_COMPLETED || to == v1::TASK_STATUS_FAILED) ++finished;
  if (to == v1::TASK_STATUS_QUEUED) claimable = true;
}

void TxnEffects::Merge(const TxnEffects& other) {
  for (size_t i = 0; i < status_delta.size(); ++i) status_delta[i] += other.status_delta[i];
  finished += other.finished;
  claimable = claimable || other.claimable;
  workers_changed = workers_changed || other.workers_changed;
  events.Merge(other.events);
  after_commit.insert(after_commit.end(), other.after_commit.begin(), other.after_commit.end());
  for (const auto& [worker_id, tally] : other.worker_tally) {
    WorkerTally& mine = worker_tally[worker_id];
    mine.completed += tally.completed;
    mine.failed += tally.failed;
    mine.leases += tally.leases;
  }
}

namespace {

// Enqueue writes the tasks of a request that carry no idempotency key
// kEnqueueChunk at a time: one INSERT of that many rows into tasks and one
// into task_content, instead of a statement per row in each. Every
// statement has a cost of its own (reset, bindings, opening and closing its
// cursors) that a row paid in full: chunks took the write loop from ~86k to
// ~78.5k instructions per tiny task (callgrind). A task with a key goes
// alone, after the rows before it, so its lookup sees every earlier task of
// the request.
constexpr int kEnqueueChunk = 16;

// The tasks INSERT for `rows` rows: ?1 is created_at, shared by all; each
// row has kTaskRowParams of its own, from ?(2 + row * kTaskRowParams) on, in
// the order InsertTasks binds them.
constexpr int kTaskRowParams = 9;
std::string TaskInsertSql(int rows) {
  std::string sql =
      "INSERT OR FAIL INTO tasks (task_id, task_type, skill_path, status, created_at, metadata, "
      "priority, max_attempts, timeout_seconds, idempotency_key, content_bytes) VALUES ";
  for (int row = 0; row < rows; ++row) {
    const int p = 2 + row * kTaskRowParams;
    absl::StrAppend(&sql, row == 0 ? "" : ", ", "(?", p, ", ?", p + 1, ", ?", p + 2,
                    ", 'queued', ?1, ?", p + 3, ", ?", p + 4, ", ?", p + 5, ", ?", p + 6,
                    ", ?", p + 7, ", ?", p + 8, ")");
  }
  return sql;
}

std::string ContentInsertSql(int rows) {
  std::string sql = "INSERT OR FAIL INTO task_content (task_id, content) VALUES ";
  for (int row = 0; row < rows; ++row) {
    absl::StrAppend(&sql, row == 0 ? "" : ", ", "(?", 1 + 2 * row, ", ?", 2 + 2 * row, ")");
  }
  return sql;
}

}  // namespace

absl::Status TaskWriter::InsertTasks(absl::Span<const PendingTask> tasks, int64_t now_ms) {
  if (tasks.size() != 1 && tasks.size() != kEnqueueChunk) {
    return absl::InternalError(absl::StrCat("InsertTasks of ", tasks.size(), " tasks"));
  }
  static const std::string kChunkTasks = TaskInsertSql(kEnqueueChunk);
  static const std::string kChunkContent = ContentInsertSql(kEnqueueChunk);
  static const std::string kOneTask = TaskInsertSql(1);
  static const std::string kOneContent = ContentInsertSql(1);
  const bool chunk = tasks.size() == kEnqueueChunk;
  SKS_ASSIGN_OR_RETURN(Statement insert, db_.PrepareStable(chunk ? kChunkTasks : kOneTask));
  SKS_ASSIGN_OR_RETURN(Statement content,
                       db_.PrepareStable(chunk ? kChunkContent : kOneContent));
  insert.Bind(1, MsToSeconds(now_ms));
  for (size_t row = 0; row < tasks.size(); ++row) {
    const v1::TaskSpec& spec = *tasks[row].spec;
    const int p = 2 + static_cast<int>(row) * kTaskRowParams;
    insert.Bind(p, tasks[row].task_id)
        .BindText(p + 1, TaskTypeText(spec.type()))
        .BindTextNoCopy(p + 2, spec.skill_path())  // the request outlives `insert`
        .BindText(p + 3, MetadataToJson(spec.metadata()))
        .Bind(p + 4, spec.priority())
        .Bind(p + 5, spec.max_attempts() > 0 ? spec.max_attempts() : options_.default_max_attempts)
        .Bind(p + 6, spec.timeout_seconds() > 0 ? spec.timeout_seconds() : 0)
        .BindTextOrNull(p + 7, spec.idempotency_key())
        .Bind(p + 8, static_cast<int64_t>(spec.content().size()));
    content.Bind(1 + 2 * static_cast<int>(row), tasks[row].task_id);
    // NULL: no content was sent, a worker reads skill_path (schema.cc, 7).
    if (spec.has_content()) {
      content.BindBlobNoCopy(2 + 2 * static_cast<int>(row), spec.content());  // as skill_path
    } else {
      content.BindNull(2 + 2 * static_cast<int>(row));
    }
  }
  SKS_RETURN_IF_ERROR(insert.Run());
  return content.Run();
}

absl::StatusOr<std::optional<int64_t>> TaskWriter::FindIdempotentTask(
    const v1::TaskSpec& spec, int index,
    const std::unordered_map<std::string_view, int>& new_keys) {
  // A key stands for what its task computes: its type and its input, which
  // is its content, or its skill_path when it has none (a worker then reads
  // that file). A repeat of both gets the existing task back; anything else
  // under the same key is a client mixing up two tasks, and handing it the
  // other task's id would lose the new one silently. Labels, priority and
  // metadata may differ: skillctl's keys are the type and a hash of the
  // content (cli/idempotency.h), whatever the path.
  SKS_ASSIGN_OR_RETURN(
      Statement find,
      db_.Prepare("SELECT t.task_id, t.task_type = ?2, c.content IS ?3, "
                  "c.content IS NOT NULL OR t.skill_path = ?4 "
                  "FROM tasks AS t LEFT JOIN task_content AS c ON c.task_id = t.task_id "
                  "WHERE t.idempotency_key = ?1"));
  find.BindText(1, spec.idempotency_key())
      .BindText(2, TaskTypeText(spec.type()))
      .BindTextNoCopy(4, spec.skill_path());
  if (spec.has_content()) {
    find.BindBlobNoCopy(3, spec.content());
  } else {
    find.BindNull(3);
  }
  SKS_ASSIGN_OR_RETURN(const bool found, find.Step());
  if (!found) return std::nullopt;
  const int64_t task_id = find.ColumnInt(0);
  const char* difference = find.ColumnInt(1) == 0   ? "another task type"
                           : find.ColumnInt(2) == 0 ? "other content"
                           : find.ColumnInt(3) == 0 ? "no content and another skill_path"
                                                    : nullptr;
  if (difference == nullptr) return task_id;
  if (auto first = new_keys.find(spec.idempotency_key()); first != new_keys.end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tasks[", index, "] repeats the idempotency_key ", QuotedForMessage(spec.idempotency_key()),
        " of tasks[", first->second, "] with ", difference, "; a key stands for one task"));
  }
  return absl::AlreadyExistsError(absl::StrCat(
      "tasks[", index, "]: idempotency_key ", QuotedForMessage(spec.idempotency_key()),
      " already names task ", task_id, ", which was enqueued with ", difference,
      "; a key stands for one task: send the same type and input to get that task back, or use "
      "a new key"));
}

absl::StatusOr<v1::EnqueueResponse> TaskWriter::Enqueue(const v1::EnqueueRequest& request,
                                                        int64_t now_ms, TxnEffects& effects) {
  v1::EnqueueResponse response;
  std::vector<PendingTask> pending;
  pending.reserve(kEnqueueChunk);
  // Writes what `pending` holds: full chunks at once, a remainder row by row.
  auto flush = [&]() -> absl::Status {
    if (pending.size() == kEnqueueChunk) {
      SKS_RETURN_IF_ERROR(InsertTasks(pending, now_ms));
    } else {
      for (const PendingTask& task : pending) {
        SKS_RETURN_IF_ERROR(InsertTasks(absl::MakeConstSpan(&task, 1), now_ms));
      }
    }
    pending.clear();
    return absl::OkStatus();
  };
  // The request index of each key this request stores a new task for, so a
  // later conflict inside the request names the request's own task.
  std::unordered_map<std::string_view, int> new_keys;
  for (int index = 0; index < request.tasks_size(); ++index) {
    const v1::TaskSpec& spec = request.tasks(index);
    const bool keyed = !spec.idempotency_key().empty();
    if (keyed) {
      SKS_RETURN_IF_ERROR(flush());
      SKS_ASSIGN_OR_RETURN(std::optional<int64_t> existing,
                           FindIdempotentTask(spec, index, new_keys));
      if (existing.has_value()) {
        response.add_task_ids(absl::StrCat(*existing));
        response.add_deduplicated(true);
        response.set_deduplicated_count(response.deduplicated_count() + 1);
        continue;
      }
      new_keys.emplace(spec.idempotency_key(), index);
    }
    // Ids come from the writer's counter (see Load and SaveIdHighWater). One
    // skipped by a rolled-back transaction is never handed out: it reached
    // no one (answers go out after the COMMIT).
    const int64_t task_id = next_task_id_++;
    pending.push_back({task_id, &spec});
    if (keyed || pending.size() == kEnqueueChunk) SKS_RETURN_IF_ERROR(flush());
    response.add_task_ids(absl::StrCat(task_id));
    response.add_deduplicated(false);
    response.set_enqueued_count(response.enqueued_count() + 1);
    effects.Add(v1::TASK_STATUS_QUEUED);
    effects.events.Add(TaskEvent::kEnqueued, spec.type());
    effects.claimable = true;
  }
  SKS_RETURN_IF_ERROR(flush());
  return response;
}

v1::ClaimTaskResponse TaskWriter::EmptyClaimResponse() const {
  v1::ClaimTaskResponse response;
  response.set_heartbeat_interval_seconds(options_.heartbeat_interval_seconds());
  response.set_lease_seconds(options_.lease_seconds);
  response.set_accepts_result_batches(true);  // submit_stream.cc reads more_results
  return response;
}

absl::StatusOr<std::unique_ptr<TaskWriter>> TaskWriter::Create(Db& db, StoreOptions options) {
  std::unique_ptr<TaskWriter> writer(new TaskWriter(db, options));
  SKS_RETURN_IF_ERROR(writer->Load());
  return writer;
}

absl::Status TaskWriter::Load() {
  // sqlite_sequence remembers the largest token and task id ever issued,
  // even of rows deleted by hand since (SQLite's own AUTOINCREMENT until
  // schema 4, then SaveIdHighWater in every transaction). The rows are read
  // too, for a database whose sequence lags them: attempt ids, and the
  // tokens of in_progress tasks (the lease index). The token of a completed
  // task, which has no attempts row, is never above the sequence: the
  // transaction that issued it recorded it.
  {
    SKS_ASSIGN_OR_RETURN(
        Statement select,
        db_.Prepare("SELECT max(ifnull((SELECT max(attempt_id) FROM attempts), 0), "
                    "ifnull((SELECT max(seq) FROM sqlite_sequence WHERE name = 'attempts'), 0), "
                    "ifnull((SELECT max(fencing_token) FROM tasks INDEXED BY "
                    "tasks_lease_deadline WHERE status = 'in_progress'), 0)), "
                    "max(ifnull((SELECT max(task_id) FROM tasks), 0), "
                    "ifnull((SELECT max(seq) FROM sqlite_sequence WHERE name = 'tasks'), 0))"));
    SKS_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) return absl::InternalError("the largest fencing token and task id: no row");
    next_fencing_token_ = select.ColumnInt(0) + 1;
    next_task_id_ = select.ColumnInt(1) + 1;
    saved_fencing_token_ = next_fencing_token_;
    saved_task_id_ = next_task_id_;
  }
  // Through the lease index: one entry per in_progress task.
  SKS_ASSIGN_OR_RETURN(Statement select,
                       db_.Prepare("SELECT worker_id, count(*) FROM tasks "
                                   "INDEXED BY tasks_lease_deadline "
                                   "WHERE status = 'in_progress' GROUP BY worker_id"));
  while (true) {
    SKS_ASSIGN_OR_RETURN(const bool row, select.Step());
    if (!row) return absl::OkStatus();
    leases_held_[select.ColumnText(0)] = select.ColumnInt(1);
  }
}

void TaskWriter::BeginTransaction() {
  claimed_in_transaction_.clear();
  // Leases granted by a transaction that did not commit were never given
  // out (an entry left behind would only cost memory: Complete checks the
  // row).
  for (int64_t token : running_leases_in_transaction_) running_leases_.erase(token);
  running_leases_in_transaction_.clear();
}

void TaskWriter::Committed(const TxnEffects& effects) {
  // SaveIdHighWater ran last in the transaction: these are what it wrote.
  saved_task_id_ = next_task_id_;
  saved_fencing_token_ = next_fencing_token_;
  claimed_in_transaction_.clear();
  running_leases_in_transaction_.clear();
  for (const auto& [worker_id, tally] : effects.worker_tally) {
    if (tally.leases == 0) continue;
    auto it = leases_held_.try_emplace(worker_id, 0).first;
    it->second += tally.leases;
    if (it->second <= 0) leases_held_.erase(it);  // only workers holding leases stay
  }
}

int64_t TaskWriter::LeasesHeld(const std::string& worker_id) const {
  int64_t held = 0;
  if (auto it = leases_held_.find(worker_id); it != leases_held_.end()) held += it->second;
  if (auto it = claimed_in_transaction_.find(worker_id); it != claimed_in_transaction_.end()) {
    held += it->second;
  }
  return held;
}

namespace {

// Claim candidates of one type, best first, with everything the lease and
// the answer need read with the candidate itself (the row is visited anyway
// for not_before_ms), so leasing it is plain writes: no RETURNING, whose
// result rows SQLite collects in a temporary b-tree per statement. One text
// per type (the type a literal, so each is its own cached statement and the
// three can be stepped side by side in the merge below).
#define SKS_CLAIM_CANDIDATES(type)                                                          \
  "SELECT t.priority, t.task_id, t.content_bytes, t.skill_path, t.max_attempts, "          \
  "t.timeout_seconds, t.metadata, t.attempts, c.content, t.retry_base "                      \
  "FROM tasks AS t INDEXED BY tasks_claim_by_type "                                         \
  "LEFT JOIN task_content AS c ON c.task_id = t.task_id "                                   \
  "WHERE t.status = 'queued' AND t.task_type = '" type "' AND t.not_before_ms <= ?1 "      \
  "ORDER BY t.priority DESC, t.task_id LIMIT ?2"
constexpr char kClaimParse[] = SKS_CLAIM_CANDIDATES("parse");
constexpr char kClaimValidate[] = SKS_CLAIM_CANDIDATES("validate");
constexpr char kClaimAnalyze[] = SKS_CLAIM_CANDIDATES("analyze");
#undef SKS_CLAIM_CANDIDATES

absl::StatusOr<Statement> PrepareClaimCandidates(Db& db, v1::TaskType type) {
  switch (type) {
    case v1::TASK_TYPE_PARSE:
      return db.Prepare(kClaimParse);
    case v1::TASK_TYPE_VALIDATE:
      return db.Prepare(kClaimValidate);
    case v1::TASK_TYPE_ANALYZE:
      return db.Prepare(kClaimAnalyze);
    default:
      return absl::InvalidArgumentError(absl::StrCat("no task type ", type));
  }
}

}  // namespace

absl::StatusOr<v1::ClaimTaskResponse> TaskWriter::Claim(const v1::ClaimTaskRequest& request,
                                                        int64_t now_ms, TxnEffects& effects) {
  v1::ClaimTaskResponse response = EmptyClaimResponse();
  SKS_RETURN_IF_ERROR(
      EndEarlierInstance(request.worker_id(), request.instance_id(), now_ms, effects));
  int limit = std::clamp(request.max_tasks(), 1, options_.max_claim_tasks);
  if (options_.max_leases_per_worker > 0) {
    const int64_t leases = LeasesHeld(request.worker_id());
    if (leases >= options_.max_leases_per_worker) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "worker '", request.worker_id(), "' already holds ", leases, " leases, the limit per "
          "worker (skillstore-server --max-leases-per-worker ", options_.max_leases_per_worker,
          "); submit results before claiming more"));
    }
    limit = static_cast<int>(std::min<int64_t>(limit, options_.max_leases_per_worker - leases));
  }

  // The requested types (none: all), each read through tasks_claim_by_type
  // and merged by (priority desc, task_id asc), one row at a time, so at most
  // one row per type is read and not leased.
  std::vector<v1::TaskType> types;
  for (int type : request.types()) {
    const auto t = static_cast<v1::TaskType>(type);
    if (!TaskTypeText(t).empty() && std::find(types.begin(), types.end(), t) == types.end()) {
      types.push_back(t);
    }
  }
  if (types.empty()) types = {v1::TASK_TYPE_PARSE, v1::TASK_TYPE_VALIDATE, v1::TASK_TYPE_ANALYZE};
  struct Source {
    v1::TaskType type;
    Statement stmt;
    bool has_row;
  };
  std::vector<Source> sources;
  sources.reserve(types.size());
  for (v1::TaskType type : types) {
    SKS_ASSIGN_OR_RETURN(Statement stmt, PrepareClaimCandidates(db_, type));
    stmt.Bind(1, now_ms).Bind(2, limit);
    SKS_ASSIGN_OR_RETURN(const bool has_row, stmt.Step());
    if (has_row) sources.push_back({type, std::move(stmt), true});
  }

  struct Candidate {
    int64_t priority;
    int64_t task_id;
    v1::TaskType type;
    std::string skill_path;
    int max_attempts;
    int timeout_seconds;
    std::string metadata;
    int attempt;  // of the lease about to be granted
    std::optional<std::string> content;  // nullopt: none sent (skill_path is read)
    int retry_base;
  };
  std::vector<Candidate> candidates;
  // Keep the response within what a client accepts by default (4 MiB) when
  // tasks are big: always at least one task, more only while they fit.
  int64_t response_bytes = 0;
  while (candidates.size() < static_cast<size_t>(limit)) {
    Source* best = nullptr;
    for (Source& source : sources) {
      if (!source.has_row) continue;
      if (best == nullptr || source.stmt.ColumnInt(0) > best->stmt.ColumnInt(0) ||
          (source.stmt.ColumnInt(0) == best->stmt.ColumnInt(0) &&
           source.stmt.ColumnInt(1) < best->stmt.ColumnInt(1))) {
        best = &source;
      }
    }
    if (best == nullptr) break;
    const Statement& row = best->stmt;
    response_bytes += row.ColumnInt(2);
    if (!candidates.empty() && response_bytes > kMaxClaimResponseBytes) break;
    candidates.push_back({row.ColumnInt(0), row.ColumnInt(1), best->type, row.ColumnText(3),
                          static_cast<int>(row.ColumnInt(4)), static_cast<int>(row.ColumnInt(5)),
                          row.ColumnText(6), static_cast<int>(row.ColumnInt(7)) + 1,
                          row.ColumnIsNull(8) ? std::nullopt : std::optional(row.ColumnText(8)),
                          static_cast<int>(row.ColumnInt(9))});
    SKS_ASSIGN_OR_RETURN(best->has_row, best->stmt.Step());
  }
  sources.clear();  // resets the reads before the writes below
  if (candidates.empty()) return response;

  const int64_t deadline_ms = now_ms + int64_t{options_.lease_seconds} * 1000;
  for (Candidate& candidate : candidates) {
    // The running attempt is the task row itself (worker_id, started_at,
    // fencing_token, attempts); its attempts row comes when it ends.
    const int64_t token = next_fencing_token_++;
    SKS_ASSIGN_OR_RETURN(
        Statement lease,
        db_.Prepare("UPDATE OR FAIL tasks SET status = 'in_progress', attempts = ?6, "
                    "worker_id = ?2, started_at = ?3, fencing_token = ?4, "
                    "lease_deadline_ms = ?5 WHERE task_id = ?1"));
    lease.Bind(1, candidate.task_id)
        .BindText(2, request.worker_id())
        .Bind(3, MsToSeconds(now_ms))
        .Bind(4, token)
        .Bind(5, deadline_ms)
        .Bind(6, candidate.attempt);
    SKS_RETURN_IF_ERROR(lease.Run());
    // The lease as LoadLease would read it back, for the result (Submit).
    LeaseRow& running = running_leases_[token];
    running.task_id = candidate.task_id;
    running.status = v1::TASK_STATUS_IN_PROGRESS;
    running.fencing_token = token;
    running.worker_id = request.worker_id();
    running.task_type = TaskTypeText(candidate.type);
    running.attempts = candidate.attempt;
    running.retry_base = candidate.retry_base;
    running.max_attempts = candidate.max_attempts;
    running.started_at_ms = now_ms;
    running_leases_in_transaction_.push_back(token);
    v1::ClaimedTask* task = response.add_tasks();
    task->set_task_id(absl::StrCat(candidate.task_id));
    task->set_type(candidate.type);
    task->set_skill_path(std::move(candidate.skill_path));
    task->set_priority(static_cast<int32_t>(candidate.priority));
    task->set_max_attempts(candidate.max_attempts);
    task->set_timeout_seconds(candidate.timeout_seconds > 0 ? candidate.timeout_seconds
                                                            : options_.default_timeout_seconds);
    MetadataFromJson(candidate.metadata, task->mutable_metadata());
    task->mutable_lease()->set_attempt(candidate.attempt);
    task->mutable_lease()->set_fencing_token(token);
    task->mutable_lease()->set_deadline_unix_ms(deadline_ms);
    if (candidate.content.has_value()) task->set_content(*std::move(candidate.content));
    effects.Move(v1::TASK_STATUS_QUEUED, v1::TASK_STATUS_IN_PROGRESS);
    effects.events.Add(TaskEvent::kClaimed, task->type());
    if (spdlog::should_log(spdlog::level::debug)) {
      logging::LogFields fields({{"task_id", task->task_id()},
                                 {"worker_id", request.worker_id()},
                                 {"attempt", task->lease().attempt()}});
      spdlog::debug("task {} leased to {} (attempt {}, token {})", candidate.task_id,
                    request.worker_id(), task->lease().attempt(), token);
    }
  }
  const auto granted = static_cast<int64_t>(candidates.size());
  effects.worker_tally[request.worker_id()].leases += granted;
  claimed_in_transaction_[request.worker_id()] += granted;
  SKS_RETURN_IF_ERROR(UpsertWorker(request.worker_id(), request.instance_id(),
                                   request.hostname(), "active", now_ms, effects));
  return response;
}

absl::StatusOr<bool> TaskWriter::LoadLease(const std::string& task_id, LeaseRow* row) {
  std::optional<int64_t> id = ParseTaskId(task_id);
  if (!id) return false;
  return LoadLease(*id, row);
}

absl::StatusOr<bool> TaskWriter::LoadLease(int64_t task_id, LeaseRow* row) {
  SKS_ASSIGN_OR_RETURN(
      Statement select,
      db_.Prepare("SELECT status, fencing_token, worker_id, task_type, attempts, retry_base, "
                  "max_attempts, started_at FROM tasks WHERE task_id = ?1"));
  select.Bind(1, task_id);
  SKS_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return false;
  row->task_id = task_id;
  row->status = TaskStatusFromText(select.ColumnText(0));
  row->fencing_token = select.ColumnInt(1);
  row->worker_id = select.ColumnText(2);
  row->task_type = select.ColumnText(3);
  row->attempts = static_cast<int>(select.ColumnInt(4));
  row->retry_base = static_cast<int>(select.ColumnInt(5));
  row->max_attempts = static_cast<int>(select.ColumnInt(6));
  row->started_at_ms = SecondsToMs(select.ColumnDouble(7));
  return true;
}

absl::StatusOr<bool> TaskWriter::Complete(const LeaseRow& lease, int64_t now_ms) {
  SKS_ASSIGN_OR_RETURN(
      Statement complete,
      db_.Prepare("UPDATE OR FAIL tasks SET status = 'completed', completed_at = ?2, "
                  "lease_deadline_ms = NULL, last_error = NULL "
                  "WHERE task_id = ?1 AND status = 'in_progress' AND fencing_token = ?3"));
  complete.Bind(1, lease.task_id).Bind(2, MsToSeconds(now_ms)).Bind(3, lease.fencing_token);
  SKS_RETURN_IF_ERROR(complete.Run());
  return db_.Changes() == 1;
}

absl::Status TaskWriter::EndAttempt(const LeaseRow& lease, v1::AttemptOutcome outcome,
                                    const std::string& error, int64_t now_ms) {
  ForgetLease(lease);
  // One INSERT per attempt, where an INSERT at the claim and an UPDATE here
  // meant two writes to the attempts b-tree and its index per task. The
  // conflict clause ends a 'running' row a server before schema 3 wrote at
  // the claim.
  SKS_ASSIGN_OR_RETURN(
      Statement insert,
      db_.Prepare("INSERT OR FAIL INTO attempts (attempt_id, task_id, attempt, worker_id, "
                  "started_at_ms, ended_at_ms, outcome, error) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
                  "ON CONFLICT (attempt_id) DO UPDATE SET ended_at_ms = excluded.ended_at_ms, "
                  "outcome = excluded.outcome, error = excluded.error "
                  "WHERE attempts.outcome = 'running'"));
  insert.Bind(1, lease.fencing_token)
      .Bind(2, lease.task_id)
      .Bind(3, lease.attempts)
      .BindText(4, lease.worker_id)
      .Bind(5, lease.started_at_ms)
      .Bind(6, now_ms)
      .BindText(7, AttemptOutcomeText(outcome))
      .BindTextOrNull(8, error);
  return insert.Run();
}

absl::StatusOr<v1::TaskStatus> TaskWriter::RequeueOrFail(const LeaseRow& lease, bool retryable,
                                                         const std::string& error,
                                                         const std::string& metrics_json,
                                                         int64_t now_ms, TxnEffects& effects) {
  const int used = lease.attempts - lease.retry_base;
  if (retryable && used < lease.max_attempts) {
    const int shift = std::clamp(used - 1, 0, 30);
    const int64_t backoff = std::min(options_.backoff_base_ms << shift, options_.backoff_max_ms);
    SKS_ASSIGN_OR_RETURN(
        Statement requeue,
        db_.Prepare("UPDATE OR FAIL tasks SET status = 'queued', worker_id = NULL, "
                    "lease_deadline_ms = NULL, not_before_ms = ?2, last_error = ?3 "
                    "WHERE task_id = ?1"));
    requeue.Bind(1, lease.task_id).Bind(2, now_ms + backoff).BindText(3, error);
    SKS_RETURN_IF_ERROR(requeue.Run());
    effects.Move(v1::TASK_STATUS_IN_PROGRESS, v1::TASK_STATUS_QUEUED);
    effects.events.Add(TaskEvent::kRetried, TaskTypeFromText(lease.task_type));
    spdlog::debug("task {} re-queued after attempt {} (backoff {} ms): {}", lease.task_id,
                  lease.attempts, backoff, ForLog(error));
    return v1::TASK_STATUS_QUEUED;
  }
  SKS_ASSIGN_OR_RETURN(Statement fail,
                       db_.Prepare("UPDATE OR FAIL tasks SET status = 'failed', completed_at = ?2, "
                                   "lease_deadline_ms = NULL, last_error = ?3 WHERE task_id = ?1"));
  fail.Bind(1, lease.task_id).Bind(2, MsToSeconds(now_ms)).BindText(3, error);
  SKS_RETURN_IF_ERROR(fail.Run());
  SKS_ASSIGN_OR_RETURN(
      Statement result,
      db_.Prepare("INSERT OR FAIL INTO results (task_id, result, error, metrics, created_at) "
                  "VALUES (?1, NULL, ?2, ?3, ?4) "
                  "ON CONFLICT (task_id) DO UPDATE SET result = excluded.result, error = excluded.error, "
                  "metrics = excluded.metrics, created_at = excluded.created_at"));
  result.Bind(1, lease.task_id)
      .BindText(2, error)
      .BindText(3, metrics_json)
      .Bind(4, MsToSeconds(now_ms));
  SKS_RETURN_IF_ERROR(result.Run());
  effects.Move(v1::TASK_STATUS_IN_PROGRESS, v1::TASK_STATUS_FAILED);
  effects.events.Add(TaskEvent::kFailed, TaskTypeFromText(lease.task_type));
  // A dead letter is worth an operator's attention: logged at info.
  spdlog::info("task {} failed after attempt {}: {}", lease.task_id, lease.attempts,
               ForLog(error));
  return v1::TASK_STATUS_FAILED;
}

absl::StatusOr<v1::SubmitResultResponse> TaskWriter::Submit(const v1::SubmitResultRequest& request,
                                                            int64_t now_ms, TxnEffects& effects) {
  v1::SubmitResultResponse response;
  response.set_task_id(request.task_id());
  response.set_fencing_token(request.fencing_token());
  auto reject = [&](v1::RejectReason reason, std::string message, v1::TaskStatus status) {
    effects.events.Reject(reason);
    response.set_accepted(false);
    response.set_reject_reason(reason);
    response.set_message(std::move(message));
    response.set_task_status(status);
    return response;
  };

  LeaseRow lease;
  // A success for a lease this writer granted: the task row need not be read
  // first. The guarded UPDATE (Complete) moves the task to completed only
  // while that lease is current; when it is not, the full checks below find
  // out why.
  bool completed = false;  // the task row is already completed for `lease`
  if (request.success()) {
    auto it = running_leases_.find(request.fencing_token());
    if (it != running_leases_.end() && ParseTaskId(request.task_id()) == it->second.task_id &&
        (request.worker_id().empty() || request.worker_id() == it->second.worker_id)) {
      SKS_ASSIGN_OR_RETURN(completed, Complete(it->second, now_ms));
      if (completed) lease = it->second;
    }
  }
  if (!completed) {
    SKS_ASSIGN_OR_RETURN(const bool found, LoadLease(request.task_id(), &lease));
    if (!found) {
      return reject(v1::REJECT_REASON_UNKNOWN_TASK,
                    absl::StrCat("no task with id ", QuotedForMessage(request.task_id())),
                    v1::TASK_STATUS_UNSPECIFIED);
    }
    const bool current_token = lease.fencing_token == request.fencing_token();
    if (lease.status == v1::TASK_STATUS_CANCELLED) {
      return reject(v1::REJECT_REASON_CANCELLED,
                    absl::StrCat("task ", lease.task_id, " was cancelled; result not stored"),
                    lease.status);
    }
    if (current_token &&
        (lease.status == v1::TASK_STATUS_COMPLETED || lease.status == v1::TASK_STATUS_FAILED)) {
      // The same lease submitting again (e.g. after a lost acknowledgement):
      // the first submission is what is stored. A resend of the same outcome
      // is acknowledged as stored; the other outcome is refused, so the
      // sender does not take it for the one recorded.
      if (request.success() != (lease.status == v1::TASK_STATUS_COMPLETED)) {
        return reject(
            v1::REJECT_REASON_INVALID,
            absl::StrCat("lease ", request.fencing_token(), " of task ", lease.task_id,
                         " already recorded ", request.success() ? "a failure" : "a success",
                         "; a second, different outcome is not stored"),
            lease.status);
      }
      // A resend is the same bytes; another result under the same lease is
      // a worker's mistake, told as such rather than acknowledged.
      if (request.success()) {
        SKS_ASSIGN_OR_RETURN(Statement stored,
                             db_.Prepare("SELECT result FROM results WHERE task_id = ?1"));
        stored.Bind(1, lease.task_id);
        SKS_ASSIGN_OR_RETURN(const bool row, stored.Step());
        if (row && stored.ColumnTextView(0) != request.result_json()) {
          return reject(v1::REJECT_REASON_INVALID,
                        absl::StrCat("lease ", request.fencing_token(), " of task ", lease.task_id,
                                     " already recorded another result; the first one is kept"),
                        lease.status);
        }
      }
      response.set_accepted(true);
      response.set_message("already recorded for this lease");
      response.set_task_status(lease.status);
      return response;
    }
    if (!current_token) {
      // Tokens only grow, and every lease of a task that ended has its row
      // in attempts: a token above the current one, or of no attempt of
      // this task, was never a lease of it (a bug or a guess, not a lease
      // that ran out).
      bool ours = request.fencing_token() < lease.fencing_token;
      if (ours) {
        SKS_ASSIGN_OR_RETURN(
            Statement attempt,
            db_.Prepare("SELECT 1 FROM attempts WHERE attempt_id = ?1 AND task_id = ?2"));
        attempt.Bind(1, request.fencing_token()).Bind(2, lease.task_id);
        SKS_ASSIGN_OR_RETURN(ours, attempt.Step());
      }
      if (!ours) {
        return reject(
            v1::REJECT_REASON_INVALID,
            absl::StrCat("fencing_token ", request.fencing_token(), " was never a lease of task ",
                         lease.task_id, " (its latest lease is ", lease.fencing_token,
                         "); send the token of the claimed task"),
            lease.status);
      }
    }
    if (lease.status != v1::TASK_STATUS_IN_PROGRESS || !current_token) {
      return reject(v1::REJECT_REASON_STALE_LEASE,
                    absl::StrCat("lease ", request.fencing_token(), " of task ", lease.task_id,
                                 " is no longer current (task is ", TaskStatusText(lease.status),
                                 lease.status == v1::TASK_STATUS_IN_PROGRESS
                                     ? absl::StrCat(" under lease ", lease.fencing_token)
                                     : std::string(),
                                 "); result not stored"),
                    lease.status);
    }
    if (!request.worker_id().empty() && request.worker_id() != lease.worker_id) {
      return reject(v1::REJECT_REASON_WRONG_WORKER,
                    absl::StrCat("task ", lease.task_id, " is leased to '", lease.worker_id,
                                 "', not '", request.worker_id(), "'"),
                    lease.status);
    }
  }

  const std::string metrics =
      MetricsJson(request, lease.worker_id, lease.task_type, lease.attempts);
  // The task's fields for log lines: the success path only logs at debug,
  // so it skips building them (strings per result) unless that is on.
  std::optional<logging::LogFields> fields;
  if (!request.success() || spdlog::should_log(spdlog::level::debug)) {
    fields.emplace(std::initializer_list<logging::LogField>{{"task_id", request.task_id()},
                                                            {"worker_id", lease.worker_id},
                                                            {"attempt", lease.attempts}});
  }
  effects.events.durations.push_back({TaskTypeFromText(lease.task_type), request.success(),
                                      request.metrics().duration_seconds()});
  if (request.success()) {
    if (!completed) {
      SKS_ASSIGN_OR_RETURN(completed, Complete(lease, now_ms));
      if (!completed) return absl::InternalError("a checked lease was not current");
    }
    // No attempts row: the completed task row is the successful attempt's
    // record (see task_writer.h).
    ForgetLease(lease);
    SKS_ASSIGN_OR_RETURN(
        Statement result,
        db_.Prepare("INSERT OR FAIL INTO results (task_id, result, error, metrics, "
                    "created_at) VALUES (?1, ?2, NULL, ?3, ?4) "
                    "ON CONFLICT (task_id) DO UPDATE SET result = excluded.result, "
                    "error = excluded.error, metrics = excluded.metrics, "
                    "created_at = excluded.created_at"));
    result.Bind(1, lease.task_id)
        .BindTextNoCopy(2, request.result_json())  // `request` outlives `result`
        .BindText(3, metrics)
        .Bind(4, MsToSeconds(now_ms));
    SKS_RETURN_IF_ERROR(result.Run());
    TxnEffects::WorkerTally& tally = effects.worker_tally[lease.worker_id];
    ++tally.completed;  // ApplyWorkerTally, once per batch
    --tally.leases;
    effects.Move(v1::TASK_STATUS_IN_PROGRESS, v1::TASK_STATUS_COMPLETED);
    effects.events.Add(TaskEvent::kCompleted, TaskTypeFromText(lease.task_type));
    spdlog::debug("task {} completed by {}", lease.task_id, lease.worker_id);
    response.set_accepted(true);
    response.set_task_status(v1::TASK_STATUS_COMPLETED);
    return response;
  }

  const std::string error = request.error().empty()
                                ? std::string("the worker reported a failure without a message")
                                : request.error();
  SKS_RETURN_IF_ERROR(EndAttempt(lease, v1::ATTEMPT_OUTCOME_FAILED, error, now_ms));
  TxnEffects::WorkerTally& tally = effects.worker_tally[lease.worker_id];
  ++tally.failed;  // ApplyWorkerTally, once per batch
  --tally.leases;
  SKS_ASSIGN_OR_RETURN(v1::TaskStatus status,
                       RequeueOrFail(lease, request.retryable(), error, metrics, now_ms, effects));
  response.set_accepted(true);
  response.set_task_status(status);
  return response;
}

absl::Status TaskWriter::SaveIdHighWater() {
  struct Mark {
    const char* name;
    int64_t high_water;  // the largest id handed out
    int64_t saved;       // what the last commit recorded
  };
  const Mark marks[] = {{"tasks", next_task_id_ - 1, saved_task_id_ - 1},
                        {"attempts", next_fencing_token_ - 1, saved_fencing_token_ - 1}};
  for (const Mark& mark : marks) {
    if (mark.high_water == mark.saved) continue;
    // sqlite_sequence has no key: the row is updated, or inserted the first
    // time (a database whose table never had a row).
    SKS_ASSIGN_OR_RETURN(Statement update,
                         db_.Prepare("UPDATE OR FAIL sqlite_sequence SET seq = ?2 WHERE name = ?1"));
    update.BindText(1, mark.name).Bind(2, mark.high_water);
    SKS_RETURN_IF_ERROR(update.Run());
    if (db_.Changes() > 0) continue;
    SKS_ASSIGN_OR_RETURN(Statement insert,
                         db_.Prepare("INSERT OR FAIL INTO sqlite_sequence (name, seq) VALUES (?1, ?2)"));
    insert.BindText(1, mark.name).Bind(2, mark.high_water);
    SKS_RETURN_IF_ERROR(insert.Run());
  }
  return absl::OkStatus();
}

absl::Status TaskWriter::ApplyWorkerTally(const TxnEffects& effects) {
  for (const auto& [worker_id, tally] : effects.worker_tally) {
    if (tally.completed == 0 && tally.failed == 0) continue;  // only leases changed
    SKS_ASSIGN_OR_RETURN(
        Statement update,
        db_.Prepare("UPDATE OR FAIL workers SET tasks_completed = tasks_completed + ?2, "
                    "tasks_failed = tasks_failed + ?3 WHERE worker_id = ?1"));
    update.BindText(1, worker_id).Bind(2, tally.completed).Bind(3, tally.failed);
    SKS_RETURN_IF_ERROR(update.Run());
  }
  return absl::OkStatus();
}

absl::Status TaskWriter::UpsertWorker(const std::string& worker_id,
                                      const std::string& instance_id, const std::string& hostname,
                                      const char* status, int64_t now_ms, TxnEffects& effects) {
  SKS_ASSIGN_OR_RETURN(
      Statement upsert,
      db_.Prepare("INSERT OR FAIL INTO workers (worker_id, status, last_heartbeat, created_at, "
                  "hostname, instance_id) "
                  "VALUES (?1, ?2, ?3, ?3, ?4, ?5) ON CONFLICT (worker_id) DO UPDATE SET "
                  "status = CASE WHEN workers.status = 'draining' AND ?2 = 'active' "
                  "THEN 'draining' ELSE ?2 END, last_heartbeat = ?3, "
                  "hostname = CASE WHEN ?4 = '' THEN workers.hostname ELSE ?4 END, "
                  "instance_id = CASE WHEN ?5 = '' THEN workers.instance_id ELSE ?5 END"));
  upsert.BindText(1, worker_id)
      .BindText(2, status)
      .Bind(3, MsToSeconds(now_ms))
      .BindText(4, hostname)
      .BindText(5, instance_id);
  SKS_RETURN_IF_ERROR(upsert.Run());
  effects.workers_changed = true;
  return absl::OkStatus();
}

absl::StatusOr<v1::HeartbeatResponse> TaskWriter::Heartbeat(const v1::HeartbeatRequest& request,
                                                            int64_t now_ms, TxnEffects& effects) {
  v1::HeartbeatResponse response;
  const int64_t deadline_ms = now_ms + int64_t{options_.lease_seconds} * 1000;
  response.set_lease_deadline_unix_ms(deadline_ms);
  response.set_heartbeat_interval_seconds(options_.heartbeat_interval_seconds());
  response.set_lease_seconds(options_.lease_seconds);
  SKS_RETURN_IF_ERROR(
      EndEarlierInstance(request.worker_id(), request.instance_id(), now_ms, effects));

  int current = 0;
  // A lease named twice is answered once.
  absl::flat_hash_set<std::string_view> answered;
  for (const v1::HeldLease& held : request.leases()) {
    if (!answered.insert(held.task_id()).second) continue;
    LeaseRow lease;
    SKS_ASSIGN_OR_RETURN(const bool found, LoadLease(held.task_id(), &lease));
    // A lease is extended only for the worker it was granted to: a fencing
    // token seen by another worker (or guessed) keeps nothing alive.
    const bool ours = found && lease.fencing_token == held.fencing_token() &&
                      lease.worker_id == request.worker_id();
    if (ours && lease.status == v1::TASK_STATUS_IN_PROGRESS && request.stopping()) {
      // The worker exits without finishing it: no one else will.
      SKS_RETURN_IF_ERROR(ExpireLease(
          lease,
          absl::StrCat("worker '", request.worker_id(),
                       "' stopped before it finished the task (its drain ran out of time)"),
          now_ms, effects));
    } else if (ours && lease.status == v1::TASK_STATUS_IN_PROGRESS) {
      SKS_ASSIGN_OR_RETURN(
          Statement extend,
          db_.Prepare("UPDATE OR FAIL tasks SET lease_deadline_ms = ?2 WHERE task_id = ?1"));
      extend.Bind(1, lease.task_id).Bind(2, deadline_ms);
      SKS_RETURN_IF_ERROR(extend.Run());
      ++current;
    } else if (ours && lease.status == v1::TASK_STATUS_CANCELLED) {
      response.add_cancelled_task_ids(held.task_id());
    } else {
      response.add_lost_task_ids(held.task_id());
    }
  }
  if (request.stopping() && LeasesHeld(request.worker_id()) > 0) {
    // Leases it did not name: the answer of a claim it cancelled as it
    // stopped can have leased tasks after the cancel left the worker and
    // before it reached us. It never saw them and never will.
    SKS_RETURN_IF_ERROR(EndLeasesOf(request.worker_id(),
                                    "stopped without having received it: the answer of a claim "
                                    "it cancelled as it stopped",
                                    now_ms, effects)
                            .status());
  }

  const char* status = request.stopping()   ? "stopped"
                       : request.draining() ? "draining"
                       : current > 0        ? "active"
                                            : "idle";
  SKS_ASSIGN_OR_RETURN(
      Statement upsert,
      db_.Prepare("INSERT OR FAIL INTO workers (worker_id, status, last_heartbeat, created_at, hostname, "
                  "concurrency, version, instance_id) VALUES (?1, ?2, ?3, ?3, ?4, ?5, ?6, ?7) "
                  "ON CONFLICT (worker_id) DO UPDATE SET status = ?2, last_heartbeat = ?3, "
                  "hostname = ?4, concurrency = ?5, version = ?6, "
                  "instance_id = CASE WHEN ?7 = '' THEN workers.instance_id ELSE ?7 END"));
  upsert.BindText(1, request.worker_id())
      .BindText(2, status)
      .Bind(3, MsToSeconds(now_ms))
      .BindText(4, request.hostname())
      .Bind(5, request.concurrency())
      .BindText(6, request.version())
      .BindText(7, request.instance_id());
  SKS_RETURN_IF_ERROR(upsert.Run());
  effects.workers_changed = true;
  return response;
}

absl::StatusOr<v1::TaskInfo> TaskWriter::Cancel(const v1::CancelTaskRequest& request,
                                                int64_t now_ms, TxnEffects& effects) {
  LeaseRow lease;
  SKS_ASSIGN_OR_RETURN(const bool found, LoadLease(request.task_id(), &lease));
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("no task with id ", QuotedForMessage(request.task_id())));
  }
  if (lease.status != v1::TASK_STATUS_QUEUED && lease.status != v1::TASK_STATUS_IN_PROGRESS) {
    return absl::FailedPreconditionError(
        absl::StrCat("task ", lease.task_id, " is already ", TaskStatusText(lease.status),
                     "; only queued or running tasks can be cancelled"));
  }
  const std::string reason = request.reason().empty()
                                 ? std::string("cancelled")
                                 : absl::StrCat("cancelled: ", request.reason());
  if (lease.status == v1::TASK_STATUS_IN_PROGRESS) {
    SKS_RETURN_IF_ERROR(
        EndAttempt(lease, v1::ATTEMPT_OUTCOME_CANCELLED, reason, now_ms));
    --effects.worker_tally[lease.worker_id].leases;
  }
  SKS_ASSIGN_OR_RETURN(Statement cancel,
                       db_.Prepare("UPDATE OR FAIL tasks SET status = 'cancelled', completed_at = ?2, "
                                   "lease_deadline_ms = NULL, last_error = ?3 WHERE task_id = ?1"));
  cancel.Bind(1, lease.task_id).Bind(2, MsToSeconds(now_ms)).BindText(3, reason);
  SKS_RETURN_IF_ERROR(cancel.Run());
  effects.Move(lease.status, v1::TASK_STATUS_CANCELLED);
  effects.events.Add(TaskEvent::kCancelled, TaskTypeFromText(lease.task_type));
  spdlog::debug("task {} cancelled (was {})", lease.task_id, TaskStatusText(lease.status));
  SKS_ASSIGN_OR_RETURN(std::optional<v1::TaskInfo> info, LoadTaskInfo(db_, lease.task_id));
  if (!info) return absl::InternalError("cancelled task vanished inside its transaction");
  return *std::move(info);
}

absl::Status TaskWriter::RequeueForRetry(int64_t task_id, v1::TaskStatus from,
                                         v1::TaskType type, TxnEffects& effects) {
  SKS_ASSIGN_OR_RETURN(
      Statement requeue,
      db_.Prepare("UPDATE OR FAIL tasks SET status = 'queued', retry_base = attempts, worker_id = NULL, "
                  "completed_at = NULL, not_before_ms = 0, lease_deadline_ms = NULL "
                  "WHERE task_id = ?1"));
  requeue.Bind(1, task_id);
  SKS_RETURN_IF_ERROR(requeue.Run());
  SKS_ASSIGN_OR_RETURN(Statement drop, db_.Prepare("DELETE FROM results WHERE task_id = ?1"));
  drop.Bind(1, task_id);
  SKS_RETURN_IF_ERROR(drop.Run());
  effects.Move(from, v1::TASK_STATUS_QUEUED);
  effects.events.Add(TaskEvent::kRetried, type);
  spdlog::debug("task {} put back in the queue (was {})", task_id, TaskStatusText(from));
  return absl::OkStatus();
}

absl::StatusOr<v1::RetryTaskResponse> TaskWriter::Retry(const v1::RetryTaskRequest& request,
                                                        int64_t now_ms, TxnEffects& effects) {
  v1::RetryTaskResponse response;
  if (request.all_failed()) {
    std::vector<std::pair<int64_t, v1::TaskType>> ids;
    SKS_ASSIGN_OR_RETURN(Statement select,
                         db_.Prepare("SELECT task_id, task_type FROM tasks WHERE status = 'failed' "
                                     "ORDER BY task_id"));
    while (true) {
      SKS_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      ids.emplace_back(select.ColumnInt(0), TaskTypeFromText(select.ColumnText(1)));
    }
    for (const auto& [id, type] : ids) {
      SKS_RETURN_IF_ERROR(RequeueForRetry(id, v1::TASK_STATUS_FAILED, type, effects));
      if (response.task_ids_size() < kMaxRetriedIdsListed) response.add_task_ids(absl::StrCat(id));
    }
    response.set_retried_count(static_cast<int64_t>(ids.size()));
    return response;
  } else {
    LeaseRow lease;
    SKS_ASSIGN_OR_RETURN(const bool found, LoadLease(request.task_id(), &lease));
    if (!found) {
      return absl::NotFoundError(
          absl::StrCat("no task with id ", QuotedForMessage(request.task_id())));
    }
    if (lease.status != v1::TASK_STATUS_FAILED && lease.status != v1::TASK_STATUS_CANCELLED) {
      return absl::FailedPreconditionError(
          absl::StrCat("task ", lease.task_id, " is ", TaskStatusText(lease.status),
                       "; only failed or cancelled tasks can be retried"));
    }
    SKS_RETURN_IF_ERROR(RequeueForRetry(lease.task_id, lease.status,
                                        TaskTypeFromText(lease.task_type), effects));
    response.add_task_ids(absl::StrCat(lease.task_id));
    response.set_retried_count(1);
  }
  return response;
}

absl::Status TaskWriter::ExpireLease(const LeaseRow& lease, const std::string& error,
                                     int64_t now_ms, TxnEffects& effects) {
  effects.events.Add(TaskEvent::kLeaseExpired, TaskTypeFromText(lease.task_type));
  SKS_RETURN_IF_ERROR(EndAttempt(lease, v1::ATTEMPT_OUTCOME_LEASE_EXPIRED, error, now_ms));
  --effects.worker_tally[lease.worker_id].leases;
  nlohmann::json metrics = {{"duration_seconds", 0.0},
                            {"worker_id", lease.worker_id},
                            {"task_type", lease.task_type},
                            {"attempt", lease.attempts}};
  SKS_ASSIGN_OR_RETURN(
      v1::TaskStatus status,
      RequeueOrFail(lease, /*retryable=*/true, error,
                    metrics.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                    now_ms, effects));
  effects.after_commit.push_back([task_id = lease.task_id, worker_id = lease.worker_id,
                                  attempt = lease.attempts, error, status] {
    logging::LogFields fields(
        {{"task_id", absl::StrCat(task_id)}, {"worker_id", worker_id}, {"attempt", attempt}});
    spdlog::info("task {}: {}; now {}", task_id, ForLog(error), TaskStatusText(status));
  });
  return absl::OkStatus();
}

absl::Status TaskWriter::EndUndeliveredLeases(absl::Span<const GrantedLease> leases, int64_t now_ms,
                                              TxnEffects& effects) {
  for (const GrantedLease& granted : leases) {
    LeaseRow lease;
    SKS_ASSIGN_OR_RETURN(const bool found, LoadLease(granted.task_id, &lease));
    if (!found || lease.status != v1::TASK_STATUS_IN_PROGRESS ||
        lease.fencing_token != granted.fencing_token) {
      continue;
    }
    SKS_RETURN_IF_ERROR(ExpireLease(
        lease,
        absl::StrCat("the ClaimTask answer that leased it to worker '", lease.worker_id,
                     "' did not reach the worker (the call was cancelled as it was sent)"),
        now_ms, effects));
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> TaskWriter::EndLeasesOf(const std::string& worker_id,
                                               const std::string& why, int64_t now_ms,
                                               TxnEffects& effects) {
  std::vector<int64_t> held;
  {
    SKS_ASSIGN_OR_RETURN(Statement select,
                         db_.Prepare("SELECT task_id FROM tasks INDEXED BY tasks_lease_deadline "
                                     "WHERE status = 'in_progress' AND worker_id = ?1"));
    select.BindText(1, worker_id);
    while (true) {
      SKS_ASSIGN_OR_RETURN(const bool row, select.Step());
      if (!row) break;
      held.push_back(select.ColumnInt(0));
    }
  }
  for (int64_t task_id : held) {
    LeaseRow lease;
    SKS_ASSIGN_OR_RETURN(const bool found, LoadLease(task_id, &lease));
    if (!found) continue;
    SKS_RETURN_IF_ERROR(ExpireLease(lease,
                                    absl::StrCat("lease ended on attempt ", lease.attempts,
                                                 " (worker '", worker_id, "' ", why, ")"),
                                    now_ms, effects));
  }
  return held.size();
}

absl::Status TaskWriter::EndEarlierInstance(const std::string& worker_id,
                                            const std::string& instance_id, int64_t now_ms,
                                            TxnEffects& effects) {
  if (instance_id.empty()) return absl::OkStatus();  // a client that does not say
  std::string previous;
  {
    SKS_ASSIGN_OR_RETURN(Statement select,
                         db_.Prepare("SELECT instance_id FROM workers WHERE worker_id = ?1"));
    select.BindText(1, worker_id);
    SKS_ASSIGN_OR_RETURN(const bool found, select.Step());
    if (!found) return absl::OkStatus();  // a worker never seen: nothing it could hold
    previous = select.ColumnText(0);
  }
  // Empty: its earlier requests did not say (or came before schema 6).
  if (previous.empty() || previous == instance_id) return absl::OkStatus();

  // Every lease of worker_id now is its earlier run's: this run's first
  // request is being handled, and a grant to it comes after this.
  SKS_ASSIGN_OR_RETURN(
      const size_t count,
      EndLeasesOf(worker_id,
                  absl::StrCat("restarted: its run '", previous, "' was replaced by '",
                               instance_id, "'"),
                  now_ms, effects));
  if (count == 0) return absl::OkStatus();  // a clean restart: nothing was left behind
  effects.after_commit.push_back([worker_id, previous, instance_id, count] {
    // Two live processes sharing a worker_id take turns here, each ending
    // the other's leases: worth a warning, and it says so.
    spdlog::warn("worker {} restarted (run {} replaced by {}): {} lease(s) of the earlier run "
                 "ended at once; if this repeats, two workers share this --worker-id",
                 ForLog(worker_id), ForLog(previous), ForLog(instance_id), count);
  });
  return absl::OkStatus();
}

absl::Status TaskWriter::Reap(int64_t now_ms, TxnEffects& effects) {
  std::vector<int64_t> expired;
  {
    SKS_ASSIGN_OR_RETURN(
        Statement select,
        db_.Prepare("SELECT task_id FROM tasks INDEXED BY tasks_lease_deadline "
                    "WHERE status = 'in_progress' "
                    "AND lease_deadline_ms < ?1 ORDER BY lease_deadline_ms LIMIT 1000"));
    select.Bind(1, now_ms);
    while (true) {
      SKS_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      expired.push_back(select.ColumnInt(0));
    }
  }
  // Whether each holder still heartbeats, which says why its lease ran out.
  std::unordered_map<std::string, bool> heartbeating;
  const double recent =
      MsToSeconds(now_ms - int64_t{2} * options_.heartbeat_interval_seconds() * 1000);
  for (int64_t task_id : expired) {
    LeaseRow lease;
    SKS_ASSIGN_OR_RETURN(bool found, LoadLease(task_id, &lease));
    if (!found) continue;
    auto [it, inserted] = heartbeating.try_emplace(lease.worker_id, false);
    if (inserted) {
      SKS_ASSIGN_OR_RETURN(
          Statement select,
          db_.Prepare("SELECT 1 FROM workers WHERE worker_id = ?1 AND last_heartbeat >= ?2"));
      select.BindText(1, lease.worker_id).Bind(2, recent);
      SKS_ASSIGN_OR_RETURN(it->second, select.Step());
    }
    SKS_RETURN_IF_ERROR(ExpireLease(
        lease,
        absl::StrCat("lease expired on attempt ", lease.attempts, " (worker '", lease.worker_id,
                     it->second ? "' heartbeats but did not name this lease: it never received "
                                  "the task, or lost track of it)"
                                : "' stopped heartbeating)"),
        now_ms, effects));
  }

  // Lost workers: three heartbeat intervals without a heartbeat.
  const double cutoff =
      MsToSeconds(now_ms - int64_t{3} * options_.heartbeat_interval_seconds() * 1000);
  std::vector<std::string> lost;
  {
    SKS_ASSIGN_OR_RETURN(Statement select,
                         db_.Prepare("SELECT worker_id FROM workers WHERE status != 'lost' "
                                     "AND status != 'stopped' AND last_heartbeat < ?1"));
    select.Bind(1, cutoff);
    while (true) {
      SKS_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      lost.push_back(select.ColumnText(0));
    }
  }
  for (const std::string& worker_id : lost) {
    SKS_ASSIGN_OR_RETURN(Statement mark,
                         db_.Prepare("UPDATE OR FAIL workers SET status = 'lost' WHERE worker_id = ?1"));
    mark.BindText(1, worker_id);
    SKS_RETURN_IF_ERROR(mark.Run());
    effects.workers_changed = true;
    effects.after_commit.push_back([worker_id, seconds = 3 * options_.heartbeat_interval_seconds()] {
      spdlog::info("worker {} lost: no heartbeat for {} s", ForLog(worker_id), seconds);
    });
  }
  return absl::OkStatus();
}

}  // namespace skillstore::server
