// skillctl's exit codes. They are part of its interface: scripts (and
// `make demo`) branch on them, and the README documents them.
#ifndef SKILLSTORE_CLI_EXIT_CODES_H_
#define SKILLSTORE_CLI_EXIT_CODES_H_

#include "absl/status/status.h"

namespace skillstore::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,          // the request failed (server refused it, I/O error, ...)
  kExitUsage = 2,          // bad flags or arguments (also INVALID_ARGUMENT from the server)
  kExitUnreachable = 3,    // no server answered at --server
  kExitNotFound = 4,       // the task (or file) does not exist
  kExitTasksFailed = 5,    // wait: everything finished, but some tasks failed or were cancelled
  kExitTimeout = 6,        // wait --timeout elapsed (or an RPC deadline passed)
  kExitNotAuthorized = 7,  // the server refused our token (missing, unknown, or its role)
  kExitInterrupted = 130,  // ^C / SIGTERM
};

// The exit code for a command's final status. Commands express outcomes as
// canonical codes: Unavailable -> 3, NotFound -> 4, Aborted (tasks failed)
// -> 5, DeadlineExceeded -> 6, Unauthenticated and PermissionDenied -> 7,
// Cancelled -> 130, InvalidArgument -> 2.
int ExitCodeFor(const absl::Status& status);

}  // namespace skillstore::cli

#endif  // SKILLSTORE_CLI_EXIT_CODES_H_
