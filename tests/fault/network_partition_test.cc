// Network partition: the server and three workers, each in its own network
// namespace joined by veth pairs. One worker is cut off mid-run (its link
// goes down: packets vanish, nothing is refused). Its leases expire and its
// tasks finish on the other two while it is still cut off; then the link is
// healed, the worker submits the results it finished meanwhile, and the
// server rejects them as stale. Every task is completed exactly once.
//
// Needs root and network namespaces; skips with a message otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>

#include "absl/strings/str_cat.h"
#include "fault_harness.h"
#include "netns.h"

namespace skillstore::fault {
namespace {

using ::skillstore::testing::BinaryPath;
using ::skillstore::testing::TempDir;

constexpr int kTasks = 300;
constexpr int kPort = 50777;  // inside the hub namespace: nothing else listens there
constexpr int kCutWorker = 1;

TEST(NetworkPartitionTest, CutOffWorkerLosesItsLeasesAndItsLateResultsAreRejected) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root for ip netns (running as uid " << geteuid() << ")";
  NetnsStar net(3);
  if (absl::Status s = net.Create(); !s.ok()) {
    GTEST_SKIP() << "network namespaces are not available here: " << s;
  }

  TempDir dir;
  const std::string db = dir.File("partition.db");
  std::vector<std::string> server_argv = net.ExecPrefix(net.hub());
  for (const std::string& a :
       {BinaryPath("skillstore-server"), std::string("--listen"), absl::StrCat("0.0.0.0:", kPort),
        // Workers reach it from other namespaces, over no real network.
        std::string("--insecure"),
        std::string("--db"), db, std::string("--lease-seconds"), std::string("2")}) {
    server_argv.push_back(a);
  }
  auto server = ChildProcess::Start(server_argv, dir.File("server.log"));
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->WaitForLogLine("listening on", absl::Seconds(30)).ok())
      << (*server)->ReadLog();

  Client client(absl::StrCat(net.HubAddressFromRoot(), ":", kPort));
  auto ids = client.EnqueueWithRetry(TinyParseTasks("partition", 0, kTasks, 10),
                                     absl::Now() + absl::Seconds(30));
  ASSERT_TRUE(ids.ok()) << ids.status();

  std::vector<std::unique_ptr<ChildProcess>> workers(4);
  for (int i = 1; i <= 3; ++i) {
    // 100 ms per task: the cut worker always holds leases and has results
    // finishing while it is cut off.
    auto w = StartWorker(absl::StrCat(net.HubAddressFromLeaf(i), ":", kPort),
                         absl::StrCat("partition-w", i), dir.File(absl::StrCat("w", i, ".log")),
                         {"--concurrency", "2", "--debug-task-delay-ms", "100"},
                         net.ExecPrefix(net.leaf(i)));
    ASSERT_TRUE(w.ok()) << w.status();
    workers[i] = std::move(*w);
  }

  // Cut worker 1 off once the run is well under way and it has done work.
  const absl::Time deadline = absl::Now() + absl::Minutes(2);
  for (;;) {
    auto p = client.Progress();
    if (p.ok() && p->completed() >= kTasks / 5) break;
    ASSERT_LT(absl::Now(), deadline) << "the run did not get going";
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(net.Cut(kCutWorker).ok());

  // While it is cut off, the other two finish everything, including the
  // tasks it held (after their leases expire).
  const absl::Status finished = client.WaitAllFinished(kTasks, absl::Minutes(2));
  ASSERT_TRUE(finished.ok()) << finished;
  auto progress = client.Progress();
  ASSERT_TRUE(progress.ok());
  EXPECT_EQ(progress->completed(), kTasks) << progress->ShortDebugString();

  // Heal: the worker comes back and submits what it finished meanwhile;
  // the server turns those results away (their leases are gone).
  ASSERT_TRUE(net.Heal(kCutWorker).ok());
  auto rejected = workers[kCutWorker]->WaitForLogLine("rejected by the server", absl::Seconds(90));
  EXPECT_TRUE(rejected.ok()) << "the healed worker's late results were not rejected: "
                             << rejected.status() << "\n"
                             << workers[kCutWorker]->ReadLog();

  progress = client.Progress();
  ASSERT_TRUE(progress.ok());
  EXPECT_EQ(progress->completed(), kTasks) << "counts changed after the heal";
  EXPECT_EQ(StopAndCheckExactlyOnce(workers, **server, db, kTasks), "");
  // The cut worker's leases ended as expired in the attempt history.
  std::string out;
  RunCommand(absl::StrCat("sqlite3 ", db,
                   " \"SELECT count(*) FROM attempts WHERE worker_id = 'partition-w1' AND "
                   "outcome = 'lease_expired'\""),
      &out);
  EXPECT_GT(std::atoi(out.c_str()), 0) << "no lease of the cut worker expired: " << out;
}

}  // namespace
}  // namespace skillstore::fault
