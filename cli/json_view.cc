#include "cli/json_view.h"

#include "cli/task_names.h"

namespace skillstore::cli {
namespace {

Json MetadataJson(const google::protobuf::Map<std::string, std::string>& metadata) {
  // Sorted, so the output does not depend on hash order.
  std::map<std::string, std::string> sorted(metadata.begin(), metadata.end());
  Json out = Json::object();
  for (const auto& [key, value] : sorted) out[key] = value;
  return out;
}

}  // namespace

Json ToJson(const v1::Progress& p) {
  Json j;
  j["total"] = p.total();
  j["queued"] = p.queued();
  j["in_progress"] = p.in_progress();
  j["completed"] = p.completed();
  j["failed"] = p.failed();
  j["cancelled"] = p.cancelled();
  j["active_workers"] = p.active_workers();
  j["tasks_per_second"] = p.tasks_per_second();
  j["eta_seconds"] = p.eta_seconds();
  j["timestamp_unix_ms"] = p.timestamp_unix_ms();
  return j;
}

Json ToJson(const v1::TaskInfo& t) {
  Json j;
  j["task_id"] = t.task_id();
  j["type"] = TaskTypeName(t.type());
  j["skill_path"] = t.skill_path();
  j["status"] = TaskStatusName(t.status());
  j["priority"] = t.priority();
  j["attempts"] = t.attempts();
  j["max_attempts"] = t.max_attempts();
  j["attempts_before_retry"] = t.attempts_before_retry();
  j["timeout_seconds"] = t.timeout_seconds();
  j["worker_id"] = t.worker_id();
  j["idempotency_key"] = t.idempotency_key();
  j["metadata"] = MetadataJson(t.metadata());
  j["last_error"] = t.last_error();
  j["content_bytes"] = t.content_bytes();
  j["created_at_unix_ms"] = t.created_at_unix_ms();
  j["started_at_unix_ms"] = t.started_at_unix_ms();
  j["completed_at_unix_ms"] = t.completed_at_unix_ms();
  j["not_before_unix_ms"] = t.not_before_unix_ms();
  j["lease_deadline_unix_ms"] = t.lease_deadline_unix_ms();
  return j;
}

Json ToJson(const v1::Attempt& a) {
  Json j;
  j["attempt"] = a.attempt();
  j["worker_id"] = a.worker_id();
  j["fencing_token"] = a.fencing_token();
  j["started_at_unix_ms"] = a.started_at_unix_ms();
  j["ended_at_unix_ms"] = a.ended_at_unix_ms();
  j["outcome"] = AttemptOutcomeName(a.outcome());
  j["error"] = a.error();
  return j;
}

Json ToJson(const v1::WorkerInfo& w) {
  Json j;
  j["worker_id"] = w.worker_id();
  j["hostname"] = w.hostname();
  j["status"] = WorkerStatusName(w.status());
  j["tasks_completed"] = w.tasks_completed();
  j["tasks_failed"] = w.tasks_failed();
  j["last_heartbeat_unix_ms"] = w.last_heartbeat_unix_ms();
  j["created_at_unix_ms"] = w.created_at_unix_ms();
  j["current_task_ids"] = Json::array();
  for (const std::string& id : w.current_task_ids()) j["current_task_ids"].push_back(id);
  j["current_task_count"] = w.current_task_count();
  j["concurrency"] = w.concurrency();
  j["version"] = w.version();
  return j;
}

Json ToJson(const v1::ResultMetrics& m) {
  Json j;
  j["duration_seconds"] = m.duration_seconds();
  j["worker_id"] = m.worker_id();
  j["task_type"] = m.task_type();
  j["bytes_in"] = m.bytes_in();
  j["bytes_out"] = m.bytes_out();
  return j;
}

Json ToJson(const v1::GetResultResponse& r) {
  Json j;
  j["task_id"] = r.task_id();
  j["status"] = TaskStatusName(r.status());
  j["type"] = TaskTypeName(r.type());
  j["skill_path"] = r.skill_path();
  j["result"] = r.result_json().empty() ? Json(nullptr) : EmbedJson(r.result_json());
  j["error"] = r.error();
  j["metrics"] = ToJson(r.metrics());
  j["created_at_unix_ms"] = r.created_at_unix_ms();
  return j;
}

Json EmbedJson(const std::string& text) {
  Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Json(text);
  return parsed;
}

std::string IndentedDocument(const std::string& text) {
  Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return !text.empty() && text.back() == '\n' ? text : text + "\n";
  }
  return Dump(parsed);
}

std::string Dump(const Json& json) {
  // `replace` keeps invalid UTF-8 from a skill path from throwing mid-output.
  return json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace skillstore::cli
