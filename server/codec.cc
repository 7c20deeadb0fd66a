#include "codec.h"

#include <charconv>
#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/utf8.h"
#include "nlohmann/json.hpp"

namespace skillstore::server {

std::string TaskTypeText(v1::TaskType type) {
  switch (type) {
    case v1::TASK_TYPE_PARSE:
      return "parse";
    case v1::TASK_TYPE_VALIDATE:
      return "validate";
    case v1::TASK_TYPE_ANALYZE:
      return "analyze";
    default:
      return "";
  }
}

v1::TaskType TaskTypeFromText(std::string_view text) {
  if (text == "parse") return v1::TASK_TYPE_PARSE;
  if (text == "validate") return v1::TASK_TYPE_VALIDATE;
  if (text == "analyze") return v1::TASK_TYPE_ANALYZE;
  return v1::TASK_TYPE_UNSPECIFIED;
}

std::string TaskStatusText(v1::TaskStatus status) {
  switch (status) {
    case v1::TASK_STATUS_QUEUED:
      return "queued";
    case v1::TASK_STATUS_IN_PROGRESS:
      return "in_progress";
    case v1::TASK_STATUS_COMPLETED:
      return "completed";
    case v1::TASK_STATUS_FAILED:
      return "failed";
    case v1::TASK_STATUS_CANCELLED:
      return "cancelled";
    default:
      return "";
  }
}

v1::TaskStatus TaskStatusFromText(std::string_view text) {
  if (text == "queued") return v1::TASK_STATUS_QUEUED;
  if (text == "in_progress") return v1::TASK_STATUS_IN_PROGRESS;
  if (text == "completed") return v1::TASK_STATUS_COMPLETED;
  if (text == "failed") return v1::TASK_STATUS_FAILED;
  if (text == "cancelled") return v1::TASK_STATUS_CANCELLED;
  return v1::TASK_STATUS_UNSPECIFIED;
}

std::string AttemptOutcomeText(v1::AttemptOutcome outcome) {
  switch (outcome) {
    case v1::ATTEMPT_OUTCOME_RUNNING:
      return "running";
    case v1::ATTEMPT_OUTCOME_SUCCEEDED:
      return "succeeded";
    case v1::ATTEMPT_OUTCOME_FAILED:
      return "failed";
    case v1::ATTEMPT_OUTCOME_LEASE_EXPIRED:
      return "lease_expired";
    case v1::ATTEMPT_OUTCOME_CANCELLED:
      return "cancelled";
    default:
      return "";
  }
}

v1::AttemptOutcome AttemptOutcomeFromText(std::string_view text) {
  if (text == "running") return v1::ATTEMPT_OUTCOME_RUNNING;
  if (text == "succeeded") return v1::ATTEMPT_OUTCOME_SUCCEEDED;
  if (text == "failed") return v1::ATTEMPT_OUTCOME_FAILED;
  if (text == "lease_expired") return v1::ATTEMPT_OUTCOME_LEASE_EXPIRED;
  if (text == "cancelled") return v1::ATTEMPT_OUTCOME_CANCELLED;
  return v1::ATTEMPT_OUTCOME_UNSPECIFIED;
}

std::string WorkerStatusText(v1::WorkerStatus status) {
  switch (status) {
    case v1::WORKER_STATUS_ACTIVE:
      return "active";
    case v1::WORKER_STATUS_IDLE:
      return "idle";
    case v1::WORKER_STATUS_LOST:
      return "lost";
    case v1::WORKER_STATUS_DRAINING:
      return "draining";
    case v1::WORKER_STATUS_STOPPED:
      return "stopped";
    default:
      return "";
  }
}

v1::WorkerStatus WorkerStatusFromText(std::string_view text) {
  if (text == "active") return v1::WORKER_STATUS_ACTIVE;
  if (text == "idle") return v1::WORKER_STATUS_IDLE;
  if (text == "lost") return v1::WORKER_STATUS_LOST;
  if (text == "draining") return v1::WORKER_STATUS_DRAINING;
  if (text == "stopped") return v1::WORKER_STATUS_STOPPED;
  return v1::WORKER_STATUS_UNSPECIFIED;
}

std::string MetadataToJson(const google::protobuf::Map<std::string, std::string>& metadata) {
  // Most tasks carry none: no JSON tree to build and dump per task.
  if (metadata.empty()) return "{}";
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [key, value] : metadata) object[key] = value;
  // Metadata comes from clients: replace invalid UTF-8 rather than throw.
  return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void MetadataFromJson(std::string_view json, google::protobuf::Map<std::string, std::string>* out) {
  if (json == "{}") return;  // what MetadataToJson writes for none: no parser per claimed task
  nlohmann::json object = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) return;
  for (const auto& [key, value] : object.items()) {
    if (value.is_string()) (*out)[key] = value.get<std::string>();
  }
}

std::optional<int64_t> ParseTaskId(std::string_view text) {
  int64_t id = 0;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, id);
  if (text.empty() || text[0] == '0' || error != std::errc() || ptr != end || id <= 0) {
    return std::nullopt;
  }
  return id;
}

absl::StatusOr<int64_t> TaskIdArgument(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("task_id is empty");
  std::optional<int64_t> id = ParseTaskId(text);
  if (!id) {
    return absl::InvalidArgumentError(
        absl::StrCat("task_id ", QuotedForMessage(text),
                     " is not a task id: ids are the decimal numbers Enqueue returns, like '42'"));
  }
  return *id;
}

namespace {

// What follows a value shown cut short.
std::string CutNote(std::string_view text, size_t shown_bytes) {
  return text.size() > shown_bytes ? absl::StrCat("... (", text.size(), " bytes)") : "";
}

}  // namespace

std::string QuotedForMessage(std::string_view text) {
  const std::string_view shown = text.substr(0, 64);
  std::string out = "'";
  for (char c : shown) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      out.push_back(c);
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(byte, absl::kZeroPad2));
    }
  }
  out += '\'';
  return out + CutNote(text, shown.size());
}

std::string ForLog(std::string_view text) {
  const std::string_view shown = text.substr(0, Utf8PrefixLength(text, 512));
  return WithControlsEscaped(shown) + CutNote(text, shown.size());
}

int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t SecondsToMs(double seconds) { return std::llround(seconds * 1000.0); }

}  // namespace skillstore::server
