// skillctl parse: the skill engine in-process, without a server. The same
// code the workers run (common/task_executor.h), for one-off use and CI.
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "cli/discovery.h"
#include "cli/json_view.h"
#include "cli/task_names.h"
#include "common/task_executor.h"

namespace skillstore::cli {
namespace {

struct ParseOptions {
  std::string type = "parse";
  std::string out_dir;
  std::vector<std::string> paths;
};

absl::Status RunParse(const GlobalOptions& global, const ParseOptions& options) {
  absl::StatusOr<v1::TaskType> type = ParseTaskType(options.type);
  if (!type.ok()) return type.status();
  absl::StatusOr<std::vector<std::string>> files = DiscoverInputs(options.paths, *type);
  if (!files.ok()) return files.status();
  if (files->empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no input found: folders are searched for ",
        *type == v1::TASK_TYPE_VALIDATE ? "*.json" : "SKILL.md", " files"));
  }
  // One input without a folder prints its document, which is JSON already,
  // whatever --output says; --output json with a folder prints a summary.
  const bool to_stdout = options.out_dir.empty();
  if (to_stdout && files->size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(files->size(),
                     " inputs found: give an output folder with -o DIR (the result of one "
                     "input is printed)"));
  }
  if (!to_stdout) {
    std::error_code ec;
    std::filesystem::create_directories(options.out_dir, ec);
    if (ec) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create ", options.out_dir, ": ", ec.message()));
    }
  }

  UniqueNamer namer;
  Json outputs = Json::array();
  int failed = 0;
  for (const std::string& path : *files) {
    Json entry;
    entry["input"] = path;
    absl::StatusOr<std::string> content = ReadFile(path);
    absl::StatusOr<std::string> result =
        content.ok() ? skillstore::RunTask(ToTaskKind(*type), *content, path) : content.status();
    if (!result.ok()) {
      ++failed;
      // A read error names the file already; the engine's errors do not.
      std::cerr << (content.ok() ? path + ": " : "") << result.status().message() << "\n";
      entry["ok"] = false;
      entry["error"] = std::string(result.status().message());
      outputs.push_back(std::move(entry));
      continue;
    }
    if (!result->empty() && result->back() != '\n') result->push_back('\n');
    if (to_stdout) {
      std::cout << *result;
      continue;
    }
    std::string base = OutputBaseName(path);
    if (base.empty()) base = "skill";
    const std::string out =
        (std::filesystem::path(options.out_dir) / namer.Claim(base, OutputSuffix(*type))).string();
    absl::Status written = WriteFileAtomically(out, *result);
    if (!written.ok()) return written;
    entry["ok"] = true;
    entry["output"] = out;
    outputs.push_back(std::move(entry));
  }
  const int64_t ok = static_cast<int64_t>(files->size()) - failed;
  if (to_stdout) {
    // The document was the output.
  } else if (global.json()) {
    Json out;
    out["type"] = TaskTypeName(*type);
    out["written"] = ok;
    out["failed"] = failed;
    out["outputs"] = std::move(outputs);
    std::cout << Dump(out);
  } else {
    std::cout << "wrote " << ok << " file" << (ok == 1 ? "" : "s") << " to " << options.out_dir
              << (failed ? absl::StrCat(" (", failed, " failed)") : "") << "\n";
  }
  if (failed > 0) {
    return absl::UnknownError(absl::StrCat(failed, " of ", files->size(), " inputs failed"));
  }
  return absl::OkStatus();
}

}  // namespace

void AddParseCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* selected) {
  auto options = std::make_shared<ParseOptions>();
  CLI::App* cmd = app.add_subcommand(
      "parse",
      "Local mode, no server: run the skill engine in this process. One file prints to "
      "stdout; with -o DIR writes <name>-skill.json / -validation.json / -security.json.");
  cmd->add_option("--type,-t", options->type, "parse, validate or analyze")
      ->capture_default_str();
  // -o here is the output folder (as for the Skill-0 tools); --output json
  // still selects the JSON summary.
  cmd->add_option("-o,--out", options->out_dir, "Output folder (created if missing)");
  cmd->add_option("paths", options->paths, "SKILL.md / JSON files or folders")->required();
  cmd->callback([&global, selected, options] {
    *selected = [&global, options] { return RunParse(global, *options); };
  });
}

}  // namespace skillstore::cli
