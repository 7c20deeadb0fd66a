// skillctl cancel ID | retry ID|--failed: changing the fate of tasks.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cli/client.h"
#include "cli/command.h"
#include "cli/json_view.h"
#include "cli/task_names.h"

namespace skillstore::cli {
namespace {

struct CancelOptions {
  std::vector<std::string> ids;
  std::string reason;
};

// The ids of one command that the server refused one by one (no such task,
// a task in the wrong state): each is reported and the others still go
// ahead. Any other error (the server unreachable, the token refused) ends
// the command at once, since every later id would meet it too.
class PerTaskFailures {
 public:
  // True when `status` concerns this task only (it was recorded).
  bool Record(const std::string& id, const absl::Status& status) {
    if (!absl::IsNotFound(status) && !absl::IsFailedPrecondition(status) &&
        !absl::IsInvalidArgument(status)) {
      return false;
    }
    std::cerr << "skillctl: task " << id << ": " << status.message() << "\n";
    if (first_.ok()) first_ = status;
    ++count_;
    return true;
  }
  // OK, or the first failure's code with how many ids failed.
  absl::Status Summary(size_t ids, absl::string_view verb) const {
    if (count_ == 0) return absl::OkStatus();
    return absl::Status(first_.code(), absl::StrCat(count_, " of ", ids, " tasks were not ", verb));
  }

 private:
  absl::Status first_;
  size_t count_ = 0;
};

absl::Status RunCancel(const GlobalOptions& global, const CancelOptions& options) {
  Client client(global);
  Json out;
  out["tasks"] = Json::array();
  PerTaskFailures failures;
  for (const std::string& id : options.ids) {
    v1::CancelTaskRequest request;
    request.set_task_id(id);
    request.set_reason(options.reason.empty() ? "cancelled with skillctl" : options.reason);
    v1::CancelTaskResponse response;
    absl::Status status = client.Call(&v1::SkillStore::Stub::CancelTask, request, &response,
                                      absl::StrCat("cancel task ", id));
    if (!status.ok()) {
      if (failures.Record(id, status)) continue;
      return status;
    }
    if (global.json()) {
      out["tasks"].push_back(ToJson(response.task()));
    } else {
      std::cout << "task " << id << ": " << TaskStatusName(response.task().status()) << "\n";
    }
  }
  if (global.json()) std::cout << Dump(out);
  return failures.Summary(options.ids.size(), "cancelled");
}

struct RetryOptions {
  std::vector<std::string> ids;
  bool all_failed = false;
};

absl::Status RunRetry(const GlobalOptions& global, const RetryOptions& options) {
  if (options.all_failed == !options.ids.empty()) {
    return absl::InvalidArgumentError("retry: give task ids or --failed (not both)");
  }
  Client client(global);
  std::vector<std::string> retried;  // the ids the server listed
  int64_t retried_count = 0;         // all of them
  auto retry = [&](v1::RetryTaskRequest request, const std::string& what) {
    v1::RetryTaskResponse response;
    absl::Status status = client.Call(&v1::SkillStore::Stub::RetryTask, request, &response, what);
    if (status.ok()) {
      retried.insert(retried.end(), response.task_ids().begin(), response.task_ids().end());
      retried_count += response.retried_count();
    }
    return status;
  };
  if (options.all_failed) {
    v1::RetryTaskRequest request;
    request.set_all_failed(true);
    absl::Status status = retry(request, "retry failed tasks");
    if (!status.ok()) return status;
  }
  PerTaskFailures failures;
  for (const std::string& id : options.ids) {
    v1::RetryTaskRequest request;
    request.set_task_id(id);
    absl::Status status = retry(request, absl::StrCat("retry task ", id));
    if (!status.ok() && !failures.Record(id, status)) return status;
  }
  if (global.json()) {
    Json out;
    out["retried"] = retried_count;
    out["task_ids"] = retried;  // the first 10,000 of --failed
    std::cout << Dump(out);
  } else {
    std::cout << "re-queued " << retried_count << " task" << (retried_count == 1 ? "" : "s")
              << "\n";
  }
  return failures.Summary(options.ids.size(), "re-queued");
}

}  // namespace

void AddAdminCommands(CLI::App& app, const GlobalOptions& global, CommandRunner* selected) {
  auto cancel_options = std::make_shared<CancelOptions>();
  CLI::App* cancel = app.add_subcommand(
      "cancel",
      "Cancel queued or running tasks. A running task's worker is told at its next heartbeat "
      "and its result is then refused.");
  cancel->add_option("ids", cancel_options->ids, "Task ids")->required();
  cancel->add_option("--reason", cancel_options->reason, "Recorded with the task");
  cancel->callback([&global, selected, cancel_options] {
    *selected = [&global, cancel_options] { return RunCancel(global, *cancel_options); };
  });

  auto retry_options = std::make_shared<RetryOptions>();
  CLI::App* retry = app.add_subcommand(
      "retry", "Put failed (or cancelled) tasks back in the queue with fresh attempts.");
  retry->add_option("ids", retry_options->ids, "Task ids");
  retry->add_flag("--failed", retry_options->all_failed, "Every failed task");
  retry->callback([&global, selected, retry_options] {
    *selected = [&global, retry_options] { return RunRetry(global, *retry_options); };
  });
}

}  // namespace skillstore::cli
