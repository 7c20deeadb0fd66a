#include "process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace skillstore::testing {
namespace {

// How often waits look at the child and its log. Tests wait for events that
// take milliseconds to seconds; 10 ms keeps them prompt without spinning.
constexpr absl::Duration kPollInterval = absl::Milliseconds(10);

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string BinaryPath(std::string_view name) {
  return absl::StrCat(SKILLSTORE_BIN_DIR, "/", std::string(name));
}

std::string SourceDir() { return SKILLSTORE_SOURCE_DIR; }

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(base != nullptr && *base != '\0' ? base : "/tmp",
                   "/skillstore-test-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    // A test cannot go on without its directory; say why loudly.
    fprintf(stderr, "mkdtemp(%s) failed: %s\n", pattern.c_str(), strerror(errno));
    abort();
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::File(std::string_view name) const {
  return absl::StrCat(path_, "/", std::string(name));
}

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    std::vector<std::string> argv, std::string log_path) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  if (access(argv[0].c_str(), X_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat(argv[0], " is not an executable (build it first)"));
  }
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(
        absl::StrCat("open ", log_path, ": ", strerror(errno)));
  }
  std::vector<char*> c_argv;
  for (std::string& arg : argv) c_argv.push_back(arg.data());
  c_argv.push_back(nullptr);

  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the test died before prctl
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    // Put the child in its own process group so a terminal's ^C reaches the
    // test runner only; the test decides what its children get.
    setpgid(0, 0);
    execv(c_argv[0], c_argv.data());
    _exit(127);
  }
  close(log_fd);
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, std::move(log_path)));
}

ChildProcess::~ChildProcess() { Kill(); }

bool ChildProcess::Running() {
  if (reaped_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    exit_code_ = DecodeWaitStatus(status);
    return false;
  }
  return true;
}

void ChildProcess::Signal(int signal) {
  if (Running()) kill(pid_, signal);
}

absl::StatusOr<int> ChildProcess::Wait(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (Running()) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "process ", pid_, " still running after ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(kPollInterval);
  }
  return exit_code_;
}

void ChildProcess::Kill() {
  if (reaped_) return;
  kill(pid_, SIGKILL);
  int status = 0;
  if (waitpid(pid_, &status, 0) == pid_) exit_code_ = DecodeWaitStatus(status);
  reaped_ = true;
}

std::string ChildProcess::ReadLog() const {
  std::ifstream in(log_path_, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

absl::StatusOr<std::string> ChildProcess::WaitForLogLine(std::string_view needle,
                                                         absl::Duration timeout,
                                                         size_t from_offset) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    std::string log = ReadLog();
    size_t at = log.size() > from_offset ? log.find(needle, from_offset)
                                         : std::string::npos;
    if (at != std::string::npos) {
      size_t begin = log.rfind('\n', at);
      begin = begin == std::string::npos ? 0 : begin + 1;
      size_t end = log.find('\n', at);
      return log.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    }
    if (!Running()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "process exited (code ", exit_code_, ") before logging \"", std::string(needle),
          "\"; log:\n", log));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no \"", std::string(needle), "\" in the log after ", absl::FormatDuration(timeout),
          "; log:\n", log));
    }
    absl::SleepFor(kPollInterval);
  }
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    std::string db_path, std::string log_path, std::vector<std::string> extra_args,
    int port) {
  // Remember where this start's output begins: a restarted server appends to
  // the same log, and its "listening on" line is the one after this offset.
  size_t log_offset = 0;
  if (std::error_code ec; std::filesystem::exists(log_path, ec)) {
    log_offset = std::filesystem::file_size(log_path, ec);
  }
  std::vector<std::string> argv = {BinaryPath("skillstore-server"), "--listen",
                                   absl::StrCat("127.0.0.1:", port), "--db",
                                   std::move(db_path)};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  auto process = ChildProcess::Start(std::move(argv), std::move(log_path));
  if (!process.ok()) return process.status();

  constexpr std::string_view kListening = "listening on 127.0.0.1:";
  auto line = (*process)->WaitForLogLine(kListening, absl::Seconds(60), log_offset);
  if (!line.ok()) return line.status();
  std::string_view rest(*line);
  rest.remove_prefix(rest.find(kListening) + kListening.size());
  size_t digits = 0;
  while (digits < rest.size() && isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
  int bound_port = 0;
  if (!absl::SimpleAtoi(std::string(rest.substr(0, digits)), &bound_port) || bound_port <= 0) {
    return absl::InternalError(absl::StrCat("cannot read the port from: ", *line));
  }
  return std::unique_ptr<ServerProcess>(
      new ServerProcess(std::move(*process), bound_port));
}

std::string ServerProcess::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

}  // namespace skillstore::testing
