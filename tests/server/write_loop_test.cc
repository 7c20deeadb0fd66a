// The write loop and the task writer below the gRPC layer, on a real SQLite
// file: a failing operation in a group commit is rolled back alone while the
// rest of its batch (claims included) commits; RetryTask counts as a retry;
// the reaper's log lines wait for its COMMIT; with a WalSync no answer goes
// out before the sync that covers its commit, and one sync covers every
// commit before it. WalSync::ForWal syncs the database's own WAL file. And
// over real gRPC: several results in one SubmitResult message are each
// judged and acknowledged on their own, in order, and all durable.
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "process.h"
#include "server_test_util.h"
#include "progress.h"
#include "schema.h"
#include "sqlite.h"
#include "task_writer.h"
#include "wal_sync.h"
#include "write_loop.h"

namespace skillstore::server {
namespace {

v1::EnqueueRequest OneTask(const std::string& path) {
  v1::EnqueueRequest request;
  v1::TaskSpec* spec = request.add_tasks();
  spec->set_type(v1::TASK_TYPE_PARSE);
  spec->set_skill_path(path);
  spec->set_content("---\nname: x\ndescription: y\n---\n# X\n");
  return request;
}

using testing::OpenWalDb;
using testing::QueryInt;

class WriteLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = OpenWalDb(dir_.File("store.db"));
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(MigrateSchema(*db_).ok());
    ASSERT_TRUE(progress_.Load(*db_, NowUnixMs()).ok());
    StoreOptions store;
    store.backoff_base_ms = 0;
    absl::StatusOr<std::unique_ptr<TaskWriter>> writer = TaskWriter::Create(*db_, store);
    ASSERT_TRUE(writer.ok()) << writer.status();
    writer_ = *std::move(writer);
  }

  skillstore::testing::TempDir dir_;
  std::unique_ptr<Db> db_;
  ProgressTracker progress_;
  std::unique_ptr<TaskWriter> writer_;
};

// Collects completions from the writer thread.
struct Outcomes {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<absl::Status> statuses;
  int claimed_tasks = -1;

  void Wait(size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] {
      return statuses.size() >= n && claimed_tasks >= 0;
    }));
  }
};

TEST_F(WriteLoopTest, AFailingOperationIsRolledBackAloneAndTheBatchCommits) {
  WriteLoop loop(*db_, *writer_, progress_, WriteLoop::Options{});
  Outcomes outcomes;
  auto done = [&outcomes](size_t index) {
    return [&outcomes, index](const absl::Status& status) {
      std::lock_guard<std::mutex> lock(outcomes.mu);
      if (outcomes.statuses.size() <= index) outcomes.statuses.resize(index + 1);
      outcomes.statuses[index] = status;
      outcomes.cv.notify_all();
    };
  };
  auto enqueue = [](std::string path, bool then_fail) {
    return [path, then_fail](TaskWriter& writer, int64_t now_ms, TxnEffects& effects) {
      absl::StatusOr<v1::EnqueueResponse> response =
          writer.Enqueue(OneTask(path), now_ms, effects);
      if (!response.ok()) return response.status();
      // A failure after the operation has written: its rows must not stay.
      if (then_fail) return absl::InternalError("boom after writing");
      return absl::OkStatus();
    };
  };
  // Queued before Start, so all of it is ONE batch: the fast pass hits the
  // failure, rolls back, and the savepoint pass commits the rest.
  loop.Run(enqueue("a/SKILL.md", false), done(0));
  loop.Run(enqueue("b/SKILL.md", true), done(1));
  loop.Run(enqueue("c/SKILL.md", false), done(2));
  v1::ClaimTaskRequest claim;
  claim.set_worker_id("w1");
  claim.set_max_tasks(1);
  loop.Claim(
      claim, NowUnixMs() + 5000, [] { return false; },
      [&outcomes](absl::StatusOr<v1::ClaimTaskResponse> response) {
        std::lock_guard<std::mutex> lock(outcomes.mu);
        outcomes.claimed_tasks = response.ok() ? response->tasks_size() : 0;
        outcomes.cv.notify_all();
      });
  loop.Start();
  outcomes.Wait(3);
  loop.Stop();

  ASSERT_EQ(outcomes.statuses.size(), 3u);
  EXPECT_TRUE(outcomes.statuses[0].ok()) << outcomes.statuses[0];
  EXPECT_EQ(outcomes.statuses[1].code(), absl::StatusCode::kInternal);
  EXPECT_EQ(outcomes.statuses[1].message(), "boom after writing");
  EXPECT_TRUE(outcomes.statuses[2].ok()) << outcomes.statuses[2];
  EXPECT_EQ(outcomes.claimed_tasks, 1);

  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM tasks"), 2);
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM tasks WHERE skill_path = 'b/SKILL.md'"), 0);
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM task_content"), 2);
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM tasks WHERE status = 'in_progress'"), 1);
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM tasks WHERE fencing_token IS NOT NULL"), 1);
  // The running attempt is the task row: its attempts row comes when it ends.
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM attempts"), 0);
  // The in-memory counts follow only what committed.
  const v1::Progress progress = progress_.Snapshot(NowUnixMs());
  EXPECT_EQ(progress.queued(), 1);
  EXPECT_EQ(progress.in_progress(), 1);
}

TEST_F(WriteLoopTest, RetryTaskCountsAsARetryAndTheReaperLogsAfterCommit) {
  absl::StatusOr<std::unique_ptr<Transaction>> txn = Transaction::Begin(*db_);
  ASSERT_TRUE(txn.ok());
  TxnEffects effects;
  const int64_t now = NowUnixMs();
  ASSERT_TRUE(writer_->Enqueue(OneTask("r/SKILL.md"), now, effects).ok());
  v1::ClaimTaskRequest claim;
  claim.set_worker_id("w1");
  claim.set_max_tasks(1);
  absl::StatusOr<v1::ClaimTaskResponse> claimed = writer_->Claim(claim, now, effects);
  ASSERT_TRUE(claimed.ok() && claimed->tasks_size() == 1);
  const v1::ClaimedTask& task = claimed->tasks(0);

  // A non-retryable failure ends the task failed; RetryTask re-queues it.
  v1::SubmitResultRequest failure;
  failure.set_task_id(task.task_id());
  failure.set_fencing_token(task.lease().fencing_token());
  failure.set_worker_id("w1");
  failure.set_success(false);
  failure.set_error("bad skill");
  ASSERT_TRUE(writer_->Submit(failure, now, effects).ok());
  v1::RetryTaskRequest retry;
  retry.set_task_id(task.task_id());
  TxnEffects retry_effects;
  absl::StatusOr<v1::RetryTaskResponse> retried = writer_->Retry(retry, now, retry_effects);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->retried_count(), 1);
  EXPECT_EQ(retry_effects.events.counts[static_cast<size_t>(TaskEvent::kRetried)]
                                       [v1::TASK_TYPE_PARSE],
            1);

  // Claimed again and left to expire: the reaper re-queues it, and its log
  // line is deferred to after the COMMIT instead of written at once.
  claimed = writer_->Claim(claim, now, effects);
  ASSERT_TRUE(claimed.ok() && claimed->tasks_size() == 1);
  TxnEffects reaped;
  ASSERT_TRUE(writer_->Reap(now + 3600 * 1000, reaped).ok());
  EXPECT_EQ(reaped.events.counts[static_cast<size_t>(TaskEvent::kLeaseExpired)]
                                [v1::TASK_TYPE_PARSE],
            1);
  EXPECT_GE(reaped.after_commit.size(), 1u);
  ASSERT_TRUE((*txn)->Commit().ok());
  for (const auto& log : reaped.after_commit) log();  // what the write loop does after COMMIT
  EXPECT_EQ(QueryInt(*db_, "SELECT COUNT(*) FROM tasks WHERE status = 'queued'"), 1);
}

// A sync the test holds: each call counts itself and returns only when the
// test releases it.
class HeldSync {
 public:
  absl::Status Sync() {
    std::unique_lock<std::mutex> lock(mu_);
    const int mine = ++started_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_ >= mine; });
    return absl::OkStatus();
  }
  void WaitStarted(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(30), [&] { return started_ >= n; }));
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    ++released_;
    cv_.notify_all();
  }
  int started() {
    std::lock_guard<std::mutex> lock(mu_);
    return started_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int started_ = 0;
  int released_ = 0;
};

TEST_F(WriteLoopTest, AnswersWaitForTheSyncThatCoversTheirCommit) {
  HeldSync held;
  WalSync wal_sync([&held] { return held.Sync(); });
  WriteLoop::Options options;
  options.wal_sync = &wal_sync;
  // The reaper's tick commits too: its first comes with a's batch (queued
  // before the start), the next in an hour, so every commit below is known.
  options.tick_ms = 3600 * 1000;
  WriteLoop loop(*db_, *writer_, progress_, options);
  // Another connection watches the commits (the loop's own is its thread's).
  absl::StatusOr<std::unique_ptr<Db>> reader =
      Db::Open(dir_.File("store.db"), Db::Mode::kReadOnly);
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto committed_tasks = [&] { return QueryInt(**reader, "SELECT COUNT(*) FROM tasks"); };
  auto wait_committed = [&](int64_t n) {
    for (int i = 0; i < 3000 && committed_tasks() < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(committed_tasks(), n);
  };

  std::mutex mu;
  std::condition_variable cv;
  std::vector<bool> answered(3, false);
  auto enqueue = [](std::string path) {
    return [path](TaskWriter& writer, int64_t now_ms, TxnEffects& effects) {
      return writer.Enqueue(OneTask(path), now_ms, effects).status();
    };
  };
  auto done = [&](size_t index) {
    return [&, index](const absl::Status& status) {
      EXPECT_TRUE(status.ok()) << status;
      std::lock_guard<std::mutex> lock(mu);
      answered[index] = true;
      cv.notify_all();
    };
  };
  auto is_answered = [&](size_t index) {
    std::lock_guard<std::mutex> lock(mu);
    return answered[index];
  };
  auto wait_answered = [&](size_t index) {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return answered[index]; }));
  };

  loop.Run(enqueue("a/SKILL.md"), done(0));
  loop.Start();
  held.WaitStarted(1);
  wait_committed(1);  // committed and visible: only the sync is missing
  // A read of the server's waits for that sync too, and the progress counts
  // do not show the task yet.
  std::atomic<bool> read_returned{false};
  std::thread reader_thread([&] {
    loop.AwaitDurable();
    read_returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(is_answered(0)) << "answered before the sync of its commit returned";
  EXPECT_FALSE(read_returned) << "a read answered before what it saw was durable";
  EXPECT_EQ(progress_.Snapshot(NowUnixMs()).queued(), 0) << "counted before durable";

  // Two more transactions commit while that sync is held.
  loop.Run(enqueue("b/SKILL.md"), done(1));
  wait_committed(2);
  loop.Run(enqueue("c/SKILL.md"), done(2));
  wait_committed(3);
  EXPECT_FALSE(is_answered(1));
  EXPECT_FALSE(is_answered(2));

  // The held sync began before b and c committed: it answers a alone. The
  // read waited for every commit begun when it asked, a's only.
  held.Release();
  wait_answered(0);
  reader_thread.join();
  EXPECT_TRUE(read_returned);
  EXPECT_EQ(progress_.Snapshot(NowUnixMs()).queued(), 1);
  held.WaitStarted(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(is_answered(1)) << "answered on a sync that began before its commit";
  EXPECT_FALSE(is_answered(2));

  // One sync covers both later commits.
  held.Release();
  wait_answered(1);
  wait_answered(2);
  loop.Stop();
  EXPECT_EQ(held.started(), 2);
  EXPECT_EQ(progress_.Snapshot(NowUnixMs()).queued(), 3);
}

// Descriptors of this process open on `path`.
int OpenDescriptorsOf(const std::string& path) {
  int count = 0;
  DIR* fds = opendir("/proc/self/fd");
  if (fds == nullptr) return -1;
  while (dirent* entry = readdir(fds)) {
    char target[4096];
    const std::string link = std::string("/proc/self/fd/") + entry->d_name;
    const ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
    if (n > 0 && std::string(target, static_cast<size_t>(n)) == path) ++count;
  }
  closedir(fds);
  return count;
}

TEST_F(WriteLoopTest, WalSyncOpensTheDatabasesOwnWalAndSyncsOnlyWhenACommitNeedsIt) {
  const std::string wal = std::filesystem::canonical(dir_.path()).string() + "/store.db-wal";
  const int before = OpenDescriptorsOf(wal);
  ASSERT_GE(before, 1) << "SQLite has no descriptor on " << wal;
  absl::StatusOr<std::unique_ptr<WalSync>> sync = WalSync::ForWal(*db_);
  ASSERT_TRUE(sync.ok()) << sync.status();
  EXPECT_EQ(OpenDescriptorsOf(wal), before + 1);

  auto commit = [&] {
    const uint64_t number = (*sync)->BeginCommit();
    (*sync)->EndCommit(number);
    return number;
  };
  const uint64_t first = commit();
  EXPECT_TRUE((*sync)->WaitDurable(first).has_value());
  EXPECT_FALSE((*sync)->WaitDurable(first).has_value()) << "synced twice for one commit";
  const uint64_t second = commit();
  const uint64_t third = commit();
  EXPECT_TRUE((*sync)->WaitDurable(second).has_value());
  EXPECT_FALSE((*sync)->WaitDurable(third).has_value()) << "the sync after both covers both";
  (*sync)->AwaitDurable(third);  // returns at once: already durable
  sync->reset();
  EXPECT_EQ(OpenDescriptorsOf(wal), before);
}

TEST_F(WriteLoopTest, WalSyncRefusesADatabaseWithoutAWal) {
  absl::StatusOr<std::unique_ptr<Db>> rollback =
      Db::Open(dir_.File("rollback.db"), Db::Mode::kReadWrite);
  ASSERT_TRUE(rollback.ok());
  ASSERT_TRUE((*rollback)->Exec("CREATE TABLE t (x)").ok());
  absl::StatusOr<std::unique_ptr<WalSync>> sync = WalSync::ForWal(**rollback);
  ASSERT_FALSE(sync.ok());
  EXPECT_NE(sync.status().message().find("rollback.db-wal"), absl::string_view::npos)
      << sync.status();
}

TEST(ResultBatchTest, ResultsInOneMessageAreEachJudgedAckedAndStored) {
  using namespace skillstore::server::testing;  // TestServer and its helpers
  TestServer server;
  auto& stub = server.stub();
  EnqueueN(stub, 8);
  v1::ClaimTaskResponse claim = Claim(stub, "w1", 8);
  ASSERT_EQ(claim.tasks_size(), 8);
  EXPECT_TRUE(claim.accepts_result_batches());

  // Message 1: results for tasks 0..2, the second with a token never issued
  // for its task and the third failed (non-retryable). Message 2: tasks 3..7 where task 5
  // nests more_results (task 6, which nests task 7): all three invalid.
  // Each result, however deep, gets its own ack.
  v1::SubmitResultRequest first = Success(claim.tasks(0), "w1", "{\"n\":0}");
  v1::SubmitResultRequest made_up = Success(claim.tasks(1), "w1");
  made_up.set_fencing_token(made_up.fencing_token() + 1000);
  *first.add_more_results() = made_up;
  *first.add_more_results() = Failure(claim.tasks(2), "w1", "bad skill", false);
  v1::SubmitResultRequest second = Success(claim.tasks(3), "w1", "{\"n\":3}");
  *second.add_more_results() = Success(claim.tasks(4), "w1", "{\"n\":4}");
  v1::SubmitResultRequest nested = Success(claim.tasks(5), "w1");
  v1::SubmitResultRequest deeper = Success(claim.tasks(6), "w1");
  *deeper.add_more_results() = Success(claim.tasks(7), "w1");
  *nested.add_more_results() = deeper;
  *second.add_more_results() = nested;

  auto context = Context();
  auto stream = stub.SubmitResult(context.get());
  ASSERT_TRUE(stream->Write(first));
  ASSERT_TRUE(stream->Write(second));
  stream->WritesDone();
  // One ack per result, matched by task id (an invalid result is answered
  // at once, ahead of those waiting for their COMMIT; the stored ones come
  // in the order they were sent).
  std::map<std::string, v1::SubmitResultResponse> by_task;
  std::vector<std::string> order;
  for (int i = 0; i < 8; ++i) {
    v1::SubmitResultResponse ack;
    ASSERT_TRUE(stream->Read(&ack));
    EXPECT_TRUE(by_task.emplace(ack.task_id(), ack).second) << "two acks for " << ack.task_id();
    if (ack.reject_reason() != v1::REJECT_REASON_INVALID) order.push_back(ack.task_id());
  }
  EXPECT_TRUE(stream->Finish().ok());
  ASSERT_EQ(by_task.size(), 8u);
  std::vector<v1::SubmitResultResponse> acks;
  for (int i = 0; i < 8; ++i) acks.push_back(by_task[claim.tasks(i).task_id()]);
  EXPECT_EQ(order, (std::vector<std::string>{claim.tasks(0).task_id(), claim.tasks(2).task_id(),
                                             claim.tasks(3).task_id(), claim.tasks(4).task_id()}));
  EXPECT_TRUE(acks[0].accepted());
  EXPECT_EQ(acks[0].task_status(), v1::TASK_STATUS_COMPLETED);
  EXPECT_FALSE(acks[1].accepted());
  EXPECT_EQ(acks[1].reject_reason(), v1::REJECT_REASON_INVALID);
  EXPECT_EQ(acks[1].task_status(), v1::TASK_STATUS_IN_PROGRESS);
  EXPECT_TRUE(acks[2].accepted());
  EXPECT_EQ(acks[2].task_status(), v1::TASK_STATUS_FAILED);
  EXPECT_TRUE(acks[3].accepted());
  EXPECT_TRUE(acks[4].accepted());
  for (int i = 5; i < 8; ++i) {
    EXPECT_FALSE(acks[i].accepted()) << i;
    EXPECT_EQ(acks[i].reject_reason(), v1::REJECT_REASON_INVALID) << i;
    EXPECT_NE(acks[i].message().find("more_results inside more_results"), std::string::npos)
        << acks[i].message();
  }

  const v1::Progress progress = GetProgress(stub);
  EXPECT_EQ(progress.completed(), 3);
  EXPECT_EQ(progress.failed(), 1);
  EXPECT_EQ(progress.in_progress(), 4);  // the made-up token's and the nested ones
  EXPECT_EQ(GetTask(stub, claim.tasks(4).task_id()).task().status(), v1::TASK_STATUS_COMPLETED);
  // The worker's counts, kept once per batch, agree.
  v1::ListWorkersResponse workers;
  {
    auto list_context = Context();
    ASSERT_TRUE(stub.ListWorkers(list_context.get(), v1::ListWorkersRequest(), &workers).ok());
  }
  ASSERT_EQ(workers.workers_size(), 1);
  EXPECT_EQ(workers.workers(0).tasks_completed(), 3);
  EXPECT_EQ(workers.workers(0).tasks_failed(), 1);
}

}  // namespace
}  // namespace skillstore::server
