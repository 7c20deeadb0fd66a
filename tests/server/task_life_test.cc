// The life of tasks through the real gRPC API of an in-process server:
// every state, leases, retries, cancellation, listings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <iostream>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "server_test_util.h"

namespace skillstore::server::testing {
namespace {

TEST(TaskLife, QueuedToCompletedWithResultAndAttempt) {
  TestServer server;
  auto& stub = server.stub();
  const std::vector<std::string> ids = EnqueueN(stub, 1, v1::TASK_TYPE_ANALYZE);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(GetTask(stub, ids[0]).task().status(), v1::TASK_STATUS_QUEUED);
  EXPECT_EQ(GetProgress(stub).queued(), 1);

  v1::ClaimTaskResponse claim = Claim(stub, "w1");
  ASSERT_EQ(claim.tasks_size(), 1);
  const v1::ClaimedTask& task = claim.tasks(0);
  EXPECT_EQ(task.task_id(), ids[0]);
  EXPECT_EQ(task.type(), v1::TASK_TYPE_ANALYZE);
  EXPECT_FALSE(task.content().empty());
  EXPECT_EQ(task.lease().attempt(), 1);
  EXPECT_GT(task.lease().fencing_token(), 0);
  EXPECT_GT(task.lease().deadline_unix_ms(), 0);
  EXPECT_GT(claim.heartbeat_interval_seconds(), 0);

  v1::GetTaskResponse running = GetTask(stub, ids[0]);
  EXPECT_EQ(running.task().status(), v1::TASK_STATUS_IN_PROGRESS);
  EXPECT_EQ(running.task().worker_id(), "w1");
  // The running attempt (it has no attempts row until it ends).
  ASSERT_EQ(running.attempts_size(), 1);
  EXPECT_EQ(running.attempts(0).outcome(), v1::ATTEMPT_OUTCOME_RUNNING);
  EXPECT_EQ(running.attempts(0).fencing_token(), task.lease().fencing_token());
  EXPECT_EQ(running.attempts(0).attempt(), 1);
  EXPECT_EQ(running.attempts(0).worker_id(), "w1");
  EXPECT_GT(running.attempts(0).started_at_unix_ms(), 0);
  EXPECT_EQ(GetProgress(stub).in_progress(), 1);

  v1::SubmitResultResponse ack = Submit(stub, Success(task, "w1", "{\"answer\":42}"));
  EXPECT_TRUE(ack.accepted()) << ack.message();
  EXPECT_EQ(ack.task_status(), v1::TASK_STATUS_COMPLETED);

  v1::GetTaskResponse done = GetTask(stub, ids[0]);
  EXPECT_EQ(done.task().status(), v1::TASK_STATUS_COMPLETED);
  EXPECT_GT(done.task().completed_at_unix_ms(), 0);
  ASSERT_EQ(done.attempts_size(), 1);
  EXPECT_EQ(done.attempts(0).outcome(), v1::ATTEMPT_OUTCOME_SUCCEEDED);
  EXPECT_EQ(done.attempts(0).worker_id(), "w1");
  EXPECT_EQ(done.attempts(0).fencing_token(), task.lease().fencing_token());
  EXPECT_EQ(done.attempts(0).started_at_unix_ms(), running.attempts(0).started_at_unix_ms());
  EXPECT_GE(done.attempts(0).ended_at_unix_ms(), done.attempts(0).started_at_unix_ms());
  EXPECT_EQ(done.attempts(0).ended_at_unix_ms(), done.task().completed_at_unix_ms());

  v1::GetResultRequest get;
  get.set_task_id(ids[0]);
  v1::GetResultResponse result;
  ASSERT_TRUE(stub.GetResult(Context().get(), get, &result).ok());
  EXPECT_EQ(result.result_json(), "{\"answer\":42}");
  EXPECT_EQ(result.metrics().worker_id(), "w1");
  EXPECT_EQ(result.metrics().task_type(), "analyze");
  EXPECT_DOUBLE_EQ(result.metrics().duration_seconds(), 0.25);

  v1::Progress progress = GetProgress(stub);
  EXPECT_EQ(progress.total(), 1);
  EXPECT_EQ(progress.completed(), 1);
  EXPECT_EQ(progress.queued() + progress.in_progress(), 0);
  EXPECT_GT(progress.tasks_per_second(), 0);
  EXPECT_EQ(progress.eta_seconds(), 0);  // nothing left
  EXPECT_EQ(progress.active_workers(), 1);
  EXPECT_GT(progress.timestamp_unix_ms(), 0);

  // The same lease submitting again is answered, not stored twice; another
  // result under it is refused.
  EXPECT_TRUE(Submit(stub, Success(task, "w1", "{\"answer\":42}")).accepted());
  const v1::SubmitResultResponse other = Submit(stub, Success(task, "w1", "{\"other\":1}"));
  EXPECT_FALSE(other.accepted());
  EXPECT_EQ(other.reject_reason(), v1::REJECT_REASON_INVALID);
  ASSERT_TRUE(stub.GetResult(Context().get(), get, &result).ok());
  EXPECT_EQ(result.result_json(), "{\"answer\":42}");
}

TEST(TaskLife, NonRetryableFailureFailsAtOnceWithError) {
  TestServer server;
  auto& stub = server.stub();
  const auto ids = EnqueueN(stub, 1);
  v1::ClaimTaskResponse claim = Claim(stub, "w1");
  ASSERT_EQ(claim.tasks_size(), 1);
  v1::SubmitResultResponse ack =
      Submit(stub, Failure(claim.tasks(0), "w1", "broken YAML at line 3", false));
  EXPECT_TRUE(ack.accepted());
  EXPECT_EQ(ack.task_status(), v1::TASK_STATUS_FAILED);
  v1::GetTaskResponse task = GetTask(stub, ids[0]);
  EXPECT_EQ(task.task().status(), v1::TASK_STATUS_FAILED);
  EXPECT_EQ(task.task().last_error(), "broken YAML at line 3");
  v1::GetResultRequest get;
  get.set_task_id(ids[0]);
  v1::GetResultResponse result;
  ASSERT_TRUE(stub.GetResult(Context().get(), get, &result).ok());
  EXPECT_EQ(result.error(), "broken YAML at line 3");
  EXPECT_EQ(GetProgress(stub).failed(), 1);
}

TEST(TaskLife, RetryableFailureBacksOffThenDeadLetters) {
  TestServer server;
  auto& stub = server.stub();
  v1::TaskSpec spec = Spec(v1::TASK_TYPE_PARSE, "flaky");
  spec.set_max_attempts(3);
  const auto ids = Enqueue(stub, {spec});
  for (int attempt = 1; attempt <= 3; ++attempt) {
    v1::ClaimTaskResponse claim = Claim(stub, "w1", 1, /*wait_seconds=*/20);
    ASSERT_EQ(claim.tasks_size(), 1) << "attempt " << attempt;
    EXPECT_EQ(claim.tasks(0).lease().attempt(), attempt);
    v1::SubmitResultResponse ack =
        Submit(stub, Failure(claim.tasks(0), "w1", "timeout " + std::to_string(attempt), true));
    EXPECT_TRUE(ack.accepted());
    v1::GetTaskResponse task = GetTask(stub, ids[0]);
    if (attempt < 3) {
      EXPECT_EQ(ack.task_status(), v1::TASK_STATUS_QUEUED);
      EXPECT_GT(task.task().not_before_unix_ms(), 0);  // backoff
    } else {
      EXPECT_EQ(ack.task_status(), v1::TASK_STATUS_FAILED);
      EXPECT_EQ(task.task().last_error(), "timeout 3");
      ASSERT_EQ(task.attempts_size(), 3);
      for (const auto& a : task.attempts()) EXPECT_EQ(a.outcome(), v1::ATTEMPT_OUTCOME_FAILED);
    }
  }
  // Dead letter: nothing left to claim.
  EXPECT_EQ(Claim(stub, "w1", 1, 0).tasks_size(), 0);
}

TEST(TaskLife, BackoffDelaysTheNextClaim) {
  ServerOptions options = TestServer::DefaultOptions();
  options.store.backoff_base_ms = 60000;  // far longer than this test
  TestServer server(options);
  auto& stub = server.stub();
  EnqueueN(stub, 1);
  v1::ClaimTaskResponse claim = Claim(stub, "w1");
  ASSERT_EQ(claim.tasks_size(), 1);
  ASSERT_EQ(Submit(stub, Failure(claim.tasks(0), "w1", "transient", true)).task_status(),
            v1::TASK_STATUS_QUEUED);
  EXPECT_EQ(Claim(stub, "w1", 1, 0).tasks_size(), 0);
}

TEST(TaskLife, LongPollWakesOnEnqueue) {
  TestServer server;
  auto& stub = server.stub();
  auto waiting =
      std::async(std::launch::async, [&] { return Claim(stub, "w1", 1, /*wait_seconds=*/30); });
  // Let the claim reach the server and wait there.
  ASSERT_EQ(waiting.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  const absl::Time enqueued_at = absl::Now();
  const auto ids = EnqueueN(stub, 1);
  v1::ClaimTaskResponse claim = waiting.get();
  ASSERT_EQ(claim.tasks_size(), 1);
  EXPECT_EQ(claim.tasks(0).task_id(), ids[0]);
  // Woken by the enqueue, not by the 30 s bound (generous for a loaded machine).
  EXPECT_LT(absl::Now() - enqueued_at, absl::Seconds(15));
}

// A claim whose answer does not reach its worker gives the task back at
// once, not after --lease-seconds (30 s here). The worker gives up its
// long-poll (a shutdown, a deadline) just as a task arrives: when the task
// is leased to the call before the cancel lands, the answer goes nowhere,
// and gRPC reports the call cancelled. The race is timing, so the rounds
// sweep the moment of the cancel across the enqueue's commit. A cancel that
// lands after the answer left the server is the client's alone (the server
// cannot know); such a task waits for its lease as before.
TEST(TaskLife, AClaimAnswerThatDoesNotArriveGivesItsTaskBack) {
  TestServer server;
  auto& stub = server.stub();
  int released = 0;     // leased to the cancelled call, then given back
  int sent_anyway = 0;  // the answer left the server; the client dropped it
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    grpc::ClientContext context;
    v1::ClaimTaskRequest request;
    request.set_worker_id(absl::StrCat("w-leaving-", round));
    request.set_max_tasks(1);
    request.set_wait_seconds(10);
    v1::ClaimTaskResponse claimed;
    auto waiting =
        std::async(std::launch::async, [&] { return stub.ClaimTask(&context, request, &claimed); });
    absl::SleepFor(absl::Milliseconds(50));  // the long-poll waits at the server
    auto enqueued = std::async(std::launch::async, [&] { return EnqueueN(stub, 1); });
    absl::SleepFor(absl::Microseconds(500 * (round % 8)));
    context.TryCancel();
    const grpc::Status status = waiting.get();
    const std::vector<std::string> ids = enqueued.get();
    ASSERT_EQ(ids.size(), 1u);
    if (status.ok() && claimed.tasks_size() == 1) {
      // The answer arrived before the cancel: the task is the worker's.
      ASSERT_TRUE(
          Submit(stub, Success(claimed.tasks(0), absl::StrCat("w-leaving-", round))).accepted());
      continue;
    }
    v1::GetTaskResponse task;
    // A lease given back is given back within milliseconds.
    for (absl::Time until = absl::Now() + absl::Seconds(1.5); absl::Now() < until;) {
      task = GetTask(stub, ids[0]);
      if (task.task().status() != v1::TASK_STATUS_IN_PROGRESS) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
    if (task.task().status() == v1::TASK_STATUS_IN_PROGRESS) {
      ++sent_anyway;
      continue;
    }
    ASSERT_EQ(task.task().status(), v1::TASK_STATUS_QUEUED) << task.DebugString();
    if (task.attempts_size() > 0) {
      ++released;
      EXPECT_EQ(task.attempts(0).outcome(), v1::ATTEMPT_OUTCOME_LEASE_EXPIRED);
      EXPECT_NE(task.attempts(0).error().find("did not reach the worker"), std::string::npos)
          << task.attempts(0).error();
    }
    // Taken and finished by another worker, so the next round starts empty.
    const v1::ClaimTaskResponse other = Claim(stub, "w-other", 1, /*wait_seconds=*/5);
    ASSERT_EQ(other.tasks_size(), 1);
    ASSERT_TRUE(Submit(stub, Success(other.tasks(0), "w-other")).accepted());
  }
  std::cout << "of " << kRounds << " rounds, " << released
            << " leased a task to a call cancelled meanwhile, " << sent_anyway
            << " answered a call the client had just cancelled\n";
  EXPECT_GT(released, 0) << "no round leased a task to a cancelled call";
}

TEST(TaskLife, LongPollAnswersEmptyAtItsBound) {
  TestServer server;
  v1::ClaimTaskResponse claim = Claim(server.stub(), "w1", 1, /*wait_seconds=*/1);
  EXPECT_EQ(claim.tasks_size(), 0);
}

TEST(TaskLife, LongPollOnlyTakesTasksOfItsTypes) {
  TestServer server;
  auto& stub = server.stub();
  auto waiting = std::async(std::launch::async,
                            [&] { return Claim(stub, "w1", 1, 30, {v1::TASK_TYPE_VALIDATE}); });
  ASSERT_EQ(waiting.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  EnqueueN(stub, 2, v1::TASK_TYPE_PARSE);
  const auto validate = EnqueueN(stub, 1, v1::TASK_TYPE_VALIDATE);
  v1::ClaimTaskResponse claim = waiting.get();
  ASSERT_EQ(claim.tasks_size(), 1);
  EXPECT_EQ(claim.tasks(0).task_id(), validate[0]);
}

TEST(TaskLife, ExpiredLeaseIsRequeuedAndTheStaleResultRejected) {
  ServerOptions options = TestServer::DefaultOptions();
  options.store.lease_seconds = 1;
  options.write_loop.tick_ms = 50;
  TestServer server(options);
  auto& stub = server.stub();
  const auto ids = EnqueueN(stub, 1);
  v1::ClaimTaskResponse first = Claim(stub, "slow-worker");
  ASSERT_EQ(first.tasks_size(), 1);

  // The lease runs out; the reaper puts the task back, the next claim gets it.
  v1::ClaimTaskResponse second = Claim(stub, "fast-worker", 1, /*wait_seconds=*/20);
  ASSERT_EQ(second.tasks_size(), 1);
  EXPECT_EQ(second.tasks(0).task_id(), ids[0]);
  EXPECT_EQ(second.tasks(0).lease().attempt(), 2);
  EXPECT_GT(second.tasks(0).lease().fencing_token(), first.tasks(0).lease().fencing_token());

  // The first worker's heartbeat learns that its lease is gone.
  v1::HeartbeatRequest beat;
  beat.set_worker_id("slow-worker");
  auto* held = beat.add_leases();
  held->set_task_id(ids[0]);
  held->set_fencing_token(first.tasks(0).lease().fencing_token());
  v1::HeartbeatResponse beat_response;
  ASSERT_TRUE(stub.Heartbeat(Context().get(), beat, &beat_response).ok());
  ASSERT_EQ(beat_response.lost_task_ids_size(), 1);
  EXPECT_EQ(beat_response.lost_task_ids(0), ids[0]);

  v1::SubmitResultResponse stale =
      Submit(stub, Success(first.tasks(0), "slow-worker", "{\"v\":1}"));
  EXPECT_FALSE(stale.accepted());
  EXPECT_EQ(stale.reject_reason(), v1::REJECT_REASON_STALE_LEASE);
  EXPECT_FALSE(stale.message().empty());

  v1::SubmitResultResponse fresh =
      Submit(stub, Success(second.tasks(0), "fast-worker", "{\"v\":2}"));
  EXPECT_TRUE(fresh.accepted()) << fresh.message();

  // The late result of the first lease is still refused after completion.
  EXPECT_FALSE(Submit(stub, Success(first.tasks(0), "slow-worker", "{\"v\":1}")).accepted());
  v1::GetResultRequest get;
  get.set_task_id(ids[0]);
  v1::GetResultResponse result;
  ASSERT_TRUE(stub.GetResult(Context().get(), get, &result).ok());
  EXPECT_EQ(result.result_json(), "{\"v\":2}");

  v1::GetTaskResponse task = GetTask(stub, ids[0]);
  ASSERT_EQ(task.attempts_size(), 2);
  EXPECT_EQ(task.attempts(0).outcome(), v1::ATTEMPT_OUTCOME_LEASE_EXPIRED);
  EXPECT_EQ(task.attempts(1).outcome(), v1::ATTEMPT_OUTCOME_SUCCEEDED);
}

// A claim of worker_id with the given run (instance_id).
v1::ClaimTaskResponse ClaimAs(v1::SkillStore::Stub& stub, const std::string& worker_id,
                              const std::string& instance_id, int max_tasks) {
  v1::ClaimTaskRequest request;
  request.set_worker_id(worker_id);
  request.set_instance_id(instance_id);
  request.set_max_tasks(max_tasks);
  v1::ClaimTaskResponse response;
  const grpc::Status status = stub.ClaimTask(Context().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

TEST(TaskLife, ARestartedWorkersOldLeasesEndAtOnce) {
  ServerOptions options = TestServer::DefaultOptions();
  options.store.lease_seconds = 600;  // nothing here may wait for a deadline
  TestServer server(options);
  auto& stub = server.stub();
  const auto ids = EnqueueN(stub, 4);

  // Run "a" of worker w leases two tasks, and is then restarted as run "b".
  v1::ClaimTaskResponse first = ClaimAs(stub, "w", "a", 2);
  ASSERT_EQ(first.tasks_size(), 2);
  // The same run claiming again, or a request that names no run, ends nothing.
  ASSERT_EQ(ClaimAs(stub, "w", "a", 1).tasks_size(), 1);
  ASSERT_EQ(ClaimAs(stub, "w", "", 1).tasks_size(), 1);
  EXPECT_EQ(GetProgress(stub).in_progress(), 4);

  // Run b's first request ends all four of run a's leases before it is served:
  // the tasks are queued again (behind their retry backoff), not leased to b.
  EXPECT_EQ(ClaimAs(stub, "w", "b", 4).tasks_size(), 0);
  v1::Progress progress = GetProgress(stub);
  EXPECT_EQ(progress.in_progress(), 0);
  EXPECT_EQ(progress.queued(), 4);
  v1::GetTaskResponse task = GetTask(stub, first.tasks(0).task_id());
  EXPECT_EQ(task.task().status(), v1::TASK_STATUS_QUEUED);
  ASSERT_EQ(task.attempts_size(), 1);
  EXPECT_EQ(task.attempts(0).outcome(), v1::ATTEMPT_OUTCOME_LEASE_EXPIRED);
  EXPECT_NE(task.attempts(0).error().find("restarted"), std::string::npos)
      << task.attempts(0).error();

  // Run a's late result is refused; run b gets the tasks once their backoff
  // has passed, as attempt 2, and completes them.
  EXPECT_FALSE(Submit(stub, Success(first.tasks(0), "w")).accepted());
  int completed = 0;
  for (int round = 0; round < 100 && completed < 4; ++round) {
    v1::ClaimTaskRequest request;
    request.set_worker_id("w");
    request.set_instance_id("b");
    request.set_max_tasks(4);
    request.set_wait_seconds(5);
    v1::ClaimTaskResponse claim;
    ASSERT_TRUE(stub.ClaimTask(Context().get(), request, &claim).ok());
    for (const v1::ClaimedTask& t : claim.tasks()) {
      EXPECT_EQ(t.lease().attempt(), 2);
      ASSERT_TRUE(Submit(stub, Success(t, "w")).accepted());
      ++completed;
    }
  }
  EXPECT_EQ(completed, 4);

  // A heartbeat names its run too: run c ends b's leases the same way.
  EnqueueN(stub, 1);
  v1::ClaimTaskResponse held = ClaimAs(stub, "w", "b", 1);
  ASSERT_EQ(held.tasks_size(), 1);
  v1::HeartbeatRequest beat;
  beat.set_worker_id("w");
  beat.set_instance_id("c");
  v1::HeartbeatResponse response;
  ASSERT_TRUE(stub.Heartbeat(Context().get(), beat, &response).ok());
  EXPECT_EQ(GetTask(stub, held.tasks(0).task_id()).task().status(), v1::TASK_STATUS_QUEUED);
  EXPECT_EQ(GetProgress(stub).in_progress(), 0);
}

TEST(TaskLife, ExpiredLeaseOnLastAttemptFailsTheTask) {
  ServerOptions options = TestServer::DefaultOptions();
  options.store.lease_seconds = 1;
  options.write_loop.tick_ms = 50;
  TestServer server(options);
  auto& stub = server.stub();
  v1::TaskSpec spec = Spec(v1::TASK_TYPE_PARSE, "once");
  spec.set_max_attempts(1);
  const auto ids = Enqueue(stub, {spec});
  ASSERT_EQ(Claim(stub, "w1").tasks_size(), 1);
  ASSERT_TRUE(
      WaitFor([&] { return GetTask(stub, ids[0]).task().status() == v1::TASK_STATUS_FAILED; }));
  EXPECT_NE(GetTask(stub, ids[0]).task().last_error().find("lease expired"), std::string::npos);
}

// A lease that runs out while its worker heartbeats without naming it: the
// error says so, not that the worker went silent.
TEST(TaskLife, AnUnnamedLeaseOfAHeartbeatingWorkerExpiresAndSaysWhy) {
  ServerOptions options = TestServer::DefaultOptions();
  options.store.lease_seconds = 1;
  options.write_loop.tick_ms = 50;
  TestServer server(options);
  auto& stub = server.stub();
  const auto ids = EnqueueN(stub, 1);
  ASSERT_EQ(Claim(stub, "forgetful").tasks_size(), 1);
  v1::HeartbeatRequest beat;
  beat.set_worker_id("forgetful");
  ASSERT_TRUE(WaitFor([&] {
    v1::HeartbeatResponse response;
    EXPECT_TRUE(stub.Heartbeat(Context().get(), beat, &response).ok());
    return GetTask(stub, ids[0]).task().status() == v1::TASK_STATUS_QUEUED;
  }));
  const v1::GetTaskResponse task = GetTask(stub, ids[0]);
  ASSERT_EQ(task.attempts_size(), 1);
  EXPECT_NE(task.attempts(0).error().find("heartbeats but did not name this lease"),
            std::string::npos)
      << task.attempts(0).error();
}

TEST(TaskLife, HeartbeatExtendsLeases) {
  ServerOptions options = TestServer::DefaultOptions();
  options.store.lease_seconds = 3;
  options.write_loop.tick_ms = 50;
  TestServer server(options);
  auto& stub = server.stub();
  const auto ids = EnqueueN(stub, 1);
  v1::ClaimTaskResponse claim = Claim(stub, "w1");
  ASSERT_EQ(claim.tasks_size(), 1);
  // Heartbeat well within each lease for more than two lease periods.
  for (int i = 0; i < 24; ++i) {
    v1::HeartbeatRequest beat;
    beat.set_worker_id("w1");
    auto* held = beat.add_leases();
    held->set_task_id(ids[0]);
    held->set_fencing_token(claim.tasks(0).lease().fencing_token());
    v1::HeartbeatResponse response;
    ASSERT_TRUE(stub.Heartbeat(Context().get(), beat, &response).ok());
    ASSERT_EQ(response.lost_task_ids_size(), 0) << "lease lost at heartbeat " << i;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  EXPECT_TRUE(Submit(stub, Success(claim.tasks(0), "w1")).accepted());

  v1::ListWorkersResponse workers;
  ASSERT_TRUE(stub.ListWorkers(Context().get(), v1::ListWorkersRequest(), &workers).ok());
  ASSERT_EQ(workers.workers_size(), 1);
  EXPECT_EQ(workers.workers(0).worker_id(), "w1");
  EXPECT_EQ(workers.workers(0).tasks_completed(), 1);
}

TEST(TaskLife, SilentWorkerIsMarkedLost) {
  ServerOptions options = TestServer::DefaultOptions();
  options.store.lease_seconds = 1;
  options.write_loop.tick_ms = 50;
  TestServer server(options);
  auto& stub = server.stub();
  v1::HeartbeatRequest beat;
  beat.set_worker_id("ghost");
  beat.set_hostname("h");
  v1::HeartbeatResponse response;
  ASSERT_TRUE(stub.Heartbeat(Context().get(), beat, &response).ok());
  EXPECT_TRUE(WaitFor([&] {
    v1::ListWorkersResponse workers;
    EXPECT_TRUE(stub.ListWorkers(Context().get(), v1::ListWorkersRequest(), &workers).ok());
    return workers.workers_size() == 1 && workers.workers(0).status() == v1::WORKER_STATUS_LOST;
  }));
  // A draining heartbeat brings it back as draining.
  beat.set_draining(true);
  ASSERT_TRUE(stub.Heartbeat(Context().get(), beat, &response).ok());
  v1::ListWorkersResponse workers;
  ASSERT_TRUE(stub.ListWorkers(Context().get(), v1::ListWorkersRequest(), &workers).ok());
  EXPECT_EQ(workers.workers(0).status(), v1::WORKER_STATUS_DRAINING);
}

// A worker's last heartbeat (stopping) lists it as stopped, never lost, and
// not active; its leases end at once, so their tasks go back to the queue
// instead of waiting out the lease: those it names, and those it does not
// (a claim it cancelled as it stopped can have been answered with tasks it
// never saw: skill-worker did so in 17 of 40 tries).
TEST(TaskLife, AStoppingWorkerIsStoppedNotLostAndGivesItsLeasesBack) {
  ServerOptions options = TestServer::DefaultOptions();
  options.store.lease_seconds = 2;  // heartbeats every second: lost after 3 s of silence
  options.write_loop.tick_ms = 50;
  TestServer server(options);
  auto& stub = server.stub();
  const std::vector<std::string> ids = EnqueueN(stub, 2);
  const v1::ClaimTaskResponse claim = Claim(stub, "leaving", 2);
  ASSERT_EQ(claim.tasks_size(), 2);
  ASSERT_EQ(claim.tasks(0).task_id(), ids[0]);

  v1::HeartbeatRequest beat;
  beat.set_worker_id("leaving");
  beat.set_draining(true);
  beat.set_stopping(true);
  v1::HeldLease* held = beat.add_leases();
  held->set_task_id(claim.tasks(0).task_id());
  held->set_fencing_token(claim.tasks(0).lease().fencing_token());
  v1::HeartbeatResponse response;
  ASSERT_TRUE(stub.Heartbeat(Context().get(), beat, &response).ok());

  const v1::GetTaskResponse task = GetTask(stub, ids[0]);
  EXPECT_EQ(task.task().status(), v1::TASK_STATUS_QUEUED);
  ASSERT_EQ(task.attempts_size(), 1);
  EXPECT_EQ(task.attempts(0).outcome(), v1::ATTEMPT_OUTCOME_LEASE_EXPIRED);
  EXPECT_NE(task.attempts(0).error().find("stopped before it finished"), std::string::npos)
      << task.attempts(0).error();
  const v1::GetTaskResponse unnamed = GetTask(stub, ids[1]);
  EXPECT_EQ(unnamed.task().status(), v1::TASK_STATUS_QUEUED);
  ASSERT_EQ(unnamed.attempts_size(), 1);
  EXPECT_EQ(unnamed.attempts(0).outcome(), v1::ATTEMPT_OUTCOME_LEASE_EXPIRED);
  EXPECT_NE(unnamed.attempts(0).error().find("stopped without having received it"),
            std::string::npos)
      << unnamed.attempts(0).error();
  EXPECT_EQ(GetProgress(stub).in_progress(), 0);

  auto status_of_leaving = [&] {
    v1::ListWorkersResponse workers;
    EXPECT_TRUE(stub.ListWorkers(Context().get(), v1::ListWorkersRequest(), &workers).ok());
    return workers.workers_size() == 1 ? workers.workers(0).status()
                                       : v1::WORKER_STATUS_UNSPECIFIED;
  };
  EXPECT_EQ(status_of_leaving(), v1::WORKER_STATUS_STOPPED);
  EXPECT_EQ(GetProgress(stub).active_workers(), 0);
  v1::ListWorkersRequest active_only;
  active_only.set_active_only(true);
  v1::ListWorkersResponse active;
  ASSERT_TRUE(stub.ListWorkers(Context().get(), active_only, &active).ok());
  EXPECT_EQ(active.workers_size(), 0);
  // Past three heartbeat intervals a silent worker is lost (see
  // SilentWorkerIsMarkedLost); a stopped one stays stopped.
  absl::SleepFor(absl::Milliseconds(3500));
  EXPECT_EQ(status_of_leaving(), v1::WORKER_STATUS_STOPPED);
  // Started again, it is back.
  beat.clear_leases();
  beat.set_draining(false);
  beat.set_stopping(false);
  ASSERT_TRUE(stub.Heartbeat(Context().get(), beat, &response).ok());
  EXPECT_EQ(status_of_leaving(), v1::WORKER_STATUS_IDLE);
}

TEST(TaskLife, IdempotentEnqueueReturnsTheExistingTask) {
  TestServer server;
  auto& stub = server.stub();
  v1::TaskSpec spec = Spec(v1::TASK_TYPE_PARSE, "a");
  spec.set_idempotency_key("key-a");
  const auto first = Enqueue(stub, {spec});
  v1::EnqueueRequest request;
  *request.add_tasks() = spec;
  *request.add_tasks() = Spec(v1::TASK_TYPE_PARSE, "b");
  *request.add_tasks() = spec;  // repeated inside one batch too
  v1::EnqueueResponse response;
  ASSERT_TRUE(stub.Enqueue(Context().get(), request, &response).ok());
  ASSERT_EQ(response.task_ids_size(), 3);
  EXPECT_EQ(response.task_ids(0), first[0]);
  EXPECT_EQ(response.task_ids(2), first[0]);
  EXPECT_TRUE(response.deduplicated(0));
  EXPECT_FALSE(response.deduplicated(1));
  EXPECT_TRUE(response.deduplicated(2));
  EXPECT_EQ(response.enqueued_count(), 1);
  EXPECT_EQ(response.deduplicated_count(), 2);
  EXPECT_EQ(GetProgress(stub).total(), 2);
}

// A key names what its task computes (type and input: the content, or the
// skill_path of a task without content); the label, the priority and the
// metadata may differ between repeats.
TEST(TaskLife, AnIdempotencyKeyReusedForAnotherTaskIsRefused) {
  TestServer server;
  auto& stub = server.stub();
  v1::TaskSpec spec = Spec(v1::TASK_TYPE_PARSE, "a");
  spec.set_idempotency_key("key-a");
  const auto first = Enqueue(stub, {spec});

  v1::TaskSpec relabelled = spec;
  relabelled.set_skill_path("copy/of/a");
  relabelled.set_priority(7);
  (*relabelled.mutable_metadata())["run"] = "2";
  EXPECT_EQ(Enqueue(stub, {relabelled}), first);

  v1::TaskSpec other_content = spec;
  other_content.set_content("---\nname: b\n---\n# Another skill\n");
  v1::TaskSpec other_type = spec;
  other_type.set_type(v1::TASK_TYPE_ANALYZE);
  v1::TaskSpec no_content = spec;
  no_content.clear_content();
  for (const auto& [conflict, what] :
       {std::pair{other_content, "other content"}, std::pair{other_type, "another task type"},
        std::pair{no_content, "other content"}}) {
    v1::EnqueueRequest request;
    *request.add_tasks() = Spec(v1::TASK_TYPE_PARSE, "fine");
    *request.add_tasks() = conflict;
    v1::EnqueueResponse response;
    const grpc::Status status = stub.Enqueue(Context().get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << what;
    EXPECT_THAT(status.error_message(),
                ::testing::HasSubstr(absl::StrCat("tasks[1]: idempotency_key 'key-a' already "
                                                  "names task ",
                                                  first[0], ", which was enqueued with ", what)));
  }
  // A refused request enqueues none of its tasks.
  EXPECT_EQ(GetProgress(stub).total(), 1);

  // Inside one request, the message names the request's own earlier task
  // (which is not stored either).
  v1::TaskSpec fresh = Spec(v1::TASK_TYPE_PARSE, "fresh");
  fresh.set_idempotency_key("key-b");
  v1::TaskSpec fresh_other = fresh;
  fresh_other.set_content("---\nname: other\n---\n");
  v1::EnqueueRequest twice;
  *twice.add_tasks() = fresh;
  *twice.add_tasks() = fresh_other;
  v1::EnqueueResponse response;
  const grpc::Status status = stub.Enqueue(Context().get(), twice, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "tasks[1] repeats the idempotency_key 'key-b' of tasks[0] with other content; a key "
            "stands for one task");
  EXPECT_EQ(GetProgress(stub).total(), 1);

  // A task without content is its skill_path (a worker reads that file):
  // the path is then part of what the key stands for.
  v1::TaskSpec by_path = Spec(v1::TASK_TYPE_PARSE, "skills/a/SKILL.md");
  by_path.clear_content();
  by_path.set_idempotency_key("key-path");
  const auto path_task = Enqueue(stub, {by_path});
  EXPECT_EQ(Enqueue(stub, {by_path}), path_task);
  v1::TaskSpec other_path = by_path;
  other_path.set_skill_path("skills/c/SKILL.md");
  v1::EnqueueRequest request;
  *request.add_tasks() = other_path;
  const grpc::Status path_status = stub.Enqueue(Context().get(), request, &response);
  EXPECT_EQ(path_status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(path_status.error_message(),
              ::testing::HasSubstr("enqueued with no content and another skill_path"));
}

TEST(TaskLife, HighestPriorityFirstThenOldest) {
  TestServer server;
  auto& stub = server.stub();
  const auto ids = Enqueue(
      stub, {Spec(v1::TASK_TYPE_PARSE, "low", 0), Spec(v1::TASK_TYPE_PARSE, "high-old", 5),
             Spec(v1::TASK_TYPE_ANALYZE, "mid", 3), Spec(v1::TASK_TYPE_PARSE, "high-new", 5)});
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    v1::ClaimTaskResponse claim = Claim(stub, "w1");
    ASSERT_EQ(claim.tasks_size(), 1);
    order.push_back(claim.tasks(0).skill_path());
  }
  EXPECT_EQ(order, (std::vector<std::string>{"high-old", "high-new", "mid", "low"}));

  // The same order when claiming by types, in one batch.
  TestServer second;
  Enqueue(second.stub(),
          {Spec(v1::TASK_TYPE_PARSE, "low", 0), Spec(v1::TASK_TYPE_ANALYZE, "mid", 3),
           Spec(v1::TASK_TYPE_PARSE, "high", 5), Spec(v1::TASK_TYPE_VALIDATE, "x", 9)});
  v1::ClaimTaskResponse batch =
      Claim(second.stub(), "w1", 10, 0, {v1::TASK_TYPE_PARSE, v1::TASK_TYPE_ANALYZE});
  ASSERT_EQ(batch.tasks_size(), 3);
  EXPECT_EQ(batch.tasks(0).skill_path(), "high");
  EXPECT_EQ(batch.tasks(1).skill_path(), "mid");
  EXPECT_EQ(batch.tasks(2).skill_path(), "low");
}

TEST(TaskLife, BigTasksAreClaimedFewAtATime) {
  TestServer server;
  auto& stub = server.stub();
  std::vector<v1::TaskSpec> specs;
  for (int i = 0; i < 3; ++i) {
    v1::TaskSpec spec = Spec(v1::TASK_TYPE_PARSE, "big-" + std::to_string(i));
    spec.set_content(std::string(2 << 20, 'x'));
    specs.push_back(spec);
  }
  Enqueue(stub, specs);
  // One 2 MiB task per response keeps it under a client's default 4 MiB limit.
  v1::ClaimTaskResponse claim = Claim(stub, "w1", 10);
  ASSERT_EQ(claim.tasks_size(), 1);
  EXPECT_EQ(claim.tasks(0).content().size(), size_t{2} << 20);
  EXPECT_EQ(Claim(stub, "w1", 10).tasks_size(), 1);
}

TEST(TaskLife, CancelQueuedAndRunningTasks) {
  TestServer server;
  auto& stub = server.stub();
  const auto ids = EnqueueN(stub, 2);
  v1::CancelTaskRequest cancel;
  cancel.set_task_id(ids[0]);
  cancel.set_reason("not needed");
  v1::CancelTaskResponse cancelled;
  ASSERT_TRUE(stub.CancelTask(Context().get(), cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.task().status(), v1::TASK_STATUS_CANCELLED);

  // Only the second task is claimable now.
  v1::ClaimTaskResponse claim = Claim(stub, "w1", 10);
  ASSERT_EQ(claim.tasks_size(), 1);
  EXPECT_EQ(claim.tasks(0).task_id(), ids[1]);

  cancel.set_task_id(ids[1]);
  ASSERT_TRUE(stub.CancelTask(Context().get(), cancel, &cancelled).ok());
  EXPECT_EQ(cancelled.task().status(), v1::TASK_STATUS_CANCELLED);

  // The worker hears of it on its next heartbeat ...
  v1::HeartbeatRequest beat;
  beat.set_worker_id("w1");
  auto* held = beat.add_leases();
  held->set_task_id(ids[1]);
  held->set_fencing_token(claim.tasks(0).lease().fencing_token());
  v1::HeartbeatResponse response;
  ASSERT_TRUE(stub.Heartbeat(Context().get(), beat, &response).ok());
  ASSERT_EQ(response.cancelled_task_ids_size(), 1);
  EXPECT_EQ(response.cancelled_task_ids(0), ids[1]);

  // ... and its late result is refused.
  v1::SubmitResultResponse ack = Submit(stub, Success(claim.tasks(0), "w1"));
  EXPECT_FALSE(ack.accepted());
  EXPECT_EQ(ack.reject_reason(), v1::REJECT_REASON_CANCELLED);

  v1::GetTaskResponse task = GetTask(stub, ids[1]);
  ASSERT_EQ(task.attempts_size(), 1);
  EXPECT_EQ(task.attempts(0).outcome(), v1::ATTEMPT_OUTCOME_CANCELLED);
  EXPECT_EQ(GetProgress(stub).cancelled(), 2);

  // A finished task cannot be cancelled.
  grpc::Status again = stub.CancelTask(Context().get(), cancel, &cancelled);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST(TaskLife, RetryFailedTasks) {
  TestServer server;
  auto& stub = server.stub();
  const auto ids = EnqueueN(stub, 3);
  for (int i = 0; i < 3; ++i) {
    v1::ClaimTaskResponse claim = Claim(stub, "w1");
    ASSERT_EQ(claim.tasks_size(), 1);
    Submit(stub, Failure(claim.tasks(0), "w1", "bad", false));
  }
  ASSERT_EQ(GetProgress(stub).failed(), 3);

  v1::RetryTaskRequest one;
  one.set_task_id(ids[0]);
  v1::RetryTaskResponse retried;
  ASSERT_TRUE(stub.RetryTask(Context().get(), one, &retried).ok());
  EXPECT_EQ(retried.retried_count(), 1);
  const v1::TaskInfo requeued = GetTask(stub, ids[0]).task();
  EXPECT_EQ(requeued.status(), v1::TASK_STATUS_QUEUED);
  EXPECT_EQ(requeued.attempts(), 1);
  EXPECT_EQ(requeued.attempts_before_retry(), 1) << "max_attempts counts from here";
  EXPECT_EQ(GetTask(stub, ids[1]).task().attempts_before_retry(), 0);
  // Retrying a queued task is refused.
  EXPECT_EQ(stub.RetryTask(Context().get(), one, &retried).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  v1::RetryTaskRequest all;
  all.set_all_failed(true);
  ASSERT_TRUE(stub.RetryTask(Context().get(), all, &retried).ok());
  EXPECT_EQ(retried.retried_count(), 2);
  v1::Progress progress = GetProgress(stub);
  EXPECT_EQ(progress.failed(), 0);
  EXPECT_EQ(progress.queued(), 3);

  // A retried task runs again with a fresh budget and can complete.
  v1::ClaimTaskResponse claim = Claim(stub, "w2");
  ASSERT_EQ(claim.tasks_size(), 1);
  EXPECT_EQ(claim.tasks(0).lease().attempt(), 2);
  EXPECT_TRUE(Submit(stub, Success(claim.tasks(0), "w2")).accepted());
}

TEST(TaskLife, ListTasksPaginatesAndFilters) {
  TestServer server;
  auto& stub = server.stub();
  EnqueueN(stub, 25, v1::TASK_TYPE_PARSE);
  EnqueueN(stub, 5, v1::TASK_TYPE_VALIDATE);
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListTasksRequest request;
    request.set_page_size(7);
    request.set_page_token(token);
    v1::ListTasksResponse response;
    ASSERT_TRUE(stub.ListTasks(Context().get(), request, &response).ok());
    EXPECT_LE(response.tasks_size(), 7);
    for (const auto& task : response.tasks()) EXPECT_TRUE(seen.insert(task.task_id()).second);
    token = response.next_page_token();
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(seen.size(), 30u);
  EXPECT_EQ(pages, 5);

  v1::ListTasksRequest by_type;
  by_type.set_type(v1::TASK_TYPE_VALIDATE);
  v1::ListTasksResponse validate;
  ASSERT_TRUE(stub.ListTasks(Context().get(), by_type, &validate).ok());
  EXPECT_EQ(validate.tasks_size(), 5);
  EXPECT_TRUE(validate.next_page_token().empty());

  const v1::ClaimTaskResponse claimed = Claim(stub, "lister", 3);
  ASSERT_EQ(claimed.tasks_size(), 3);
  v1::ListTasksRequest by_worker;
  by_worker.set_worker_id("lister");
  by_worker.set_status(v1::TASK_STATUS_IN_PROGRESS);
  v1::ListTasksResponse mine;
  ASSERT_TRUE(stub.ListTasks(Context().get(), by_worker, &mine).ok());
  EXPECT_EQ(mine.tasks_size(), 3);

  // Without a status filter (no index by worker: tasks in id order), the
  // worker's finished task is listed with its running ones, nobody else's.
  ASSERT_TRUE(Submit(stub, Success(claimed.tasks(0), "lister")).accepted());
  by_worker.clear_status();
  ASSERT_TRUE(stub.ListTasks(Context().get(), by_worker, &mine).ok());
  ASSERT_EQ(mine.tasks_size(), 3);
  for (const v1::TaskInfo& task : mine.tasks()) EXPECT_EQ(task.worker_id(), "lister");
  EXPECT_EQ(mine.tasks(0).task_id(), claimed.tasks(0).task_id());
  EXPECT_EQ(mine.tasks(0).status(), v1::TASK_STATUS_COMPLETED);
}

// A page token continues the listing that issued it; handed to another
// listing it is refused, not read as a cursor (a ListWorkers token given to
// ListTasks ended the task listing at once, with no error).
TEST(TaskLife, PageTokensBelongToTheirListing) {
  TestServer server;
  auto& stub = server.stub();
  EnqueueN(stub, 3);
  for (const char* id : {"pw0", "pw1"}) {
    v1::HeartbeatRequest beat;
    beat.set_worker_id(id);
    v1::HeartbeatResponse response;
    ASSERT_TRUE(stub.Heartbeat(Context().get(), beat, &response).ok());
  }
  v1::ListTasksRequest tasks;
  tasks.set_page_size(1);
  v1::ListTasksResponse task_page;
  ASSERT_TRUE(stub.ListTasks(Context().get(), tasks, &task_page).ok());
  ASSERT_FALSE(task_page.next_page_token().empty());
  v1::ListWorkersRequest workers;
  workers.set_page_size(1);
  v1::ListWorkersResponse worker_page;
  ASSERT_TRUE(stub.ListWorkers(Context().get(), workers, &worker_page).ok());
  ASSERT_FALSE(worker_page.next_page_token().empty());

  // Each continues its own listing.
  tasks.set_page_token(task_page.next_page_token());
  ASSERT_TRUE(stub.ListTasks(Context().get(), tasks, &task_page).ok());
  EXPECT_EQ(task_page.tasks_size(), 1);
  workers.set_page_token(worker_page.next_page_token());
  ASSERT_TRUE(stub.ListWorkers(Context().get(), workers, &worker_page).ok());
  EXPECT_EQ(worker_page.workers_size(), 1);
  // And neither the other's, nor a bare cursor.
  const std::string worker_token = workers.page_token();
  const std::string task_token = tasks.page_token();
  for (const std::string& token : {worker_token, std::string("2"), std::string("tasks:0")}) {
    tasks.set_page_token(token);
    const grpc::Status status = stub.ListTasks(Context().get(), tasks, &task_page);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << token;
    EXPECT_NE(status.error_message().find("not a token of this listing"), std::string::npos)
        << status.error_message();
  }
  for (const std::string& token : {task_token, std::string("707730")}) {
    workers.set_page_token(token);
    EXPECT_EQ(stub.ListWorkers(Context().get(), workers, &worker_page).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT)
        << token;
  }
}

// Lists every page of `request` (page size 1, so paging is exercised at each
// row) and returns the task ids in order.
std::vector<std::string> ListAll(v1::SkillStore::Stub& stub, v1::ListTasksRequest request) {
  std::vector<std::string> ids;
  request.set_page_size(1);
  do {
    v1::ListTasksResponse response;
    grpc::Status status = stub.ListTasks(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok()) break;
    for (const auto& task : response.tasks()) {
      if (request.status() != v1::TASK_STATUS_UNSPECIFIED) {
        EXPECT_EQ(task.status(), request.status()) << task.task_id();
      }
      ids.push_back(task.task_id());
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return ids;
}

// Each status is listed through its own index or table (no index on status,
// schema.cc migration 3): every one paged in task_id order, alone and with
// the worker and type filters, and the counts rebuilt at start-up agree.
TEST(TaskLife, ListingsByEveryStatusWorkerAndType) {
  TestServer server;
  auto& stub = server.stub();  // until the restart below
  const std::vector<std::string> ids =
      Enqueue(stub, {Spec(v1::TASK_TYPE_PARSE, "0"), Spec(v1::TASK_TYPE_ANALYZE, "1"),
                     Spec(v1::TASK_TYPE_PARSE, "2"), Spec(v1::TASK_TYPE_VALIDATE, "3"),
                     Spec(v1::TASK_TYPE_PARSE, "4"), Spec(v1::TASK_TYPE_ANALYZE, "5"),
                     Spec(v1::TASK_TYPE_PARSE, "6"), Spec(v1::TASK_TYPE_PARSE, "7")});
  ASSERT_EQ(ids.size(), 8u);
  // Oldest first: w1 gets 0 and 1, w2 gets 2 and 3.
  v1::ClaimTaskResponse w1 = Claim(stub, "w1", 2);
  ASSERT_EQ(w1.tasks_size(), 2);
  v1::ClaimTaskResponse w2 = Claim(stub, "w2", 2);
  ASSERT_EQ(w2.tasks_size(), 2);
  ASSERT_EQ(w1.tasks(0).task_id(), ids[0]);
  ASSERT_EQ(w2.tasks(1).task_id(), ids[3]);
  ASSERT_TRUE(Submit(stub, Success(w1.tasks(0), "w1")).accepted());                    // 0
  ASSERT_TRUE(Submit(stub, Failure(w1.tasks(1), "w1", "bad", false)).accepted());      // 1
  ASSERT_TRUE(Submit(stub, Success(w2.tasks(0), "w2")).accepted());                    // 2
  for (const std::string& id : {ids[4], ids[6]}) {
    v1::CancelTaskRequest cancel;
    cancel.set_task_id(id);
    v1::CancelTaskResponse cancelled;
    ASSERT_TRUE(stub.CancelTask(Context().get(), cancel, &cancelled).ok());
  }
  using Ids = std::vector<std::string>;
  auto list = [&](v1::TaskStatus status, const std::string& worker = "",
                  v1::TaskType type = v1::TASK_TYPE_UNSPECIFIED) {
    v1::ListTasksRequest request;
    request.set_status(status);
    request.set_worker_id(worker);
    request.set_type(type);
    return ListAll(server.stub(), request);
  };
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round == 0 ? "before restart" : "after restart");
    EXPECT_EQ(list(v1::TASK_STATUS_UNSPECIFIED), ids);
    EXPECT_EQ(list(v1::TASK_STATUS_QUEUED), (Ids{ids[5], ids[7]}));
    EXPECT_EQ(list(v1::TASK_STATUS_IN_PROGRESS), (Ids{ids[3]}));
    EXPECT_EQ(list(v1::TASK_STATUS_COMPLETED), (Ids{ids[0], ids[2]}));
    EXPECT_EQ(list(v1::TASK_STATUS_FAILED), (Ids{ids[1]}));
    EXPECT_EQ(list(v1::TASK_STATUS_CANCELLED), (Ids{ids[4], ids[6]}));
    EXPECT_EQ(list(v1::TASK_STATUS_UNSPECIFIED, "w1"), (Ids{ids[0], ids[1]}));
    EXPECT_EQ(list(v1::TASK_STATUS_COMPLETED, "w2"), (Ids{ids[2]}));
    EXPECT_EQ(list(v1::TASK_STATUS_COMPLETED, "w1", v1::TASK_TYPE_ANALYZE), Ids{});
    EXPECT_EQ(list(v1::TASK_STATUS_IN_PROGRESS, "w2", v1::TASK_TYPE_VALIDATE), (Ids{ids[3]}));
    EXPECT_EQ(list(v1::TASK_STATUS_QUEUED, "", v1::TASK_TYPE_ANALYZE), (Ids{ids[5]}));
    EXPECT_EQ(list(v1::TASK_STATUS_CANCELLED, "", v1::TASK_TYPE_PARSE), (Ids{ids[4], ids[6]}));

    v1::ListWorkersResponse workers;
    ASSERT_TRUE(
        server.stub().ListWorkers(Context().get(), v1::ListWorkersRequest(), &workers).ok());
    ASSERT_EQ(workers.workers_size(), 2);
    EXPECT_EQ(workers.workers(0).current_task_ids_size(), 0);
    ASSERT_EQ(workers.workers(1).current_task_ids_size(), 1);
    EXPECT_EQ(workers.workers(1).current_task_ids(0), ids[3]);

    v1::Progress progress = GetProgress(server.stub());
    EXPECT_EQ(progress.total(), 8);
    EXPECT_EQ(progress.queued(), 2);
    EXPECT_EQ(progress.in_progress(), 1);
    EXPECT_EQ(progress.completed(), 2);
    EXPECT_EQ(progress.failed(), 1);
    EXPECT_EQ(progress.cancelled(), 2);
    server.Restart();  // the counts are rebuilt from the database
  }
}

TEST(TaskLife, ProgressSurvivesRestartAndCountsStayExact) {
  TestServer server;
  EnqueueN(server.stub(), 10);
  for (int i = 0; i < 4; ++i) {
    v1::ClaimTaskResponse claim = Claim(server.stub(), "w1");
    ASSERT_EQ(claim.tasks_size(), 1);
    Submit(server.stub(), Success(claim.tasks(0), "w1"));
  }
  server.Restart();
  v1::Progress progress = GetProgress(server.stub());
  EXPECT_EQ(progress.total(), 10);
  EXPECT_EQ(progress.completed(), 4);
  EXPECT_EQ(progress.queued(), 6);
}

TEST(TaskLife, WatchProgressPushesChanges) {
  TestServer server;
  auto& stub = server.stub();
  auto context = Context();
  v1::WatchProgressRequest request;
  request.set_min_interval_ms(100);
  auto stream = stub.WatchProgress(context.get(), request);
  v1::Progress progress;
  ASSERT_TRUE(stream->Read(&progress));
  EXPECT_EQ(progress.total(), 0);
  EnqueueN(stub, 3);
  // Updates keep coming until one shows the enqueue.
  bool seen = false;
  while (!seen && stream->Read(&progress)) seen = progress.total() == 3 && progress.queued() == 3;
  EXPECT_TRUE(seen);
  context->TryCancel();
  stream->Finish();
}

// A watch ended by the server shutting down says so (UNAVAILABLE): a clean
// OK would read as the end of the watch itself.
TEST(TaskLife, WatchProgressEndsUnavailableWhenTheServerStops) {
  TestServer server;
  auto context = Context();
  auto stream = server.stub().WatchProgress(context.get(), v1::WatchProgressRequest());
  v1::Progress progress;
  ASSERT_TRUE(stream->Read(&progress));
  server.Restart();
  while (stream->Read(&progress)) {
  }
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_NE(status.error_message().find("shutting down"), std::string::npos)
      << status.error_message();
}

// A fencing token never issued for the task is refused as such, not as a
// lease that ran out; a token named twice in a heartbeat is answered once.
TEST(TaskLife, MadeUpLeasesAreNamedAsSuch) {
  TestServer server;
  auto& stub = server.stub();
  const auto ids = EnqueueN(stub, 2);
  const v1::ClaimTaskResponse claim = Claim(stub, "w1", 2);
  ASSERT_EQ(claim.tasks_size(), 2);
  // Above the task's own token, and the token of the other task.
  for (const int64_t token :
       {claim.tasks(0).lease().fencing_token() + 1000, claim.tasks(1).lease().fencing_token()}) {
    v1::SubmitResultRequest made_up = Success(claim.tasks(0), "w1");
    made_up.set_fencing_token(token);
    const v1::SubmitResultResponse response = Submit(stub, made_up);
    EXPECT_FALSE(response.accepted());
    EXPECT_EQ(response.reject_reason(), v1::REJECT_REASON_INVALID) << response.message();
    EXPECT_NE(response.message().find("was never a lease of task"), std::string::npos)
        << response.message();
    EXPECT_EQ(response.task_status(), v1::TASK_STATUS_IN_PROGRESS);
  }
  EXPECT_TRUE(Submit(stub, Success(claim.tasks(0), "w1")).accepted());

  v1::HeartbeatRequest beat;
  beat.set_worker_id("w1");
  for (int i = 0; i < 50; ++i) {
    v1::HeldLease* held = beat.add_leases();
    held->set_task_id("999");
    held->set_fencing_token(7);
  }
  v1::HeartbeatResponse response;
  ASSERT_TRUE(stub.Heartbeat(Context().get(), beat, &response).ok());
  EXPECT_EQ(response.lost_task_ids_size(), 1);
}

}  // namespace
}  // namespace skillstore::server::testing
