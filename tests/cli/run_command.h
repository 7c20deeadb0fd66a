// Runs a command to completion and captures its stdout, stderr and exit
// code separately (ChildProcess merges them into one log, which is right for
// daemons but not for checking a client's JSON output).
#ifndef SKILLSTORE_TESTS_CLI_RUN_COMMAND_H_
#define SKILLSTORE_TESTS_CLI_RUN_COMMAND_H_

#include <string>
#include <vector>

namespace skillstore::testing {

struct CommandResult {
  int exit_code = -1;  // 128 + signal when killed; -1 when it could not start
  std::string out;
  std::string err;
};

// Runs argv (argv[0] is a path) with extra environment entries "K=V", in
// `cwd` when not empty. Killed after `timeout_seconds`.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env = {},
                         const std::string& cwd = "", int timeout_seconds = 120);

}  // namespace skillstore::testing

#endif  // SKILLSTORE_TESTS_CLI_RUN_COMMAND_H_
