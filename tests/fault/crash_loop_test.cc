// Crash loop: 5,000 tasks, 4 workers, and the server kill -9'ed and restarted
// on the same port and database three times at random moments (the producer
// may still be enqueueing). At the end every task is completed exactly once,
// no result is lost or stored twice, and the SQLite file passes
// PRAGMA integrity_check.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <csignal>
#include <random>
#include <thread>

#include "fault_harness.h"

namespace skillstore::fault {
namespace {

using ::skillstore::testing::ServerProcess;
using ::skillstore::testing::TempDir;

constexpr int kTasks = 5000;
constexpr int kWorkers = 4;
constexpr int kKills = 3;

TEST(CrashLoopTest, ServerKilledThreeTimesLosesNothingAndDuplicatesNothing) {
  TempDir dir;
  const std::string db = dir.File("crash.db");
  const std::vector<std::string> server_args = {"--lease-seconds", "3"};
  auto server = ServerProcess::Start(db, dir.File("server.log"), server_args);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  const std::string address = (*server)->address();

  std::vector<std::unique_ptr<ChildProcess>> workers;
  for (int i = 0; i < kWorkers; ++i) {
    // A small per-task delay keeps tasks in flight long enough for the kills
    // to land mid-run on any machine.
    auto w = StartWorker(address, "crash-w" + std::to_string(i),
                         dir.File("worker-" + std::to_string(i) + ".log"),
                         {"--concurrency", "2", "--debug-task-delay-ms", "2"});
    ASSERT_TRUE(w.ok()) << w.status();
    workers.push_back(std::move(*w));
  }

  // The producer enqueues in batches with idempotency keys and retries
  // through the restarts: an Enqueue cut by a kill is sent again, and a batch
  // that had been committed is not enqueued twice.
  Client client(address);
  std::atomic<bool> producer_ok{true};
  std::string producer_error;
  std::thread producer([&] {
    const absl::Time deadline = absl::Now() + absl::Minutes(3);
    for (int first = 0; first < kTasks; first += 100) {
      auto ids = client.EnqueueWithRetry(TinyParseTasks("crash", first, 100, 20), deadline);
      if (!ids.ok()) {
        producer_error = ids.status().ToString();
        producer_ok = false;
        return;
      }
    }
  });

  // Kill at random points of the run: when `completed` passes a random
  // fraction, after a random extra delay.
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("random seed " + std::to_string(seed));
  std::vector<double> fractions;
  std::uniform_real_distribution<double> fraction(0.0, 0.8);
  for (int i = 0; i < kKills; ++i) fractions.push_back(fraction(rng));
  std::sort(fractions.begin(), fractions.end());
  std::uniform_int_distribution<int> extra_ms(0, 300);

  for (int kill = 0; kill < kKills; ++kill) {
    const int64_t threshold = static_cast<int64_t>(fractions[kill] * kTasks);
    const absl::Time deadline = absl::Now() + absl::Minutes(2);
    for (;;) {
      auto p = client.Progress();
      if (p.ok() && p->completed() >= threshold) {
        std::cout << "kill " << kill + 1 << " at " << p->ShortDebugString() << "\n";
        break;
      }
      ASSERT_LT(absl::Now(), deadline) << "no progress to " << threshold << " completed";
      absl::SleepFor(absl::Milliseconds(5));
    }
    absl::SleepFor(absl::Milliseconds(extra_ms(rng)));
    (*server)->process().Kill();
    absl::SleepFor(absl::Milliseconds(extra_ms(rng)));
    server = ServerProcess::Start(db, dir.File("server.log"), server_args, port);
    ASSERT_TRUE(server.ok()) << "restart " << kill + 1 << ": " << server.status();
  }

  producer.join();
  ASSERT_TRUE(producer_ok) << producer_error;
  const absl::Status finished = client.WaitAllFinished(kTasks, absl::Minutes(3));
  ASSERT_TRUE(finished.ok()) << finished;
  auto progress = client.Progress();
  ASSERT_TRUE(progress.ok());
  EXPECT_EQ(progress->total(), kTasks);
  EXPECT_EQ(progress->completed(), kTasks) << progress->ShortDebugString();

  EXPECT_EQ(StopAndCheckExactlyOnce(workers, (*server)->process(), db, kTasks), "");
}

}  // namespace
}  // namespace skillstore::fault
