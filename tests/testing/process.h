// Real processes for tests: spawn the project's binaries, read their logs,
// signal them (SIGTERM, SIGKILL) and reap them.
//
// Every child is started with PR_SET_PDEATHSIG=SIGKILL, so a crashed or
// aborted test never leaves servers or workers running behind it, and every
// ChildProcess kills and reaps its child in its destructor.
#ifndef SKILLSTORE_TESTS_TESTING_PROCESS_H_
#define SKILLSTORE_TESTS_TESTING_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace skillstore::testing {

// Absolute path of a binary this project builds (build/bin/<name>).
std::string BinaryPath(std::string_view name);

// Source directory of the project (for fixtures and ../shared).
std::string SourceDir();

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when
// the object is destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(std::string_view name) const;

 private:
  std::string path_;
};

class ChildProcess {
 public:
  // Starts argv[0] (a path) with its arguments; stdout and stderr both go to
  // `log_path` (appended to, so a restarted process keeps one log).
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(
      std::vector<std::string> argv, std::string log_path);

  ~ChildProcess();  // SIGKILL and reap, if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

  // True until the child has exited and been reaped.
  bool Running();

  // Sends `signal` (no-op once the child has been reaped).
  void Signal(int signal);

  // Waits up to `timeout` for the child to exit. Returns its exit code, or
  // 128 + signal number when it was killed by a signal; DeadlineExceeded when
  // it is still running.
  absl::StatusOr<int> Wait(absl::Duration timeout);

  // SIGKILL and reap at once (the crash a test wants to inject).
  void Kill();

  // Waits until the log contains `needle` at or after byte `from_offset`, and
  // returns the whole line holding it. Fails early when the child exits.
  absl::StatusOr<std::string> WaitForLogLine(std::string_view needle,
                                             absl::Duration timeout,
                                             size_t from_offset = 0);

  // The whole log so far.
  std::string ReadLog() const;

 private:
  ChildProcess(pid_t pid, std::string log_path)
      : pid_(pid), log_path_(std::move(log_path)) {}

  pid_t pid_;
  std::string log_path_;
  bool reaped_ = false;
  int exit_code_ = -1;
};

// A skillstore-server child on an ephemeral loopback port.
class ServerProcess {
 public:
  // Starts build/bin/skillstore-server --listen 127.0.0.1:<port> --db <db_path>
  // plus `extra_args`, and waits until it logs "listening on". `port` 0 picks
  // an ephemeral port; pass the previous port() to restart on the same address.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(
      std::string db_path, std::string log_path,
      std::vector<std::string> extra_args = {}, int port = 0);

  // "127.0.0.1:<port>".
  std::string address() const;
  int port() const { return port_; }
  ChildProcess& process() { return *process_; }

 private:
  ServerProcess(std::unique_ptr<ChildProcess> process, int port)
      : process_(std::move(process)), port_(port) {}

  std::unique_ptr<ChildProcess> process_;
  int port_;
};

}  // namespace skillstore::testing

#endif  // SKILLSTORE_TESTS_TESTING_PROCESS_H_
