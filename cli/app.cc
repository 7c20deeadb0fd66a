#include "cli/app.h"

#include <cstdlib>
#include <iostream>
#include <string>

#include <grpc/support/log.h>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "cli/exit_codes.h"
#include "cli/text_format.h"
#include "common/duration_flag.h"
#include "common/flag_checks.h"

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
    "  SKILLSTORE_TOKEN=$(cat admin.token) skillctl --tls-ca ca.pem --server host:50051 progress\n"
    "\n"
    "Exit codes: 0 ok; 1 request failed; 2 bad arguments; 3 server unreachable;\n"
    "4 not found; 5 (wait) some tasks failed or were cancelled; 6 timeout;\n"
    "7 not authorized (token missing, unknown, or its role may not do this); 130 interrupted.";

// skillctl reports every failed call itself, with a hint; gRPC's own log
// lines (a failed TLS handshake, ...) would repeat that on stderr in a less
// readable form. GRPC_VERBOSITY or GRPC_TRACE turn them back on for debugging.
void QuietGrpcLogs() {
  if (std::getenv("GRPC_VERBOSITY") != nullptr || std::getenv("GRPC_TRACE") != nullptr) return;
  gpr_set_log_function([](gpr_log_func_args*) {});
}

}  // namespace

int Main(int argc, char** argv) {
  QuietGrpcLogs();
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
      ->capture_default_str()
      ->check([](const std::string& value) {
        return value.empty() ? std::string("must be host:port, not empty") : std::string();
      });
  std::string format = "text";
  app.add_option("-o,--output", format, "Output format: text or json (for scripts)")
      ->capture_default_str()
      ->transform(CLI::IsMember({"text", "json"}, CLI::ignore_case));
  app.add_option("--rpc-timeout", global.rpc_timeout_seconds,
                 "How long to wait for each request (whole seconds, or with a unit: 2m)")
      ->capture_default_str()
      ->transform(SecondsWithUnit(SecondsPrecision::kWhole))
      ->check(PositiveNumber());
  client::AddClientSecurityFlags(app, &global.security_flags);

  CommandRunner selected;
  AddEnqueueCommand(app, global, &selected);
  AddProgressCommands(app, global, &selected);
  AddTaskCommands(app, global, &selected);
  AddWorkersCommand(app, global, &selected);
  AddAdminCommands(app, global, &selected);
  AddExportCommand(app, global, &selected);
  AddParseCommand(app, global, &selected);
  AddTokenCommands(app, global, &selected);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // For a mistyped command CLI11 says only "A subcommand is required".
    if (app.get_subcommands().empty() && !app.remaining().empty() &&
        !app.remaining().front().empty() && app.remaining().front()[0] != '-') {
      std::string commands;
      for (const CLI::App* command : app.get_subcommands([](CLI::App*) { return true; })) {
        absl::StrAppend(&commands, commands.empty() ? "" : ", ", command->get_name());
      }
      std::cerr << "skillctl: unknown command '" << ForTerminal(app.remaining().front())
                << "'; the commands are " << commands << " (skillctl --help)\n";
      return kExitUsage;
    }
    app.exit(e);
    return kExitUsage;
  }
  // Runners read `global` when they run, after parsing filled it in.
  global.format = format == "json" ? OutputFormat::kJson : OutputFormat::kText;
  if (!selected) {
    std::cerr << "skillctl: no command given (see skillctl --help)\n";
    return kExitUsage;
  }
  absl::StatusOr<client::ClientSecurity> security =
      client::LoadClientSecurity(global.security_flags, std::getenv(client::kTokenEnvVar));
  if (!security.ok()) {
    std::cerr << "skillctl: " << security.status().message() << "\n";
    return kExitUsage;
  }
  global.security = std::move(*security);
  for (const std::string& warning : global.security.warnings) {
    std::cerr << "skillctl: warning: " << warning << "\n";
  }
  if (const std::string warning = client::PlaintextTokenWarning(global.server, global.security);
      !warning.empty()) {
    std::cerr << "skillctl: warning: " << warning << "\n";
  }
  const absl::Status status = selected();
  if (!status.ok()) {
    std::cerr << "skillctl: " << status.message() << "\n";
  }
  return ExitCodeFor(status);
}

}  // namespace skillstore::cli
