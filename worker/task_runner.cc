#include "task_runner.h"

#include <exception>
#include <new>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/task_executor.h"
#include "common/utf8.h"

namespace skillstore::worker {
namespace {

using skillstore::v1::ClaimedTask;
using skillstore::v1::TaskType;

std::optional<TaskKind> KindOf(TaskType type) {
  switch (type) {
    case skillstore::v1::TASK_TYPE_PARSE:
      return TaskKind::kParse;
    case skillstore::v1::TASK_TYPE_VALIDATE:
      return TaskKind::kValidate;
    case skillstore::v1::TASK_TYPE_ANALYZE:
      return TaskKind::kAnalyze;
    default:
      return std::nullopt;
  }
}

void Fail(TaskRunner::Result* result, std::string error, bool retryable) {
  result->set_success(false);
  result->set_retryable(retryable);
  result->set_error(ToValidUtf8(error));
  result->clear_result_json();
}

}  // namespace

std::string TaskTypeName(TaskType type) {
  switch (type) {
    case skillstore::v1::TASK_TYPE_PARSE:
      return "parse";
    case skillstore::v1::TASK_TYPE_VALIDATE:
      return "validate";
    case skillstore::v1::TASK_TYPE_ANALYZE:
      return "analyze";
    default:
      return "unspecified";
  }
}

TaskRunner::Result TaskRunner::Start(const ClaimedTask& task) const {
  Result result;
  result.set_task_id(task.task_id());
  result.set_fencing_token(task.lease().fencing_token());
  result.set_worker_id(options_.worker_id);
  result.mutable_metrics()->set_worker_id(options_.worker_id);
  result.mutable_metrics()->set_task_type(TaskTypeName(task.type()));
  return result;
}

TaskRunner::Result TaskRunner::Run(const ClaimedTask& task) const {
  const absl::Time start = absl::Now();
  Result result = Start(task);
  auto finish = [&]() -> Result {
    result.mutable_metrics()->set_duration_seconds(absl::ToDoubleSeconds(absl::Now() - start));
    result.mutable_metrics()->set_bytes_out(static_cast<int64_t>(result.result_json().size()));
    return std::move(result);
  };
  try {
    const std::optional<TaskKind> kind = KindOf(task.type());
    if (!kind) {
      Fail(&result, absl::StrCat("unknown task type ", static_cast<int>(task.type())), false);
      return finish();
    }

    // Content travels inline; only a task sent without it is read from disk.
    // Empty content is content (an empty file): the engine says so.
    std::string from_disk;
    std::string_view content = task.content();
    if (!task.has_content()) {
      if (!options_.skills_root) {
        Fail(&result,
             absl::StrCat("task has no content and worker ", options_.worker_id,
                          " has no --skills-root to read ", task.skill_path(), " from"),
             /*retryable=*/true);  // a worker with the files may take it
        return finish();
      }
      absl::StatusOr<std::string> read =
          options_.skills_root->Read(task.skill_path(), options_.max_content_bytes);
      if (!read.ok()) {
        // A missing file may exist on another worker's disk; an escape
        // attempt or a bad file will not get better.
        const bool retryable = absl::IsNotFound(read.status());
        Fail(&result, std::string(read.status().message()), retryable);
        return finish();
      }
      from_disk = std::move(*read);
      content = from_disk;
    }
    result.mutable_metrics()->set_bytes_in(static_cast<int64_t>(content.size()));

    if (options_.debug_delay > absl::ZeroDuration()) absl::SleepFor(options_.debug_delay);

    absl::StatusOr<std::string> output =
        RunTask(*kind, content, task.skill_path(), JsonLayout::kCompact);
    if (output.ok()) {
      if (output->size() > options_.max_result_bytes) {
        Fail(&result,
             absl::StrCat("the result is ", output->size(), " bytes, over the worker's limit of ",
                          options_.max_result_bytes, " bytes per result message"),
             false);
        return finish();
      }
      if (!IsValidUtf8(*output)) {
        Fail(&result, "the skill engine produced a result that is not valid UTF-8", false);
        return finish();
      }
      result.set_success(true);
      result.set_result_json(std::move(*output));
      return finish();
    }
    const absl::Status& status = output.status();
    const bool retryable = !absl::IsInvalidArgument(status) && !absl::IsResourceExhausted(status);
    std::string error(status.message());
    if (!absl::IsInvalidArgument(status)) {
      error = absl::StrCat(absl::StatusCodeToString(status.code()), ": ", error);
    }
    Fail(&result, std::move(error), retryable);
    return finish();
  } catch (const std::bad_alloc&) {
    Fail(&result, "the skill engine ran out of memory", /*retryable=*/true);
  } catch (const std::exception& e) {
    Fail(&result, absl::StrCat("the skill engine threw: ", e.what()), /*retryable=*/true);
  } catch (...) {
    Fail(&result, "the skill engine threw an unknown exception", /*retryable=*/true);
  }
  return finish();
}

TaskRunner::Result TaskRunner::TimeoutResult(const ClaimedTask& task, absl::Duration timeout,
                                             absl::Duration ran_for) const {
  Result result = Start(task);
  Fail(&result,
       absl::StrCat("timeout: the task ran longer than its timeout of ",
                    absl::FormatDuration(timeout), " on worker ", options_.worker_id),
       /*retryable=*/true);
  result.mutable_metrics()->set_duration_seconds(absl::ToDoubleSeconds(ran_for));
  result.mutable_metrics()->set_bytes_in(static_cast<int64_t>(task.content().size()));
  return result;
}

}  // namespace skillstore::worker
