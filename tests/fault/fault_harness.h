// Shared pieces of the fault-injection suite: a gRPC client that rides out
// server restarts, workers as real processes, and the end-of-run checks made
// directly on the server's SQLite file.
#ifndef SKILLSTORE_TESTS_FAULT_FAULT_HARNESS_H_
#define SKILLSTORE_TESTS_FAULT_FAULT_HARNESS_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "process.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace skillstore::fault {

namespace v1 = ::skillstore::v1;
using ::skillstore::testing::ChildProcess;

// A valid, unique SKILL.md of a few hundred bytes.
std::string SmallSkill(int index);

class Client {
 public:
  explicit Client(const std::string& address);
  v1::SkillStore::Stub& stub() { return *stub_; }

  // Enqueues `specs` with retries on transport errors (UNAVAILABLE,
  // DEADLINE_EXCEEDED: the server may be restarting) until `deadline`.
  // Callers give every spec an idempotency_key, so a retried batch that had
  // in fact been committed is not enqueued twice. Returns the task ids.
  absl::StatusOr<std::vector<std::string>> EnqueueWithRetry(
      const std::vector<v1::TaskSpec>& specs, absl::Time deadline);

  // One attempt; the gRPC status as is.
  grpc::Status Enqueue(const std::vector<v1::TaskSpec>& specs, std::vector<std::string>* ids);

  // GetProgress; error status while the server is away.
  absl::StatusOr<v1::Progress> Progress();

  // Waits until completed + failed + cancelled >= `total`, riding out
  // restarts. Fails with the last progress seen on timeout.
  absl::Status WaitAllFinished(int64_t total, absl::Duration timeout);

  absl::StatusOr<v1::GetTaskResponse> GetTask(const std::string& id);

 private:
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SkillStore::Stub> stub_;
};

// Tiny parse tasks "<prefix>-<i>" for i in [first, first + count), with
// idempotency keys and max_attempts (faults cost attempts: a task whose
// lease dies with a killed process is retried; give it room).
std::vector<v1::TaskSpec> TinyParseTasks(const std::string& prefix, int first, int count,
                                         int max_attempts);

// skill-worker --server `server` --worker-id `id` plus `extra`, logging to
// `log`. `wrapper` (e.g. {"/usr/sbin/ip", "netns", "exec", "ns1"}) is put in
// front of the command.
absl::StatusOr<std::unique_ptr<ChildProcess>> StartWorker(
    const std::string& server, const std::string& id, const std::string& log,
    std::vector<std::string> extra = {}, std::vector<std::string> wrapper = {});

// What the database says at the end of a run (read with the server stopped).
struct DbReport {
  int64_t tasks = 0;
  std::map<std::string, int64_t> by_status;  // status -> count
  int64_t result_rows = 0;
  int64_t tasks_with_results = 0;   // distinct task ids in results
  int64_t duplicate_results = 0;    // task ids with more than one results row
  int64_t orphan_results = 0;       // results rows without a task
  int64_t completed_without_result = 0;
  int64_t multiple_successes = 0;   // tasks with more than one succeeded attempt
  std::string integrity;            // PRAGMA integrity_check
  std::vector<std::string> task_ids;
};
absl::StatusOr<DbReport> InspectDatabase(const std::string& db_path);

// What is wrong with a run that should have completed all `expected` tasks
// exactly once (empty when nothing): counts, results rows, duplicates,
// integrity.
std::string ExactlyOnceProblems(const DbReport& r, int64_t expected);

// A readable summary for assertion messages.
std::string Describe(const DbReport& r);

// The common end of a run that must complete all `expected` tasks exactly
// once: every worker (null entries skipped) must still be running and drain
// on SIGTERM, the server must stop on SIGTERM, and then the database is
// inspected. Returns "" when all of that holds, else every problem found,
// with a summary of the database.
std::string StopAndCheckExactlyOnce(std::vector<std::unique_ptr<ChildProcess>>& workers,
                                    ChildProcess& server, const std::string& db_path,
                                    int64_t expected);

// Runs a shell command; returns its exit status (0 = success) and, when
// `output` is given, its stdout+stderr.
int RunCommand(const std::string& command, std::string* output = nullptr);

}  // namespace skillstore::fault

#endif  // SKILLSTORE_TESTS_FAULT_FAULT_HARNESS_H_
