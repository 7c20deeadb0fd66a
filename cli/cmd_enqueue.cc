// skillctl enqueue: files and folders -> tasks, sent inline in batches.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/client.h"
#include "cli/command.h"
#include "cli/discovery.h"
#include "cli/idempotency.h"
#include "cli/interrupt.h"
#include "cli/json_view.h"
#include "cli/task_names.h"
#include "cli/text_format.h"
#include "common/duration_flag.h"
#include "common/flag_checks.h"

namespace skillstore::cli {
namespace {

// A batch is sent when it holds this many tasks or this much content. The
// byte bound stays under gRPC's default 4 MiB message limit, so a server with
// default settings accepts every batch; a single larger skill goes alone and
// meets the server's own content limit, which explains itself.
constexpr size_t kBatchTasks = 500;
constexpr size_t kBatchBytes = 3 * 1024 * 1024;

struct EnqueueOptions {
  std::string type = "parse";
  int priority = 0;
  int max_attempts = 0;
  int timeout_seconds = 0;
  bool idempotent = false;
  std::vector<std::string> metadata;  // key=value
  std::vector<std::string> paths;
};

struct Totals {
  int64_t files = 0;
  int64_t enqueued = 0;
  int64_t deduplicated = 0;
  std::vector<std::string> task_ids;
};

// A one-line bar on stderr, only on a terminal.
class EnqueueBar {
 public:
  EnqueueBar(bool enabled, size_t total) : enabled_(enabled), total_(total) {}
  void Show(size_t done) {
    if (!enabled_) return;
    std::cerr << "\r" << Bar(total_ ? double(done) / total_ : 1.0, 30) << " " << done << "/"
              << total_ << " files" << std::flush;
  }
  void Finish() {
    if (enabled_) std::cerr << "\r\x1b[K" << std::flush;
  }

 private:
  bool enabled_;
  size_t total_;
};

absl::Status SendBatch(Client& client, v1::EnqueueRequest* batch, Totals* totals) {
  if (batch->tasks_size() == 0) return absl::OkStatus();
  v1::EnqueueResponse response;
  absl::Status status = client.Call(&v1::SkillStore::Stub::Enqueue, *batch, &response,
                                    absl::StrCat("enqueue ", batch->tasks_size(), " tasks"));
  if (absl::IsInvalidArgument(status) && batch->tasks_size() > 1 &&
      absl::StrContains(status.message(), " per call")) {
    // The server takes fewer tasks per call (skillstore-server
    // --max-batch-tasks). A refused Enqueue stored nothing, so the halves
    // are sent instead, down to what it takes.
    v1::EnqueueRequest second;
    const int half = batch->tasks_size() / 2;
    for (int i = half; i < batch->tasks_size(); ++i) {
      *second.add_tasks() = std::move(*batch->mutable_tasks(i));
    }
    batch->mutable_tasks()->DeleteSubrange(half, batch->tasks_size() - half);
    absl::Status first_half = SendBatch(client, batch, totals);
    if (!first_half.ok()) return first_half;
    return SendBatch(client, &second, totals);
  }
  if (!status.ok()) {
    const int64_t sent = totals->enqueued + totals->deduplicated;
    if (sent == 0) return status;
    // Earlier batches are in the queue already: say so, and how to resume.
    return absl::Status(status.code(),
                        absl::StrCat(status.message(), " (", sent,
                                     " tasks of earlier batches were enqueued; fix the cause and "
                                     "re-run with --idempotent to add only the rest)"));
  }
  for (int i = 0; i < response.task_ids_size(); ++i) {
    totals->task_ids.push_back(response.task_ids(i));
    const bool dup = i < response.deduplicated_size() && response.deduplicated(i);
    if (dup) ++totals->deduplicated;
    else ++totals->enqueued;
  }
  batch->clear_tasks();
  return absl::OkStatus();
}

absl::Status RunEnqueue(const GlobalOptions& global, const EnqueueOptions& options) {
  absl::StatusOr<v1::TaskType> type = ParseTaskType(options.type);
  if (!type.ok()) return type.status();
  std::map<std::string, std::string> metadata;
  for (const std::string& kv : options.metadata) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--metadata '", kv, "': expected KEY=VALUE"));
    }
    metadata[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  absl::StatusOr<std::vector<std::string>> files = DiscoverInputs(options.paths, *type);
  if (!files.ok()) return files.status();
  if (files->empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no input found: folders are searched for ",
        *type == v1::TASK_TYPE_VALIDATE ? "*.json" : "SKILL.md", " files"));
  }

  InterruptScope interrupts;
  Client client(global);
  Totals totals;
  EnqueueBar bar(!global.json() && StderrIsTerminal(), files->size());
  v1::EnqueueRequest batch;
  size_t batch_bytes = 0;
  for (size_t i = 0; i < files->size(); ++i) {
    if (InterruptScope::Interrupted()) {
      bar.Finish();
      return absl::CancelledError(absl::StrCat(
          "interrupted after ", totals.enqueued + totals.deduplicated,
          " tasks were sent; run again with --idempotent to add only the rest"));
    }
    const std::string& path = (*files)[i];
    absl::StatusOr<std::string> content = ReadFile(path);
    if (!content.ok()) return content.status();
    if (batch.tasks_size() > 0 &&
        (batch.tasks_size() >= static_cast<int>(kBatchTasks) ||
         batch_bytes + content->size() > kBatchBytes)) {
      absl::Status sent = SendBatch(client, &batch, &totals);
      if (!sent.ok()) {
        bar.Finish();
        return sent;
      }
      batch_bytes = 0;
      bar.Show(i);
    }
    v1::TaskSpec* task = batch.add_tasks();
    task->set_type(*type);
    task->set_skill_path(path);
    task->set_priority(options.priority);
    task->set_max_attempts(options.max_attempts);
    task->set_timeout_seconds(options.timeout_seconds);
    if (options.idempotent) task->set_idempotency_key(IdempotencyKey(*type, *content));
    for (const auto& [k, v] : metadata) (*task->mutable_metadata())[k] = v;
    batch_bytes += content->size();
    task->set_content(std::move(*content));
    ++totals.files;
  }
  absl::Status sent = SendBatch(client, &batch, &totals);
  bar.Finish();
  if (!sent.ok()) return sent;

  if (global.json()) {
    Json out;
    out["type"] = TaskTypeName(*type);
    out["files"] = totals.files;
    out["enqueued"] = totals.enqueued;
    out["deduplicated"] = totals.deduplicated;
    out["task_ids"] = totals.task_ids;
    std::cout << Dump(out);
  } else {
    std::cout << "enqueued " << totals.enqueued << " " << TaskTypeName(*type) << " tasks"
              << " (" << totals.deduplicated << " deduplicated) from " << totals.files
              << " files\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddEnqueueCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* selected) {
  auto options = std::make_shared<EnqueueOptions>();
  CLI::App* cmd = app.add_subcommand(
      "enqueue",
      "Add tasks for skill files. Folders are searched recursively for SKILL.md (parse, "
      "analyze) or *.json (validate). Content is sent inline, in batches.");
  cmd->add_option("--type,-t", options->type, "Task type: parse, validate or analyze")
      ->capture_default_str();
  cmd->add_option("--priority", options->priority, "Higher runs first")->capture_default_str();
  cmd->add_option("--max-attempts", options->max_attempts,
                  "Attempts before a task is failed (0: server default, 3)")
      ->check(NonNegativeNumber());
  cmd->add_option("--timeout", options->timeout_seconds,
                  "Per-attempt time limit on the worker (whole seconds, or with a unit: 10m; "
                  "0: the worker's --default-task-timeout)")
      ->transform(SecondsWithUnit(SecondsPrecision::kWhole))
      ->check(NonNegativeNumber());
  cmd->add_flag("--idempotent", options->idempotent,
                "Key each task by type + SHA-256 of its content: re-enqueueing the same skill "
                "returns the existing task instead of a duplicate");
  // One KEY=VALUE per flag, so a path after it is not taken as metadata.
  cmd->add_option("--metadata,-m", options->metadata, "KEY=VALUE stored with each task (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("paths", options->paths, "SKILL.md / JSON files or folders")->required();
  cmd->callback([&global, selected, options] {
    *selected = [&global, options] { return RunEnqueue(global, *options); };
  });
}

}  // namespace skillstore::cli
