// The worker's loop (skillstore::worker::Worker, in process) against
// FakeServer: every task answered once, results resent after a server
// restart, drain, permanent refusal, cancellation, timeouts, malformed input.
// Real gRPC on loopback; only the server is a stand-in.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "fake_server.h"
#include "gtest/gtest.h"
#include "process.h"
#include "worker.h"

namespace skillstore::worker {
namespace {

using testing::FakeServer;

constexpr char kSkill[] = R"(---
name: loop-test
description: A tiny skill for the worker loop tests.
---
# Loop test

## Instructions
- Read the input file.
- Always validate the output before writing it.
)";

WorkerOptions BaseOptions(const FakeServer& server) {
  WorkerOptions o;
  o.server = server.address();
  o.concurrency = 2;
  o.worker_id = "loop-test-worker";
  o.hostname = "localhost";
  o.drain_timeout = absl::Seconds(60);
  return o;
}

// Runs a Worker on its own thread.
class RunningWorker {
 public:
  explicit RunningWorker(WorkerOptions options)
      : worker_(std::make_unique<Worker>(options, std::nullopt, MakeWorkerChannel(options.server))) {
    result_ = std::async(std::launch::async, [this] { return worker_->Run(); });
  }
  Worker& worker() { return *worker_; }
  // The status Run returned, or DeadlineExceeded if it is still running.
  absl::Status Wait(absl::Duration timeout) {
    if (result_.wait_for(absl::ToChronoNanoseconds(timeout)) != std::future_status::ready) {
      return absl::DeadlineExceededError("worker still running");
    }
    return result_.get();
  }
  ~RunningWorker() {
    worker_->RequestDrain();
    if (result_.valid()) result_.wait();
    // An abandoned engine thread logs when its call returns; the binary must
    // not reach its static destructors before that.
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    while (worker_->abandoned_threads_running() > 0 && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(5));
    }
  }

 private:
  std::unique_ptr<Worker> worker_;
  std::future<absl::Status> result_;
};

TEST(WorkerLoopTest, AnswersEveryTaskOnceAndExitsWhenIdle) {
  FakeServer server;
  server.Start();
  server.AddTasks(200, kSkill);
  WorkerOptions options = BaseOptions(server);
  options.concurrency = 3;
  options.exit_when_idle = absl::Seconds(1);
  RunningWorker worker(options);
  EXPECT_TRUE(worker.Wait(absl::Seconds(120)).ok());
  auto results = server.results();
  EXPECT_EQ(results.size(), 200u);
  for (const auto& [id, stored] : results) EXPECT_EQ(stored.size(), 1u) << id;
  EXPECT_EQ(server.rejected(), 0);
}

// Short tasks are claimed many per round trip: the auto prefetch grows with
// the measured task time, and a claim waits until half the slots are free
// instead of going out for every finished task.
TEST(WorkerLoopTest, ShortTasksAreClaimedInBatches) {
  FakeServer server;
  server.Start();
  server.AddTasks(400, kSkill);
  WorkerOptions options = BaseOptions(server);
  options.concurrency = 1;
  options.prefetch = 1;  // what the command line sets without --prefetch
  options.prefetch_auto = true;
  options.exit_when_idle = absl::Seconds(1);
  RunningWorker worker(options);
  EXPECT_TRUE(worker.Wait(absl::Seconds(120)).ok());
  EXPECT_EQ(server.results().size(), 400u);
  // A static prefetch of 1 holds two tasks: ~200 claims for 400 tasks.
  EXPECT_LT(server.claims_with_tasks(), 50) << "claims did not come in batches";
  EXPECT_GT(server.max_claim_request(), 16) << "the auto prefetch did not grow";
}

// An explicit --prefetch is kept as given: never more than
// concurrency + prefetch tasks asked for at once.
TEST(WorkerLoopTest, AnExplicitPrefetchIsNotAdapted) {
  FakeServer server;
  server.Start();
  server.AddTasks(60, kSkill);
  WorkerOptions options = BaseOptions(server);
  options.concurrency = 1;
  options.prefetch = 2;
  options.prefetch_auto = false;
  options.exit_when_idle = absl::Seconds(1);
  RunningWorker worker(options);
  EXPECT_TRUE(worker.Wait(absl::Seconds(120)).ok());
  EXPECT_EQ(server.results().size(), 60u);
  EXPECT_LE(server.max_claim_request(), 3);
}

TEST(WorkerLoopTest, ResendsResultsAfterTheServerRestarts) {
  FakeServer server;
  server.Start();
  server.AddTasks(40, kSkill);
  WorkerOptions options = BaseOptions(server);
  options.exit_when_idle = absl::Seconds(2);
  options.debug_task_delay = absl::Milliseconds(50);
  // Every task claimed at once, before the restart: a claim answer the
  // restart cut off would leave its tasks leased in this fake for good (a
  // real server re-queues them when the lease expires), and the subject
  // here is the results, not the claims.
  options.prefetch = 40;
  options.prefetch_auto = false;
  RunningWorker worker(options);
  ASSERT_TRUE(server.WaitForLeased(40, absl::Seconds(60)));
  ASSERT_TRUE(server.WaitForResults(5, absl::Seconds(60)));
  server.Restart();  // breaks the stream and the long-poll mid-run
  ASSERT_TRUE(server.WaitForResults(40, absl::Seconds(120)));
  EXPECT_TRUE(worker.Wait(absl::Seconds(60)).ok());
  for (const auto& [id, stored] : server.results()) EXPECT_EQ(stored.size(), 1u) << id;
}

TEST(WorkerLoopTest, DrainFinishesRunningTasksAndClaimsNoMore) {
  FakeServer server;
  server.Start();
  server.AddTasks(4, kSkill);
  WorkerOptions options = BaseOptions(server);
  options.debug_task_delay = absl::Milliseconds(1500);
  RunningWorker worker(options);
  // Wait until the worker runs both (not just until the server leased them:
  // a drain cancels a claim still in flight, and those leases just expire).
  ASSERT_TRUE(server.WaitForHeartbeatLeases(2, absl::Seconds(60)));
  worker.worker().RequestDrain();
  EXPECT_TRUE(worker.Wait(absl::Seconds(60)).ok());
  EXPECT_EQ(server.results().size(), 2u);  // the two running ones, no new claims
  EXPECT_TRUE(server.saw_draining_heartbeat());
}

TEST(WorkerLoopTest, PermanentRefusalStopsTheWorkerWithAReason) {
  FakeServer server;
  server.Start();
  server.RefuseWith(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "bad token"));
  RunningWorker worker(BaseOptions(server));
  absl::Status status = worker.Wait(absl::Seconds(60));
  EXPECT_TRUE(absl::IsUnauthenticated(status)) << status;
  EXPECT_NE(status.message().find("bad token"), std::string_view::npos);
}

TEST(WorkerLoopTest, ACancelledTaskIsDroppedAndNotSubmitted) {
  FakeServer server;
  server.Start();
  std::vector<std::string> ids = server.AddTasks(1, kSkill);
  WorkerOptions options = BaseOptions(server);
  options.concurrency = 1;
  options.debug_task_delay = absl::Milliseconds(2500);
  RunningWorker worker(options);
  ASSERT_TRUE(server.WaitForLeased(1, absl::Seconds(60)));
  server.MarkCancelled(ids[0]);
  std::vector<std::string> later = server.AddTasks(1, kSkill);
  ASSERT_TRUE(server.WaitForResults(1, absl::Seconds(60)));
  auto results = server.results();
  EXPECT_EQ(results.count(ids[0]), 0u);
  EXPECT_EQ(results.count(later[0]), 1u);
  EXPECT_EQ(server.submissions(), 1);  // the cancelled one never went out
}

TEST(WorkerLoopTest, ATaskPastItsTimeoutIsReportedRetryableAndTheWorkerGoesOn) {
  FakeServer server;
  server.Start();
  std::vector<std::string> slow = server.AddTasks(1, kSkill, /*timeout_seconds=*/1);
  WorkerOptions options = BaseOptions(server);
  options.concurrency = 1;
  options.debug_task_delay = absl::Seconds(3);
  options.exit_when_idle = absl::Seconds(1);
  RunningWorker worker(options);
  ASSERT_TRUE(server.WaitForResults(1, absl::Seconds(60)));
  std::vector<std::string> next = server.AddTasks(1, kSkill, /*timeout_seconds=*/60);
  ASSERT_TRUE(server.WaitForResults(2, absl::Seconds(60)));
  auto results = server.results();
  ASSERT_EQ(results[slow[0]].size(), 1u);
  const FakeServer::Stored& timed_out = results[slow[0]][0];
  EXPECT_FALSE(timed_out.success);
  EXPECT_TRUE(timed_out.retryable);
  EXPECT_NE(timed_out.error.find("timeout"), std::string::npos) << timed_out.error;
  ASSERT_EQ(results[next[0]].size(), 1u);
  EXPECT_EQ(worker.worker().abandoned_threads(), 1);
  EXPECT_FALSE(worker.worker().stuck_threads_exit());  // one is under the default limit
}

TEST(WorkerLoopTest, TooManyStuckEngineThreadsDrainTheWorkerForARestart) {
  FakeServer server;
  server.Start();
  std::vector<std::string> slow = server.AddTasks(1, kSkill, /*timeout_seconds=*/1);
  WorkerOptions options = BaseOptions(server);
  options.concurrency = 1;
  options.debug_task_delay = absl::Seconds(3);  // runs past its timeout
  options.max_abandoned_threads = 1;
  RunningWorker worker(options);
  // It exits by itself (no idle exit is set): the drain ends Run.
  EXPECT_TRUE(worker.Wait(absl::Seconds(60)).ok());
  EXPECT_TRUE(worker.worker().stuck_threads_exit());
  auto results = server.results();
  ASSERT_EQ(results[slow[0]].size(), 1u);  // the timeout was still reported
  EXPECT_TRUE(results[slow[0]][0].retryable);
}

TEST(WorkerLoopTest, AMalformedSkillFailsItsTaskNotTheWorker) {
  FakeServer server;
  server.Start();
  std::vector<std::string> bad = server.AddTasks(1, std::string("\xff\xfe\x00 BAD binary", 16));
  std::vector<std::string> good = server.AddTasks(1, kSkill);
  WorkerOptions options = BaseOptions(server);
  options.exit_when_idle = absl::Seconds(1);
  RunningWorker worker(options);
  EXPECT_TRUE(worker.Wait(absl::Seconds(60)).ok());
  auto results = server.results();
  ASSERT_EQ(results[bad[0]].size(), 1u);
  EXPECT_FALSE(results[bad[0]][0].success);
  EXPECT_FALSE(results[bad[0]][0].retryable);
  EXPECT_FALSE(results[bad[0]][0].error.empty());
  ASSERT_EQ(results[good[0]].size(), 1u);
}

TEST(WorkerLoopTest, MaxTasksStopsClaimingAndExitsCleanly) {
  FakeServer server;
  server.Start();
  server.AddTasks(20, kSkill);
  WorkerOptions options = BaseOptions(server);
  options.max_tasks = 5;
  RunningWorker worker(options);
  EXPECT_TRUE(worker.Wait(absl::Seconds(60)).ok());
  EXPECT_EQ(server.results().size(), 5u);
}

TEST(WorkerLoopTest, TasksWithoutContentAreReadFromTheSkillsRootOnly) {
  FakeServer server;
  server.Start();
  ::skillstore::testing::TempDir dir;
  std::filesystem::create_directories(dir.File("root/a"));
  std::ofstream(dir.File("root/a/SKILL.md")) << kSkill;
  std::ofstream(dir.File("outside.md")) << kSkill;
  const std::string inside = server.AddTaskWithPath("a/SKILL.md", std::nullopt);
  const std::string escape = server.AddTaskWithPath("../outside.md", std::nullopt);
  const std::string absolute = server.AddTaskWithPath(dir.File("outside.md"), std::nullopt);
  const std::string missing = server.AddTaskWithPath("a/missing.md", std::nullopt);
  // Content sent empty (an empty file enqueued) is that content, not a cue
  // to read the file of the same name from the worker's disk.
  const std::string empty = server.AddTaskWithPath("a/SKILL.md", "");
  WorkerOptions options = BaseOptions(server);
  options.exit_when_idle = absl::Seconds(1);
  auto root = SkillsRoot::Open(dir.File("root"));
  ASSERT_TRUE(root.ok()) << root.status();
  Worker worker(options, *root, MakeWorkerChannel(options.server));
  EXPECT_TRUE(worker.Run().ok());
  auto results = server.results();
  ASSERT_EQ(results[inside].size(), 1u);
  EXPECT_TRUE(results[inside][0].success) << results[inside][0].error;
  for (const std::string& id : {escape, absolute}) {
    ASSERT_EQ(results[id].size(), 1u);
    EXPECT_FALSE(results[id][0].success);
    EXPECT_FALSE(results[id][0].retryable);
    EXPECT_NE(results[id][0].error.find("skills-root"), std::string::npos) << results[id][0].error;
  }
  ASSERT_EQ(results[missing].size(), 1u);
  EXPECT_FALSE(results[missing][0].success);
  EXPECT_TRUE(results[missing][0].retryable);  // another worker may have the file
  ASSERT_EQ(results[empty].size(), 1u);
  EXPECT_FALSE(results[empty][0].success);
  EXPECT_FALSE(results[empty][0].retryable);
  EXPECT_NE(results[empty][0].error.find("input is empty"), std::string::npos)
      << results[empty][0].error;
}

// GET http://127.0.0.1:port/path; the whole response, headers included.
std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
    (void)!write(fd, request.data(), request.size());
    char buffer[4096];
    ssize_t n;
    while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
  }
  close(fd);
  return response;
}

TEST(WorkerLoopTest, ServesPrometheusMetrics) {
  FakeServer server;
  server.Start();
  server.AddTasks(10, kSkill);
  server.AddTasks(1, std::string("\xff\xfe\x00 BAD binary", 16));
  WorkerOptions options = BaseOptions(server);
  options.metrics_listen = "127.0.0.1:0";
  RunningWorker worker(options);
  ASSERT_TRUE(server.WaitForResults(11, absl::Seconds(60)));
  ASSERT_NE(worker.worker().metrics_port(), 0);
  // The last acknowledgement may still be on its way to the counters.
  std::string metrics;
  for (int i = 0; i < 100; ++i) {
    metrics = HttpGet(worker.worker().metrics_port(), "/metrics");
    if (metrics.find("skill_worker_results_acked_total{result=\"accepted\"} 11") !=
        std::string::npos) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(metrics.rfind("HTTP/1.1 200 OK", 0), 0u) << metrics;
  EXPECT_NE(metrics.find("skill_worker_concurrency 2\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("skill_worker_tasks_processed_total{type=\"parse\",outcome=\"succeeded\"} 10\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("skill_worker_tasks_processed_total{type=\"parse\",outcome=\"failed\"} 1\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("skill_worker_task_duration_seconds_count{type=\"parse\"} 11\n"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("skill_worker_results_acked_total{result=\"accepted\"} 11\n"),
            std::string::npos)
      << metrics;
  EXPECT_EQ(HttpGet(worker.worker().metrics_port(), "/nope").rfind("HTTP/1.1 404", 0), 0u);
}

}  // namespace
}  // namespace skillstore::worker
