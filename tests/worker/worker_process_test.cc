// skill-worker and skillstore-server as real processes: real gRPC, real
// SQLite file, real signals (SIGKILL, SIGTERM, SIGSTOP/SIGCONT).
//
// The machine running these is small and shared: the tests assert behaviour
// (every task completed exactly once, the right attempts recorded, exit
// codes), never speed, and wait for conditions with generous bounds.
// --debug-task-delay-ms (a testing-only worker flag) makes tasks last long
// enough to kill or stop a worker while it holds their leases.
#include <signal.h>
#include <sqlite3.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "notify_socket.h"
#include "process.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace skillstore::worker {
namespace {

namespace v1 = skillstore::v1;
using skillstore::testing::BinaryPath;
using skillstore::testing::ChildProcess;
using skillstore::testing::ServerProcess;
using skillstore::testing::TempDir;

constexpr char kSkill[] = R"(---
name: process-test
description: A small skill used by the worker process tests.
---
# Process test

## Instructions
- Read the input file named by the user.
- Always validate the output before writing it.
- Never delete files outside the working directory.
)";

// Polls `condition` (tests only; the product itself never polls) until true
// or `timeout`.
bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return condition();
}

class WorkerProcessTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> extra_args = {}) {
    server_args_ = std::move(extra_args);
    auto server = ServerProcess::Start(db_path(), dir_.File("server.log"), server_args_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::SkillStore::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }

  // Restarts the server on the same port and database.
  void RestartServer() {
    const int port = server_->port();
    server_.reset();
    auto server = ServerProcess::Start(db_path(), dir_.File("server.log"), server_args_, port);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  std::string db_path() const { return dir_.File("skillstore.db"); }

  std::unique_ptr<ChildProcess> StartWorker(const std::string& id,
                                            std::vector<std::string> extra_args = {}) {
    std::vector<std::string> argv = {BinaryPath("skill-worker"), "--server", server_->address(),
                                     "--worker-id", id};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    auto worker = ChildProcess::Start(argv, dir_.File(id + ".log"));
    EXPECT_TRUE(worker.ok()) << worker.status();
    return worker.ok() ? std::move(*worker) : nullptr;
  }

  std::vector<std::string> Enqueue(int n, int timeout_seconds = 0, int max_attempts = 0) {
    std::vector<std::string> ids;
    while (static_cast<int>(ids.size()) < n) {
      v1::EnqueueRequest request;
      const int batch = std::min(500, n - static_cast<int>(ids.size()));
      for (int i = 0; i < batch; ++i) {
        v1::TaskSpec* task = request.add_tasks();
        task->set_type(v1::TASK_TYPE_PARSE);
        task->set_skill_path(absl::StrCat("process-test/", ids.size() + i, "/SKILL.md"));
        task->set_content(kSkill);
        task->set_timeout_seconds(timeout_seconds);
        task->set_max_attempts(max_attempts);
      }
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      v1::EnqueueResponse response;
      grpc::Status status = stub_->Enqueue(&context, request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) return ids;
      ids.insert(ids.end(), response.task_ids().begin(), response.task_ids().end());
    }
    return ids;
  }

  v1::Progress Progress() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::Progress progress;
    grpc::Status status = stub_->GetProgress(&context, v1::GetProgressRequest(), &progress);
    if (!status.ok()) progress.set_total(-1);
    return progress;
  }

  bool WaitForCompleted(int64_t n, absl::Duration timeout) {
    return WaitUntil([&] { return Progress().completed() >= n; }, timeout);
  }

  std::optional<v1::GetTaskResponse> GetTask(const std::string& id) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::GetTaskRequest request;
    request.set_task_id(id);
    v1::GetTaskResponse response;
    if (!stub_->GetTask(&context, request, &response).ok()) return std::nullopt;
    return response;
  }

  std::optional<v1::GetResultResponse> GetResult(const std::string& id) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::GetResultRequest request;
    request.set_task_id(id);
    v1::GetResultResponse response;
    if (!stub_->GetResult(&context, request, &response).ok()) return std::nullopt;
    return response;
  }

  // Tasks in progress held by `worker_id`.
  int InProgressOf(const std::string& worker_id) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::ListTasksRequest request;
    request.set_status(v1::TASK_STATUS_IN_PROGRESS);
    request.set_worker_id(worker_id);
    v1::ListTasksResponse response;
    if (!stub_->ListTasks(&context, request, &response).ok()) return -1;
    return response.tasks_size();
  }

  v1::WorkerStatus WorkerStatus(const std::string& worker_id) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::ListWorkersResponse response;
    if (!stub_->ListWorkers(&context, v1::ListWorkersRequest(), &response).ok()) {
      return v1::WORKER_STATUS_UNSPECIFIED;
    }
    for (const v1::WorkerInfo& worker : response.workers()) {
      if (worker.worker_id() == worker_id) return worker.status();
    }
    return v1::WORKER_STATUS_UNSPECIFIED;
  }

  // From the SQLite file itself: result rows per task id.
  std::map<std::string, int> ResultRowsPerTask() {
    std::map<std::string, int> rows;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(db_path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << db_path();
      sqlite3_close(db);
      return rows;
    }
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT CAST(task_id AS TEXT), COUNT(*) FROM results GROUP BY task_id",
                           -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "query results: " << sqlite3_errmsg(db);
    } else {
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        rows[reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))] =
            sqlite3_column_int(stmt, 1);
      }
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return rows;
  }

  // Every id completed, with exactly one result row, per the API and the file.
  void ExpectEachCompletedOnce(const std::vector<std::string>& ids) {
    v1::Progress progress = Progress();
    EXPECT_EQ(progress.completed(), static_cast<int64_t>(ids.size()));
    EXPECT_EQ(progress.failed(), 0);
    std::map<std::string, int> rows = ResultRowsPerTask();
    EXPECT_EQ(rows.size(), ids.size());
    for (const std::string& id : ids) {
      EXPECT_EQ(rows[id], 1) << "task " << id;
    }
  }

  static void ExpectExit(ChildProcess* process, int code, absl::Duration timeout) {
    absl::StatusOr<int> exit = process->Wait(timeout);
    ASSERT_TRUE(exit.ok()) << exit.status() << "\n" << process->ReadLog();
    EXPECT_EQ(*exit, code) << process->ReadLog();
  }

  TempDir dir_;
  std::vector<std::string> server_args_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::SkillStore::Stub> stub_;
};

TEST_F(WorkerProcessTest, ThreeWorkersCompleteFiveHundredTasksExactlyOnce) {
  StartServer();
  std::vector<std::string> ids = Enqueue(500);
  ASSERT_EQ(ids.size(), 500u);
  std::vector<std::unique_ptr<ChildProcess>> workers;
  for (int i = 0; i < 3; ++i) {
    workers.push_back(StartWorker(absl::StrCat("w", i), {"--concurrency", "2",
                                                         "--exit-when-idle", "3"}));
  }
  ASSERT_TRUE(WaitForCompleted(500, absl::Minutes(4))) << Progress().DebugString();
  for (auto& worker : workers) ExpectExit(worker.get(), 0, absl::Seconds(60));
  ExpectEachCompletedOnce(ids);
  // Each result carries the metrics of the worker that produced it.
  auto result = GetResult(ids[0]);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->metrics().task_type(), "parse");
  EXPECT_EQ(result->metrics().worker_id().rfind("w", 0), 0u);
  EXPECT_GT(result->metrics().bytes_in(), 0);
  EXPECT_GT(result->metrics().bytes_out(), 0);
}

// The server's lease limit per worker counts results not yet acknowledged,
// so fast tasks reach it in normal work: the worker waits for its
// acknowledgements and claims again, says so once, and treats it as no
// outage (no "cannot claim" warning).
TEST_F(WorkerProcessTest, TheServersLeaseLimitHoldsBackClaimsQuietly) {
  StartServer({"--max-leases-per-worker", "3"});
  std::vector<std::string> ids = Enqueue(300);
  ASSERT_EQ(ids.size(), 300u);
  auto worker = StartWorker("capped", {"--concurrency", "2", "--exit-when-idle", "3"});
  ASSERT_NE(worker, nullptr);
  ASSERT_TRUE(WaitForCompleted(300, absl::Minutes(3))) << Progress().DebugString();
  ExpectExit(worker.get(), 0, absl::Seconds(60));
  ExpectEachCompletedOnce(ids);
  const std::string log = worker->ReadLog();
  EXPECT_EQ(log.find("cannot claim tasks"), std::string::npos) << log;
  const size_t held_back = log.find("the server holds back claims");
  EXPECT_NE(held_back, std::string::npos) << log;
  EXPECT_EQ(log.find("the server holds back claims", held_back + 1), std::string::npos)
      << "said more than once: " << log;
}

TEST_F(WorkerProcessTest, AKilledWorkersTasksFinishOnTheOthersAfterTheLeaseExpires) {
  StartServer({"--lease-seconds", "2"});
  std::vector<std::string> held = Enqueue(2, /*timeout_seconds=*/600);
  // The victim sleeps 10 minutes per task: it holds both leases until killed.
  auto victim = StartWorker("victim", {"--concurrency", "2", "--debug-task-delay-ms", "600000"});
  ASSERT_TRUE(WaitUntil([&] { return InProgressOf("victim") == 2; }, absl::Seconds(60)))
      << victim->ReadLog();
  std::vector<std::string> rest = Enqueue(20);
  // Idle long enough to still be there when the victim's leases expire.
  auto b = StartWorker("b", {"--concurrency", "2", "--exit-when-idle", "15"});
  auto c = StartWorker("c", {"--concurrency", "2", "--exit-when-idle", "15"});
  victim->Kill();  // kill -9 mid-task

  ASSERT_TRUE(WaitForCompleted(22, absl::Minutes(3))) << Progress().DebugString();
  std::vector<std::string> all = held;
  all.insert(all.end(), rest.begin(), rest.end());
  ExpectEachCompletedOnce(all);
  for (const std::string& id : held) {
    auto task = GetTask(id);
    ASSERT_TRUE(task.has_value());
    ASSERT_GE(task->attempts_size(), 2) << task->DebugString();
    EXPECT_EQ(task->attempts(0).worker_id(), "victim");
    EXPECT_EQ(task->attempts(0).outcome(), v1::ATTEMPT_OUTCOME_LEASE_EXPIRED);
    EXPECT_EQ(task->attempts(task->attempts_size() - 1).outcome(),
              v1::ATTEMPT_OUTCOME_SUCCEEDED);
    auto result = GetResult(id);
    ASSERT_TRUE(result.has_value());
    EXPECT_NE(result->metrics().worker_id(), "victim");
  }
  ExpectExit(b.get(), 0, absl::Seconds(60));
  ExpectExit(c.get(), 0, absl::Seconds(60));
}

TEST_F(WorkerProcessTest, WorkersReconnectAfterTheServerIsKilledAndRestarted) {
  StartServer({"--lease-seconds", "5"});
  std::vector<std::string> ids = Enqueue(300);
  std::vector<std::unique_ptr<ChildProcess>> workers;
  for (int i = 0; i < 3; ++i) {
    // 30 ms per task keeps the run going long enough to kill the server in it.
    workers.push_back(StartWorker(absl::StrCat("r", i), {"--concurrency", "2",
                                                         "--exit-when-idle", "10",
                                                         "--debug-task-delay-ms", "30"}));
  }
  ASSERT_TRUE(WaitForCompleted(50, absl::Minutes(2)));
  server_->process().Kill();  // kill -9 mid-run
  // Wait until the workers noticed, so they really reconnect.
  for (auto& worker : workers) {
    ASSERT_TRUE(worker->WaitForLogLine("retrying with backoff", absl::Seconds(60)).ok())
        << worker->ReadLog();
  }
  RestartServer();
  ASSERT_TRUE(WaitForCompleted(300, absl::Minutes(4))) << Progress().DebugString();
  for (auto& worker : workers) ExpectExit(worker.get(), 0, absl::Seconds(90));
  ExpectEachCompletedOnce(ids);
  for (const std::string& id : ids) {
    auto task = GetTask(id);
    ASSERT_TRUE(task.has_value()) << id;
    ASSERT_GE(task->attempts_size(), 1) << id;
    EXPECT_EQ(task->attempts(task->attempts_size() - 1).outcome(),
              v1::ATTEMPT_OUTCOME_SUCCEEDED)
        << task->DebugString();
  }
  for (auto& worker : workers) {
    EXPECT_TRUE(worker->WaitForLogLine("again", absl::Seconds(1)).ok()) << worker->ReadLog();
  }
}

TEST_F(WorkerProcessTest, SigtermDrainsRunningTasksSubmitsThemAndExitsZero) {
  StartServer();
  std::vector<std::string> ids = Enqueue(4, /*timeout_seconds=*/120);
  // No prefetch: the worker holds exactly the two tasks it runs, so the two
  // others show whether it claims anything after SIGTERM. (Prefetched tasks
  // are held leases too, and a drain finishes them like the running ones.)
  auto worker = StartWorker("drainer", {"--concurrency", "2", "--prefetch", "0",
                                        "--debug-task-delay-ms", "3000", "--log-level", "debug"});
  // Wait until the worker itself runs both (a drain cancels a claim still in
  // flight; such leases just expire, which is not what this test is about).
  for (const std::string& id : {ids[0], ids[1]}) {
    ASSERT_TRUE(
        worker->WaitForLogLine(absl::StrCat("task ", id, " attempt 1: claimed"), absl::Seconds(60))
            .ok())
        << worker->ReadLog();
  }
  worker->Signal(SIGTERM);
  // The server hears that the worker drains (while its tasks still run).
  EXPECT_TRUE(WaitUntil([&] { return WorkerStatus("drainer") == v1::WORKER_STATUS_DRAINING; },
                        absl::Seconds(30)));
  ExpectExit(worker.get(), 0, absl::Seconds(90));
  const std::string log = worker->ReadLog();
  EXPECT_NE(log.find("draining"), std::string::npos) << log;
  v1::Progress progress = Progress();
  EXPECT_EQ(progress.completed(), 2) << progress.DebugString();
  EXPECT_EQ(progress.queued(), 2) << "no claims after SIGTERM: " << progress.DebugString();
  EXPECT_EQ(ResultRowsPerTask().size(), 2u);
  // Its last heartbeat said it stopped: listed as such, not lost later.
  EXPECT_EQ(WorkerStatus("drainer"), v1::WORKER_STATUS_STOPPED);
  EXPECT_EQ(progress.active_workers(), 0);
}

TEST_F(WorkerProcessTest, TellsTheServiceManagerWhenReadyAndWhenDraining) {
  StartServer();
  skillstore::testing::NotifySocket manager(dir_.File("notify.sock"));
  ASSERT_TRUE(manager.ok());
  auto worker = StartWorker("notifier");
  absl::StatusOr<std::string> ready = manager.Receive(absl::Seconds(30));
  ASSERT_TRUE(ready.ok()) << ready.status() << worker->ReadLog();
  EXPECT_EQ(*ready, "READY=1\nSTATUS=claiming from " + server_->address());
  // A reload the moment it is ready neither stops nor drains it.
  worker->Signal(SIGHUP);
  std::vector<std::string> ids = Enqueue(1);
  ASSERT_TRUE(WaitUntil([&] { return Progress().completed() == 1; }, absl::Seconds(60)))
      << worker->ReadLog();
  worker->Signal(SIGTERM);
  absl::StatusOr<std::string> stopping = manager.Receive(absl::Seconds(30));
  ASSERT_TRUE(stopping.ok()) << stopping.status();
  EXPECT_EQ(*stopping, "STOPPING=1");
  ExpectExit(worker.get(), 0, absl::Seconds(60));
}

TEST_F(WorkerProcessTest, ASecondSignalExitsAtOnce) {
  StartServer();
  Enqueue(1, /*timeout_seconds=*/600);
  auto worker = StartWorker("impatient", {"--concurrency", "1", "--debug-task-delay-ms", "600000"});
  ASSERT_TRUE(WaitUntil([&] { return InProgressOf("impatient") == 1; }, absl::Seconds(60)));
  worker->Signal(SIGTERM);
  ASSERT_TRUE(worker->WaitForLogLine("draining", absl::Seconds(30)).ok()) << worker->ReadLog();
  worker->Signal(SIGTERM);
  ExpectExit(worker.get(), 128 + SIGTERM, absl::Seconds(30));
}

TEST_F(WorkerProcessTest, ALateResultAfterTheLeaseWasTakenOverIsRejectedHarmlessly) {
  StartServer({"--lease-seconds", "2"});
  std::vector<std::string> ids = Enqueue(1, /*timeout_seconds=*/120);
  auto sleeper = StartWorker("sleeper", {"--concurrency", "1", "--debug-task-delay-ms", "4000"});
  ASSERT_TRUE(WaitUntil([&] { return InProgressOf("sleeper") == 1; }, absl::Seconds(60)));
  sleeper->Signal(SIGSTOP);  // frozen past its lease: no heartbeats, no result
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto task = GetTask(ids[0]);
        return task && task->attempts_size() >= 1 &&
               task->attempts(0).outcome() == v1::ATTEMPT_OUTCOME_LEASE_EXPIRED;
      },
      absl::Seconds(60)));
  auto rescuer = StartWorker("rescuer", {"--concurrency", "1"});
  ASSERT_TRUE(WaitForCompleted(1, absl::Seconds(60)));
  sleeper->Signal(SIGCONT);
  // The sleeper finds out: its late result is rejected, or a heartbeat tells
  // it first that the lease is lost and it drops the result.
  ASSERT_TRUE(WaitUntil(
      [&] {
        const std::string log = sleeper->ReadLog();
        return log.find("rejected by the server") != std::string::npos ||
               log.find("lost (lease expired)") != std::string::npos;
      },
      absl::Seconds(60)))
      << sleeper->ReadLog();
  EXPECT_TRUE(sleeper->Running());
  ExpectEachCompletedOnce(ids);
  auto result = GetResult(ids[0]);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->metrics().worker_id(), "rescuer");
  // And it goes on working.
  // Leave the next task to the sleeper: freeze the rescuer first. (Should
  // its pending long-poll still get the task, that lease expires too and the
  // sleeper takes the task over.)
  rescuer->Signal(SIGSTOP);
  std::vector<std::string> more = Enqueue(1);
  ASSERT_TRUE(WaitForCompleted(2, absl::Seconds(60)));
  rescuer->Signal(SIGCONT);
  auto next = GetResult(more[0]);
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->metrics().worker_id(), "sleeper");
  sleeper->Signal(SIGTERM);
  rescuer->Signal(SIGTERM);
  ExpectExit(sleeper.get(), 0, absl::Seconds(60));
  ExpectExit(rescuer.get(), 0, absl::Seconds(60));
}

TEST_F(WorkerProcessTest, BadFlagsExitTwoWithAMessage) {
  StartServer();
  auto worker = StartWorker("bad", {"--types", "parse,teleport"});
  ExpectExit(worker.get(), 2, absl::Seconds(30));
  EXPECT_NE(worker->ReadLog().find("teleport"), std::string::npos);
  auto no_root = StartWorker("bad2", {"--skills-root", dir_.File("missing")});
  ExpectExit(no_root.get(), 2, absl::Seconds(30));
}

}  // namespace
}  // namespace skillstore::worker
