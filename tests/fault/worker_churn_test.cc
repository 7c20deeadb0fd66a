// Worker churn: while tasks run, workers are killed with SIGKILL and new ones
// started, at random. Leases of the dead workers expire and their tasks run
// again elsewhere; at the end every task is completed exactly once, no result
// is lost or stored twice, and PRAGMA integrity_check is ok. A worker killed
// and started again under the same --worker-id (as systemd and Kubernetes
// do) gets its old leases back in the queue at once, without waiting for
// them to expire.
#include <gtest/gtest.h>

#include <csignal>
#include <random>

#include "fault_harness.h"

namespace skillstore::fault {
namespace {

using ::skillstore::testing::ServerProcess;
using ::skillstore::testing::TempDir;

constexpr int kTasks = 3000;
constexpr int kWorkers = 4;
constexpr int kChurnEvents = 10;

TEST(WorkerChurnTest, KilledAndStartedWorkersCompleteEveryTaskOnce) {
  TempDir dir;
  const std::string db = dir.File("churn.db");
  auto server = ServerProcess::Start(db, dir.File("server.log"), {"--lease-seconds", "2"});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = (*server)->address();

  Client client(address);
  for (int first = 0; first < kTasks; first += 500) {
    // Room for many attempts: each kill costs the attempts it held.
    auto ids = client.EnqueueWithRetry(TinyParseTasks("churn", first, 500, 50),
                                       absl::Now() + absl::Minutes(1));
    ASSERT_TRUE(ids.ok()) << ids.status();
  }

  int started = 0;
  auto start_worker = [&]() {
    const std::string id = "churn-w" + std::to_string(started++);
    // The delay keeps every worker holding leases when it is killed.
    return StartWorker(address, id, dir.File(id + ".log"),
                       {"--concurrency", "2", "--debug-task-delay-ms", "10"});
  };
  std::vector<std::unique_ptr<ChildProcess>> workers;
  for (int i = 0; i < kWorkers; ++i) {
    auto w = start_worker();
    ASSERT_TRUE(w.ok()) << w.status();
    workers.push_back(std::move(*w));
  }

  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("random seed " + std::to_string(seed));
  std::uniform_int_distribution<int> pause_ms(50, 400);
  std::uniform_int_distribution<size_t> pick(0, kWorkers - 1);
  int kills = 0;
  for (int event = 0; event < kChurnEvents; ++event) {
    absl::SleepFor(absl::Milliseconds(pause_ms(rng)));
    auto p = client.Progress();
    ASSERT_TRUE(p.ok()) << p.status();
    if (p->completed() >= kTasks * 9 / 10) break;  // leave the end to the survivors
    const size_t victim = pick(rng);
    workers[victim]->Kill();
    ++kills;
    auto w = start_worker();
    ASSERT_TRUE(w.ok()) << w.status();
    workers[victim] = std::move(*w);
  }
  EXPECT_GT(kills, 0) << "the run ended before any worker could be killed";

  const absl::Status finished = client.WaitAllFinished(kTasks, absl::Minutes(3));
  ASSERT_TRUE(finished.ok()) << finished;
  auto progress = client.Progress();
  ASSERT_TRUE(progress.ok());
  EXPECT_EQ(progress->completed(), kTasks) << progress->ShortDebugString();
  EXPECT_EQ(StopAndCheckExactlyOnce(workers, (*server)->process(), db, kTasks), "");
}

TEST(WorkerChurnTest, ARestartedWorkerDoesNotWaitForItsOldLeases) {
  constexpr int kRestartTasks = 200;
  TempDir dir;
  const std::string db = dir.File("restart.db");
  // Far longer than the test may take: only the restart can free the leases.
  auto server = ServerProcess::Start(db, dir.File("server.log"), {"--lease-seconds", "300"});
  ASSERT_TRUE(server.ok()) << server.status();
  Client client((*server)->address());
  auto ids = client.EnqueueWithRetry(TinyParseTasks("restart", 0, kRestartTasks, 5),
                                     absl::Now() + absl::Minutes(1));
  ASSERT_TRUE(ids.ok()) << ids.status();

  // A slow run that holds a score of leases, killed mid-run.
  auto first = StartWorker((*server)->address(), "restart-w", dir.File("first.log"),
                           {"--concurrency", "2", "--prefetch", "20", "--debug-task-delay-ms",
                            "500"});
  ASSERT_TRUE(first.ok()) << first.status();
  int64_t held = 0;
  for (int i = 0; i < 600 && held < 10; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    auto p = client.Progress();
    ASSERT_TRUE(p.ok()) << p.status();
    held = p->in_progress();
  }
  ASSERT_GE(held, 10) << "the first run never held its leases";
  (*first)->Kill();

  // The same worker id again: everything finishes within a minute, long
  // before a lease of the killed run could have expired.
  std::vector<std::unique_ptr<ChildProcess>> workers;
  auto second = StartWorker((*server)->address(), "restart-w", dir.File("second.log"),
                            {"--concurrency", "2"});
  ASSERT_TRUE(second.ok()) << second.status();
  workers.push_back(std::move(*second));
  const absl::Status finished = client.WaitAllFinished(kRestartTasks, absl::Minutes(1));
  ASSERT_TRUE(finished.ok()) << finished;

  // The killed run's attempts ended as lease_expired, saying why.
  int restarted_attempts = 0;
  for (const std::string& id : *ids) {
    auto task = client.GetTask(id);
    ASSERT_TRUE(task.ok()) << task.status();
    for (const v1::Attempt& attempt : task->attempts()) {
      if (attempt.error().find("restarted") == std::string::npos) continue;
      EXPECT_EQ(attempt.outcome(), v1::ATTEMPT_OUTCOME_LEASE_EXPIRED);
      ++restarted_attempts;
    }
  }
  EXPECT_GE(restarted_attempts, 1);
  EXPECT_EQ(StopAndCheckExactlyOnce(workers, (*server)->process(), db, kRestartTasks), "");
}

}  // namespace
}  // namespace skillstore::fault
