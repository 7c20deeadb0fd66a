// What every subcommand shares: the global options and the way a subcommand
// hands its work back to Main.
//
// Each cmd_*.cc file defines one Add*Command function. It adds a CLI11
// subcommand with its own options and, when that subcommand is parsed, stores
// a runner in *selected. Main runs the runner after parsing, so parsing errors
// and run-time errors are reported the same way.
#ifndef SKILLSTORE_CLI_COMMAND_H_
#define SKILLSTORE_CLI_COMMAND_H_

#include <functional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "common/client_credentials.h"

namespace skillstore::cli {

enum class OutputFormat { kText, kJson };

struct GlobalOptions {
  // host:port of skillstore-server (--server, or $SKILLSTORE_SERVER).
  std::string server = "127.0.0.1:50051";
  OutputFormat format = OutputFormat::kText;
  // Deadline of each unary RPC, in seconds.
  int rpc_timeout_seconds = 30;
  // --token-file, --tls, --tls-ca, ... as given, and what Main loaded from
  // them (token, certificates) after parsing; Client uses `security`.
  client::ClientSecurityFlags security_flags;
  client::ClientSecurity security;

  bool json() const { return format == OutputFormat::kJson; }
};

using CommandRunner = std::function<absl::Status()>;

// Registration functions, one per file. `global` outlives the runners.
void AddEnqueueCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* selected);
void AddProgressCommands(CLI::App& app, const GlobalOptions& global, CommandRunner* selected);
void AddTaskCommands(CLI::App& app, const GlobalOptions& global, CommandRunner* selected);
void AddWorkersCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* selected);
void AddAdminCommands(CLI::App& app, const GlobalOptions& global, CommandRunner* selected);
void AddExportCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* selected);
void AddParseCommand(CLI::App& app, const GlobalOptions& global, CommandRunner* selected);
void AddTokenCommands(CLI::App& app, const GlobalOptions& global, CommandRunner* selected);

}  // namespace skillstore::cli

#endif  // SKILLSTORE_CLI_COMMAND_H_
