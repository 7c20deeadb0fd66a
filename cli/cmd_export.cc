// skillctl export --out DIR: every completed result as a file, named the way
// the Skill-0 tools expect (<name>-skill.json, -validation.json, -security.json).
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cli/client.h"
#include "cli/command.h"
#include "cli/discovery.h"
#include "cli/json_view.h"
#include "cli/task_names.h"

namespace skillstore::cli {
namespace {

constexpr int kPageSize = 500;

struct ExportOptions {
  std::string out_dir;
  std::string type;
};

absl::Status RunExport(const GlobalOptions& global, const ExportOptions& options) {
  v1::ListTasksRequest list;
  list.set_status(v1::TASK_STATUS_COMPLETED);
  list.set_page_size(kPageSize);
  if (!options.type.empty()) {
    absl::StatusOr<v1::TaskType> type = ParseTaskType(options.type);
    if (!type.ok()) return type.status();
    list.set_type(*type);
  }
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", options.out_dir, ": ", ec.message()));
  }

  Client client(global);
  UniqueNamer namer;
  Json files = Json::array();
  int64_t written = 0;
  do {
    v1::ListTasksResponse page;
    absl::Status status =
        client.Call(&v1::SkillStore::Stub::ListTasks, list, &page, "list completed tasks");
    if (!status.ok()) return status;
    for (const v1::TaskInfo& task : page.tasks()) {
      v1::GetResultRequest request;
      request.set_task_id(task.task_id());
      v1::GetResultResponse result;
      status = client.Call(&v1::SkillStore::Stub::GetResult, request, &result,
                           absl::StrCat("get result of task ", task.task_id()));
      if (!status.ok()) return status;
      if (result.result_json().empty()) continue;  // completed without a document: nothing to write
      std::string base = OutputBaseName(task.skill_path());
      if (base.empty()) base = absl::StrCat("task-", task.task_id());
      const std::string name = namer.Claim(base, OutputSuffix(task.type()));
      const std::string path = (std::filesystem::path(options.out_dir) / name).string();
      status = WriteFileAtomically(path, IndentedDocument(result.result_json()));
      if (!status.ok()) return status;
      ++written;
      Json entry;
      entry["task_id"] = task.task_id();
      entry["type"] = TaskTypeName(task.type());
      entry["skill_path"] = task.skill_path();
      entry["file"] = path;
      files.push_back(std::move(entry));
    }
    list.set_page_token(page.next_page_token());
  } while (!list.page_token().empty());

  if (global.json()) {
    Json out;
    out["out_dir"] = options.out_dir;
    out["written"] = written;
    out["files"] = std::move(files);
    std::cout << Dump(out);
  } else {
    std::cout << "exported " << written << " result" << (written == 1 ? "" : "s") << " to "
              << options.out_dir << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddExportCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* selected) {
  auto options = std::make_shared<ExportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "export",
      "Write every completed result to a folder: <name>-skill.json (parse), "
      "<name>-validation.json (validate), <name>-security.json (analyze). <name> is the "
      "skill's folder name; repeated names get -2, -3, ...");
  cmd->add_option("--out", options->out_dir, "Output folder (created if missing)")->required();
  cmd->add_option("--type,-t", options->type, "Only results of this type");
  cmd->callback([&global, selected, options] {
    *selected = [&global, options] { return RunExport(global, *options); };
  });
}

}  // namespace skillstore::cli
