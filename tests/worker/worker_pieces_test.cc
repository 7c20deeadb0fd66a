// Unit tests of the worker's pieces: backoff, lease tracker, result buffer,
// skills-root confinement, executor pool timeouts, flags.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "absl/synchronization/notification.h"
#include "backoff.h"
#include "executor_pool.h"
#include "gtest/gtest.h"
#include "lease_tracker.h"
#include "options.h"
#include "process.h"
#include "result_buffer.h"
#include "skills_root.h"

namespace skillstore::worker {
namespace {

using skillstore::v1::SubmitResultRequest;

TEST(BackoffTest, GrowsWithJitterUpToTheCapAndResets) {
  Backoff backoff(absl::Milliseconds(100), absl::Seconds(1));
  absl::Duration d1 = backoff.Next();
  EXPECT_GE(d1, absl::Milliseconds(50));
  EXPECT_LE(d1, absl::Milliseconds(101));
  absl::Duration d2 = backoff.Next();
  EXPECT_GE(d2, absl::Milliseconds(100));
  EXPECT_LE(d2, absl::Milliseconds(201));
  for (int i = 0; i < 20; ++i) {
    absl::Duration d = backoff.Next();
    EXPECT_LE(d, absl::Milliseconds(1001));
    // From the 4th delay on the base is at the 1 s cap: at least half of it.
    if (i >= 2) EXPECT_GE(d, absl::Milliseconds(499));
  }
  EXPECT_EQ(backoff.failures(), 22);
  backoff.Reset();
  EXPECT_EQ(backoff.failures(), 0);
  EXPECT_LE(backoff.Next(), absl::Milliseconds(101));
}

TEST(LeaseTrackerTest, OperationsNameTheLeaseNotJustTheTask) {
  LeaseTracker tracker;
  tracker.Add("7", 100, 1);
  EXPECT_TRUE(tracker.Holds("7", 100));
  EXPECT_FALSE(tracker.MarkFinished("7", 99));  // an older lease's event
  EXPECT_FALSE(tracker.Remove("7", 99).has_value());
  // The task comes back under a newer lease: the old token no longer matches.
  tracker.Add("7", 101, 2);
  EXPECT_FALSE(tracker.Holds("7", 100));
  EXPECT_TRUE(tracker.MarkFinished("7", 101));
  auto snapshot = tracker.Snapshot();
  ASSERT_EQ(snapshot.size(), 1u);
  EXPECT_EQ(snapshot[0].fencing_token, 101);
  EXPECT_TRUE(snapshot[0].finished);
  auto removed = tracker.Remove("7", 101);
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(removed->attempt, 2);
  EXPECT_EQ(tracker.size(), 0u);
}

SubmitResultRequest MakeResult(const std::string& id, int64_t token) {
  SubmitResultRequest r;
  r.set_task_id(id);
  r.set_fencing_token(token);
  r.set_success(true);
  r.set_result_json("{}");
  return r;
}

// The task ids of lent results, in order.
std::vector<std::string> Ids(const ResultBuffer::Lent& lent) {
  std::vector<std::string> ids;
  for (const auto& result : lent.results) ids.push_back(result.task_id());
  return ids;
}

TEST(ResultBufferTest, AcksMatchByLeaseAndBrokenStreamsResendInOrder) {
  ResultBuffer buffer(3);
  buffer.Add(MakeResult("1", 10));
  buffer.Add(MakeResult("2", 20));
  buffer.Add(MakeResult("3", 30));
  EXPECT_TRUE(buffer.Full());
  ResultBuffer::Lent lent = buffer.Lend(absl::Now(), 2);
  EXPECT_EQ(Ids(lent), (std::vector<std::string>{"1", "2"}));
  buffer.Return(std::move(lent));
  EXPECT_EQ(buffer.in_flight(), 2u);
  // An ack for another lease of task 2 matches nothing.
  EXPECT_FALSE(buffer.Acknowledge("2", 21).has_value());
  std::optional<ResultBuffer::Acked> acked = buffer.Acknowledge("2", 20);
  ASSERT_TRUE(acked.has_value());
  EXPECT_EQ(acked->task_id, "2");
  EXPECT_TRUE(acked->success);
  EXPECT_FALSE(buffer.Full());
  // The stream breaks: "1" goes back in front of the never-sent "3", whole.
  EXPECT_TRUE(buffer.RequeueInFlight(false, 5).empty());
  EXPECT_EQ(buffer.in_flight(), 0u);
  lent = buffer.Lend(absl::Now(), 10);
  EXPECT_EQ(Ids(lent), (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(lent.results[0].result_json(), "{}");
  buffer.Return(std::move(lent));
  EXPECT_TRUE(buffer.Lend(absl::Now(), 10).results.empty());
}

TEST(ResultBufferTest, AnAckWhileTheResultIsLentDropsItOnReturn) {
  ResultBuffer buffer(10);
  buffer.Add(MakeResult("1", 10));
  buffer.Add(MakeResult("2", 20));
  ResultBuffer::Lent lent = buffer.Lend(absl::Now(), 10);
  // The server may answer before the writer's Write call returns.
  ASSERT_TRUE(buffer.Acknowledge("1", 10).has_value());
  EXPECT_FALSE(buffer.Acknowledge("1", 10).has_value());  // once only
  EXPECT_EQ(buffer.size(), 1u);
  EXPECT_EQ(buffer.in_flight(), 1u);
  buffer.Return(std::move(lent));
  EXPECT_EQ(buffer.size(), 1u);
  // Only "2" is left to resend, with its content.
  EXPECT_TRUE(buffer.RequeueInFlight(false, 5).empty());
  lent = buffer.Lend(absl::Now(), 10);
  EXPECT_EQ(Ids(lent), (std::vector<std::string>{"2"}));
  EXPECT_EQ(lent.results[0].result_json(), "{}");
  buffer.Return(std::move(lent));
  ASSERT_TRUE(buffer.Acknowledge("2", 20).has_value());
  EXPECT_TRUE(buffer.empty());
}

TEST(ResultBufferTest, AResultRefusedTooOftenIsHandedBack) {
  ResultBuffer buffer(10);
  buffer.Add(MakeResult("1", 10));
  for (int i = 0; i < 2; ++i) {
    ResultBuffer::Lent lent = buffer.Lend(absl::Now(), 10);
    ASSERT_EQ(lent.results.size(), 1u);
    buffer.Return(std::move(lent));
    EXPECT_TRUE(buffer.RequeueInFlight(true, 3).empty());
  }
  buffer.Return(buffer.Lend(absl::Now(), 10));
  auto poisoned = buffer.RequeueInFlight(true, 3);
  ASSERT_EQ(poisoned.size(), 1u);
  EXPECT_EQ(poisoned[0].task_id(), "1");
  EXPECT_TRUE(buffer.empty());
}

TEST(ResultBufferTest, DiscardsOnlyPendingResults) {
  ResultBuffer buffer(10);
  buffer.Add(MakeResult("1", 10));
  buffer.Add(MakeResult("2", 20));
  buffer.Return(buffer.Lend(absl::Now(), 1));
  EXPECT_FALSE(buffer.DiscardPending("1", 10));  // in flight: the server decides
  EXPECT_TRUE(buffer.DiscardPending("2", 20));
  EXPECT_EQ(buffer.size(), 1u);
}

class SkillsRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.File("root");
    std::filesystem::create_directories(root_ + "/a");
    std::ofstream(root_ + "/a/SKILL.md") << "inside";
    std::ofstream(dir_.File("secret.md")) << "outside";
    std::filesystem::create_symlink(dir_.File("secret.md"), root_ + "/escape.md");
    std::filesystem::create_symlink(root_ + "/a/SKILL.md", root_ + "/inner_link.md");
    std::filesystem::create_directory_symlink(dir_.path(), root_ + "/up");
  }
  testing::TempDir dir_;
  std::string root_;
};

TEST_F(SkillsRootTest, ReadsInsideTheRootOnly) {
  auto root = SkillsRoot::Open(root_);
  ASSERT_TRUE(root.ok()) << root.status();
  auto inside = root->Read("a/SKILL.md", 1024);
  ASSERT_TRUE(inside.ok()) << inside.status();
  EXPECT_EQ(*inside, "inside");
  auto link_inside = root->Read("inner_link.md", 1024);
  ASSERT_TRUE(link_inside.ok()) << link_inside.status();
  EXPECT_EQ(*link_inside, "inside");

  EXPECT_TRUE(absl::IsPermissionDenied(root->Read("../secret.md", 1024).status()));
  EXPECT_TRUE(absl::IsPermissionDenied(root->Read("a/../../secret.md", 1024).status()));
  EXPECT_TRUE(absl::IsPermissionDenied(root->Read(dir_.File("secret.md"), 1024).status()));
  EXPECT_TRUE(absl::IsPermissionDenied(root->Read("escape.md", 1024).status()));
  EXPECT_TRUE(absl::IsPermissionDenied(root->Read("up/secret.md", 1024).status()));
  EXPECT_TRUE(absl::IsNotFound(root->Read("a/missing.md", 1024).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(root->Read("a", 1024).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(root->Read("", 1024).status()));
  EXPECT_TRUE(absl::IsResourceExhausted(root->Read("a/SKILL.md", 3).status()));
}

TEST_F(SkillsRootTest, AFifoIsRefusedWithoutWaitingForAWriter) {
  ASSERT_EQ(mkfifo((root_ + "/a/pipe.md").c_str(), 0600), 0);
  auto root = SkillsRoot::Open(root_);
  ASSERT_TRUE(root.ok()) << root.status();
  // Opening a FIFO for reading blocks until a writer comes: none will.
  auto read = std::async(std::launch::async, [&] { return root->Read("a/pipe.md", 1024); });
  if (read.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    const int writer = open((root_ + "/a/pipe.md").c_str(), O_WRONLY);  // lets Read return
    close(writer);
    FAIL() << "Read blocked on the FIFO";
  }
  absl::StatusOr<std::string> content = read.get();
  EXPECT_TRUE(absl::IsInvalidArgument(content.status())) << content.status();
  EXPECT_NE(content.status().message().find("is not a regular file"), std::string::npos);
}

TEST_F(SkillsRootTest, RefusesAMissingRoot) {
  EXPECT_FALSE(SkillsRoot::Open(dir_.File("nope")).ok());
  EXPECT_FALSE(SkillsRoot::Open(dir_.File("secret.md")).ok());
}

ExecutorPool::Job MakeJob(std::string name, absl::Duration timeout,
                          std::function<SubmitResultRequest()> run,
                          std::function<void(SubmitResultRequest)> done) {
  ExecutorPool::Job job;
  job.name = std::move(name);
  job.timeout = timeout;
  job.run = std::move(run);
  job.on_timeout = [](absl::Duration) {
    SubmitResultRequest r;
    r.set_success(false);
    r.set_error("timeout");
    return r;
  };
  job.done = std::move(done);
  return job;
}

TEST(ExecutorPoolTest, RunsJobsInParallel) {
  ExecutorPool pool(2);
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  std::promise<void> all_done;
  std::atomic<int> done{0};
  absl::Notification both_in;
  for (int i = 0; i < 2; ++i) {
    pool.Submit(MakeJob(
        "job", absl::Seconds(60),
        [&] {
          int now = ++inside;
          if (now == 2) both_in.Notify();
          // Both jobs must be inside at once for either to finish.
          both_in.WaitForNotificationWithTimeout(absl::Seconds(30));
          int seen = max_inside.load();
          while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
          }
          --inside;
          return MakeResult("x", 1);
        },
        [&](SubmitResultRequest) {
          if (++done == 2) all_done.set_value();
        }));
  }
  ASSERT_EQ(all_done.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_EQ(max_inside.load(), 2);
}

TEST(ExecutorPoolTest, ABatchOfJobsWakesAThreadPerJobAndRunsEachOnce) {
  ExecutorPool pool(2);
  std::atomic<int> inside{0};
  absl::Notification both_in;
  std::atomic<int> runs{0};
  std::promise<void> all_done;
  std::atomic<int> done{0};
  std::vector<ExecutorPool::Job> jobs;
  for (int i = 0; i < 4; ++i) {
    jobs.push_back(MakeJob(
        "job", absl::Seconds(60),
        [&] {
          ++runs;
          // The first two jobs only finish when both threads run one: the
          // batch must have woken both, not one.
          if (++inside == 2) both_in.Notify();
          EXPECT_TRUE(both_in.WaitForNotificationWithTimeout(absl::Seconds(30)));
          return MakeResult("x", 1);
        },
        [&](SubmitResultRequest) {
          if (++done == 4) all_done.set_value();
        }));
  }
  pool.Submit(std::move(jobs));
  ASSERT_EQ(all_done.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_EQ(runs.load(), 4);
}

TEST(ExecutorPoolTest, ATimedOutJobFreesItsSlotAndReportsOnce) {
  ExecutorPool pool(1);
  auto release = std::make_shared<absl::Notification>();
  std::promise<SubmitResultRequest> stuck_outcome;
  std::promise<SubmitResultRequest> next_outcome;
  std::atomic<int> stuck_deliveries{0};
  pool.Submit(MakeJob(
      "stuck", absl::Milliseconds(200),
      [release] {
        release->WaitForNotificationWithTimeout(absl::Seconds(60));
        return MakeResult("stuck", 1);
      },
      [&](SubmitResultRequest r) {
        if (++stuck_deliveries == 1) stuck_outcome.set_value(std::move(r));
      }));
  // The pool has one thread; this job only runs because the stuck one is
  // abandoned and replaced.
  pool.Submit(MakeJob(
      "next", absl::Seconds(60), [] { return MakeResult("next", 2); },
      [&](SubmitResultRequest r) { next_outcome.set_value(std::move(r)); }));
  auto stuck = stuck_outcome.get_future();
  ASSERT_EQ(stuck.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_EQ(stuck.get().error(), "timeout");
  auto next = next_outcome.get_future();
  ASSERT_EQ(next.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_EQ(next.get().task_id(), "next");
  EXPECT_EQ(pool.abandoned(), 1);
  EXPECT_EQ(pool.abandoned_still_running(), 1);
  release->Notify();  // the abandoned call returns; its result is discarded
  pool.Shutdown(absl::Now() + absl::Seconds(30));
  // The detached thread logs as it ends; the test binary's exit must not run
  // static destructors under it (CI once caught a crash at exit here).
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (pool.abandoned_still_running() > 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(pool.abandoned_still_running(), 0);
  EXPECT_EQ(stuck_deliveries.load(), 1);
}

TEST(ExecutorPoolTest, AThrowingRunnerDoesNotKillThePool) {
  ExecutorPool pool(1);
  std::promise<void> ok;
  pool.Submit(MakeJob(
      "throws", absl::Seconds(60),
      []() -> SubmitResultRequest { throw std::runtime_error("boom"); },
      [](SubmitResultRequest) {}));
  pool.Submit(MakeJob(
      "fine", absl::Seconds(60), [] { return MakeResult("ok", 1); },
      [&](SubmitResultRequest) { ok.set_value(); }));
  EXPECT_EQ(ok.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready);
}

ParsedFlags Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "skill-worker");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  return ParseFlags(static_cast<int>(argv.size()), argv.data());
}

TEST(FlagsTest, DefaultsAndChecks) {
  ParsedFlags defaults = Parse({});
  ASSERT_FALSE(defaults.exit_code.has_value());
  EXPECT_EQ(defaults.options.server, "127.0.0.1:50051");
  EXPECT_GE(defaults.options.concurrency, 1);
  EXPECT_TRUE(defaults.options.types.empty());
  EXPECT_EQ(defaults.options.worker_id,
            defaults.options.hostname + "-" + std::to_string(getpid()));
  EXPECT_EQ(defaults.options.exit_when_idle, absl::InfiniteDuration());

  ParsedFlags some = Parse({"--types", "parse,analyze", "--concurrency", "3",
                            "--exit-when-idle", "1.5", "--worker-id", "w1"});
  ASSERT_FALSE(some.exit_code.has_value());
  EXPECT_EQ(some.options.types.size(), 2u);
  EXPECT_EQ(some.options.concurrency, 3);
  EXPECT_EQ(some.options.exit_when_idle, absl::Milliseconds(1500));
  EXPECT_EQ(some.options.worker_id, "w1");

  EXPECT_EQ(Parse({"--types", "parse,bogus"}).exit_code, kExitUsage);
  EXPECT_EQ(Parse({"--concurrency", "0"}).exit_code, kExitUsage);
  EXPECT_EQ(Parse({"--no-such-flag"}).exit_code, kExitUsage);
  EXPECT_EQ(Parse({"--exit-when-idle", "0"}).exit_code, kExitUsage);
  EXPECT_EQ(Parse({"--log-level", "loud"}).exit_code, kExitUsage);

  // Durations take a unit; whole-second flags refuse fractions.
  ParsedFlags units = Parse({"--exit-when-idle", "2m", "--drain-timeout", "500ms",
                             "--default-task-timeout", "1h", "--claim-wait", "1m"});
  ASSERT_FALSE(units.exit_code.has_value());
  EXPECT_EQ(units.options.exit_when_idle, absl::Minutes(2));
  EXPECT_EQ(units.options.drain_timeout, absl::Milliseconds(500));
  EXPECT_EQ(units.options.default_task_timeout, absl::Hours(1));
  EXPECT_EQ(units.options.claim_wait_seconds, 60);
  EXPECT_EQ(Parse({"--claim-wait", "1500ms"}).exit_code, kExitUsage);
  EXPECT_EQ(Parse({"--claim-wait", "6m"}).exit_code, kExitUsage);  // past its 300 s range
  EXPECT_EQ(Parse({"--exit-when-idle", "3x"}).exit_code, kExitUsage);
}

}  // namespace
}  // namespace skillstore::worker
