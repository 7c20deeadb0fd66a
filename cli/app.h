// The skillctl application: global options, subcommand registration and the
// mapping from a command's absl::Status to the process exit code.
#ifndef SKILLSTORE_CLI_APP_H_
#define SKILLSTORE_CLI_APP_H_

namespace skillstore::cli {

// Parses argv, runs the chosen subcommand and returns the exit code
// (see exit_codes.h). Prints errors to stderr.
int Main(int argc, char** argv);

}  // namespace skillstore::cli

#endif  // SKILLSTORE_CLI_APP_H_
