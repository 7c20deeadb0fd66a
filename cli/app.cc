#include "cli/app.h"

#include <iostream>
#include <cstdlib>
#include <string>

#include "CLI/CLI.hpp"
#include "cli/command.h"
#include "cli/exit_codes.h"

namespace skillstore::cli {
namespace {

constexpr char kDescription[] =
    "skillctl: the command-line client of skillstore.\n"
    "Enqueue skills, watch progress, inspect tasks and workers, export results - or run\n"
    "the skill engine locally with `parse`. Every command accepts -o json for scripts.";

constexpr char kFooter[] =
    "Examples:\n"
    "  skillctl enqueue --type parse --idempotent examples/skills\n"
    "  skillctl watch\n"
    "  skillctl wait --timeout 600 && skillctl export --out results/\n"
    "  skillctl tasks --status failed\n"
    "  skillctl parse -o out/ examples/skills\n"
    "\n"
    "Exit codes: 0 ok; 1 request failed; 2 bad arguments; 3 server unreachable;\n"
    "4 not found; 5 (wait) some tasks failed or were cancelled; 6 timeout; 130 interrupted.";

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app(kDescription, "skillctl");
  app.footer(kFooter);
  app.require_subcommand(1);
  // Global options may also follow the subcommand: `skillctl tasks -o json`.
  app.fallthrough();
  app.set_version_flag("--version", "skillctl 0.1.0");

  GlobalOptions global;
  if (const char* env = std::getenv("SKILLSTORE_SERVER"); env != nullptr && *env != '\0') {
    global.server = env;
  }
  app.add_option("--server", global.server,
                 "host:port of skillstore-server (env SKILLSTORE_SERVER)")
      ->capture_default_str();
  std::string format = "text";
  app.add_option("-o,--output", format, "Output format: text or json (for scripts)")
      ->capture_default_str()
      ->transform(CLI::IsMember({"text", "json"}, CLI::ignore_case));
  app.add_option("--rpc-timeout", global.rpc_timeout_seconds,
                 "Seconds to wait for each request")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  CommandRunner selected;
  AddEnqueueCommand(app, global, &selected);
  AddProgressCommands(app, global, &selected);
  AddTaskCommands(app, global, &selected);
  AddWorkersCommand(app, global, &selected);
  AddAdminCommands(app, global, &selected);
  AddExportCommand(app, global, &selected);
  AddParseCommand(app, global, &selected);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  // Runners read `global` when they run, after parsing filled it in.
  global.format = format == "json" ? OutputFormat::kJson : OutputFormat::kText;
  if (!selected) {
    std::cerr << "skillctl: no command given (see skillctl --help)\n";
    return kExitUsage;
  }
  const absl::Status status = selected();
  if (!status.ok()) {
    std::cerr << "skillctl: " << status.message() << "\n";
  }
  return ExitCodeFor(status);
}

}  // namespace skillstore::cli
