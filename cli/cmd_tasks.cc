// skillctl tasks | task ID | result ID: looking at individual tasks.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/client.h"
#include "cli/command.h"
#include "cli/json_view.h"
#include "cli/table.h"
#include "cli/task_names.h"
#include "cli/text_format.h"
#include "common/flag_checks.h"

namespace skillstore::cli {
namespace {

// The server's page cap (proto: capped at 1000).
constexpr int kMaxPageSize = 1000;

struct TasksOptions {
  std::string status;
  std::string type;
  std::string worker;
  int limit = 50;
};

absl::Status RunTasks(const GlobalOptions& global, const TasksOptions& options) {
  v1::ListTasksRequest request;
  if (!options.status.empty()) {
    absl::StatusOr<v1::TaskStatus> status = ParseTaskStatus(options.status);
    if (!status.ok()) return status.status();
    request.set_status(*status);
  }
  if (!options.type.empty()) {
    absl::StatusOr<v1::TaskType> type = ParseTaskType(options.type);
    if (!type.ok()) return type.status();
    request.set_type(*type);
  }
  request.set_worker_id(options.worker);

  Client client(global);
  std::vector<v1::TaskInfo> tasks;
  std::string next;
  // limit 0 lists everything, page by page.
  while (options.limit == 0 || static_cast<int>(tasks.size()) < options.limit) {
    const int want = options.limit == 0 ? kMaxPageSize
                                        : std::min(kMaxPageSize, options.limit - int(tasks.size()));
    request.set_page_size(want);
    request.set_page_token(next);
    v1::ListTasksResponse response;
    absl::Status status =
        client.Call(&v1::SkillStore::Stub::ListTasks, request, &response, "list tasks");
    if (!status.ok()) return status;
    for (const v1::TaskInfo& t : response.tasks()) {
      if (options.limit != 0 && static_cast<int>(tasks.size()) >= options.limit) break;
      tasks.push_back(t);
    }
    next = response.next_page_token();
    if (next.empty() || response.tasks_size() == 0) break;
  }

  if (global.json()) {
    Json out;
    out["tasks"] = Json::array();
    for (const auto& t : tasks) out["tasks"].push_back(ToJson(t));
    out["more"] = !next.empty();
    std::cout << Dump(out);
    return absl::OkStatus();
  }
  if (tasks.empty()) {
    std::cout << "no tasks match\n";
    return absl::OkStatus();
  }
  Table table({"ID", "TYPE", "STATUS", "ATTEMPTS", "PRIO", "WORKER", "PATH"});
  table.AlignRight(0).AlignRight(3).AlignRight(4);
  for (const auto& t : tasks) {
    table.AddRow({t.task_id(), TaskTypeName(t.type()), TaskStatusName(t.status()),
                  absl::StrCat(t.attempts() - t.attempts_before_retry(), "/", t.max_attempts()),
                  absl::StrCat(t.priority()), t.worker_id().empty() ? "-" : t.worker_id(),
                  t.skill_path()});
  }
  table.Print(std::cout);
  if (!next.empty()) {
    std::cout << "(more tasks match: raise --limit, or --limit 0 for all)\n";
  }
  return absl::OkStatus();
}

// "2 of 3"; after a retry by hand, "1 of 3 since the last retry (4 in all)":
// RetryTask gives a task max_attempts more (TaskInfo.attempts_before_retry).
std::string AttemptsText(const v1::TaskInfo& t) {
  if (t.attempts_before_retry() == 0) return absl::StrCat(t.attempts(), " of ", t.max_attempts());
  return absl::StrCat(t.attempts() - t.attempts_before_retry(), " of ", t.max_attempts(),
                      " since the last retry (", t.attempts(), " in all)");
}

absl::Status RunShowTask(const GlobalOptions& global, const std::string& id) {
  Client client(global);
  v1::GetTaskRequest request;
  request.set_task_id(id);
  v1::GetTaskResponse response;
  absl::Status status = client.Call(&v1::SkillStore::Stub::GetTask, request, &response,
                                    absl::StrCat("get task ", id));
  if (!status.ok()) return status;
  const v1::TaskInfo& t = response.task();
  if (global.json()) {
    Json out;
    out["task"] = ToJson(t);
    out["attempts"] = Json::array();
    for (const auto& a : response.attempts()) out["attempts"].push_back(ToJson(a));
    out["attempts_omitted"] = response.attempts_omitted();
    std::cout << Dump(out);
    return absl::OkStatus();
  }
  Table fields({"FIELD", "VALUE"});
  fields.AddRow({"id", t.task_id()});
  fields.AddRow({"type", TaskTypeName(t.type())});
  fields.AddRow({"status", TaskStatusName(t.status())});
  fields.AddRow({"skill_path", t.skill_path()});
  fields.AddRow({"content", FormatBytes(t.content_bytes())});
  fields.AddRow({"priority", absl::StrCat(t.priority())});
  fields.AddRow({"attempts", AttemptsText(t)});
  fields.AddRow({"worker", t.worker_id().empty() ? "-" : t.worker_id()});
  fields.AddRow({"created", FormatTimestamp(t.created_at_unix_ms())});
  fields.AddRow({"started", FormatTimestamp(t.started_at_unix_ms())});
  fields.AddRow({"completed", FormatTimestamp(t.completed_at_unix_ms())});
  if (t.not_before_unix_ms() > NowUnixMs()) {
    fields.AddRow({"retry_after", FormatTimestamp(t.not_before_unix_ms())});
  }
  if (t.lease_deadline_unix_ms() > 0 && t.status() == v1::TASK_STATUS_IN_PROGRESS) {
    fields.AddRow({"lease_until", FormatTimestamp(t.lease_deadline_unix_ms())});
  }
  if (!t.idempotency_key().empty()) fields.AddRow({"idempotency_key", t.idempotency_key()});
  std::map<std::string, std::string> metadata(t.metadata().begin(), t.metadata().end());
  for (const auto& [k, v] : metadata) fields.AddRow({absl::StrCat("metadata.", k), v});
  if (!t.last_error().empty()) fields.AddRow({"last_error", t.last_error()});
  fields.Print(std::cout);
  if (response.attempts_size() > 0) {
    std::cout << "\n";
    Table attempts({"ATTEMPT", "WORKER", "STARTED", "DURATION", "OUTCOME", "ERROR"});
    attempts.AlignRight(0).AlignRight(3);
    for (const auto& a : response.attempts()) {
      const double seconds =
          a.ended_at_unix_ms() > 0 ? (a.ended_at_unix_ms() - a.started_at_unix_ms()) / 1000.0 : -1;
      attempts.AddRow({absl::StrCat(a.attempt()), a.worker_id(),
                       FormatTimestamp(a.started_at_unix_ms()), FormatDuration(seconds),
                       AttemptOutcomeName(a.outcome()), a.error()});
    }
    attempts.Print(std::cout);
    if (response.attempts_omitted() > 0) {
      std::cout << "(" << response.attempts_omitted() << " earlier attempt"
                << (response.attempts_omitted() == 1 ? "" : "s") << " not shown)\n";
    }
  }
  return absl::OkStatus();
}

absl::Status RunResult(const GlobalOptions& global, const std::string& id) {
  Client client(global);
  v1::GetResultRequest request;
  request.set_task_id(id);
  v1::GetResultResponse response;
  absl::Status status = client.Call(&v1::SkillStore::Stub::GetResult, request, &response,
                                    absl::StrCat("get result of task ", id));
  if (!status.ok()) return status;
  if (global.json()) {
    std::cout << Dump(ToJson(response));
    return absl::OkStatus();
  }
  // Human mode: the result document alone on stdout (so `> file.json` works),
  // a one-line summary on stderr.
  const auto& m = response.metrics();
  std::cerr << "task " << response.task_id() << " (" << TaskTypeName(response.type()) << ", "
            << ForTerminal(response.skill_path()) << "): " << TaskStatusName(response.status());
  if (!m.worker_id().empty()) {
    std::cerr << " by " << ForTerminal(m.worker_id()) << " in "
              << FormatDuration(m.duration_seconds());
  }
  std::cerr << "\n";
  if (!response.result_json().empty()) {
    std::cout << IndentedDocument(response.result_json());
    return absl::OkStatus();
  }
  if (!response.error().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("task ", id, " has no result; its error: ", response.error()));
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "task ", id, " has no result yet (", TaskStatusName(response.status()),
      "); `skillctl wait` blocks until the queue is done"));
}

}  // namespace

void AddTaskCommands(CLI::App& app, const GlobalOptions& global, CommandRunner* selected) {
  auto tasks_options = std::make_shared<TasksOptions>();
  CLI::App* tasks = app.add_subcommand("tasks", "List tasks, oldest first, with filters.");
  tasks->add_option("--status,-s", tasks_options->status,
                    "queued, in_progress, completed, failed or cancelled");
  tasks->add_option("--type,-t", tasks_options->type, "parse, validate or analyze");
  tasks->add_option("--worker", tasks_options->worker, "Only tasks of this worker id");
  tasks->add_option("--limit,-n", tasks_options->limit, "At most this many (0: all)")
      ->capture_default_str()
      ->check(NonNegativeNumber());
  tasks->callback([&global, selected, tasks_options] {
    *selected = [&global, tasks_options] { return RunTasks(global, *tasks_options); };
  });

  auto task_id = std::make_shared<std::string>();
  CLI::App* task = app.add_subcommand("task", "Show one task and the history of its attempts.");
  task->add_option("id", *task_id, "Task id (from enqueue or tasks)")->required();
  task->callback([&global, selected, task_id] {
    *selected = [&global, task_id] { return RunShowTask(global, *task_id); };
  });

  auto result_id = std::make_shared<std::string>();
  CLI::App* result = app.add_subcommand(
      "result",
      "Print a task's result JSON on stdout (a summary goes to stderr); with -o json, the "
      "result with its status, error and metrics.");
  result->add_option("id", *result_id, "Task id")->required();
  result->callback([&global, selected, result_id] {
    *selected = [&global, result_id] { return RunResult(global, *result_id); };
  });
}

}  // namespace skillstore::cli
