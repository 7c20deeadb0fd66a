// skillctl workers: who is processing tasks.
#include <algorithm>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/client.h"
#include "cli/command.h"
#include "cli/json_view.h"
#include "cli/table.h"
#include "cli/task_names.h"
#include "cli/text_format.h"

namespace skillstore::cli {
namespace {

struct WorkersOptions {
  bool active_only = false;
};

// A worker's leased tasks for the table: a worker may hold hundreds (its
// prefetch), so the first few ids and how many more (`--json` lists the
// first 1000).
std::string CurrentTasks(const v1::WorkerInfo& worker) {
  constexpr int kShown = 8;
  const int64_t count =
      std::max<int64_t>(worker.current_task_count(), worker.current_task_ids_size());
  if (count == 0) return "-";
  const int shown = std::min(kShown, worker.current_task_ids_size());
  std::string text = absl::StrJoin(worker.current_task_ids().begin(),
                                   worker.current_task_ids().begin() + shown, ",");
  if (count > shown) absl::StrAppend(&text, " +", count - shown, " more");
  return text;
}

absl::Status RunWorkers(const GlobalOptions& global, const WorkersOptions& options) {
  Client client(global);
  v1::ListWorkersRequest request;
  request.set_active_only(options.active_only);
  // Every page, into one response.
  v1::ListWorkersResponse response;
  do {
    v1::ListWorkersResponse page;
    absl::Status status =
        client.Call(&v1::SkillStore::Stub::ListWorkers, request, &page, "list workers");
    if (!status.ok()) return status;
    for (v1::WorkerInfo& worker : *page.mutable_workers()) {
      *response.add_workers() = std::move(worker);
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  if (global.json()) {
    Json out;
    out["workers"] = Json::array();
    for (const auto& w : response.workers()) out["workers"].push_back(ToJson(w));
    std::cout << Dump(out);
    return absl::OkStatus();
  }
  if (response.workers_size() == 0) {
    std::cout << "no workers have connected yet (start one: skill-worker --server "
              << global.server << ")\n";
    return absl::OkStatus();
  }
  const int64_t now = NowUnixMs();
  Table table({"WORKER", "HOST", "STATUS", "SLOTS", "DONE", "FAILED", "SEEN", "TASKS"});
  table.AlignRight(3).AlignRight(4).AlignRight(5);
  for (const auto& w : response.workers()) {
    table.AddRow({w.worker_id(), w.hostname(), WorkerStatusName(w.status()),
                  w.concurrency() > 0 ? absl::StrCat(w.concurrency()) : "-",
                  absl::StrCat(w.tasks_completed()), absl::StrCat(w.tasks_failed()),
                  FormatAge(w.last_heartbeat_unix_ms(), now), CurrentTasks(w)});
  }
  table.Print(std::cout);
  return absl::OkStatus();
}

}  // namespace

void AddWorkersCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* selected) {
  auto options = std::make_shared<WorkersOptions>();
  CLI::App* cmd = app.add_subcommand(
      "workers",
      "List workers: status (active, idle, draining, stopped, lost), counts, current tasks.");
  cmd->add_flag("--active", options->active_only, "Leave out lost and stopped workers");
  cmd->callback([&global, selected, options] {
    *selected = [&global, options] { return RunWorkers(global, *options); };
  });
}

}  // namespace skillstore::cli
