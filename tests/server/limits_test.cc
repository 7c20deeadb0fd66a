// The limits that protect the server, each hit once over real gRPC against an
// in-process server: tasks per Enqueue, content size, metadata size, total
// queued tasks, max_tasks per claim (also set on the real binary's command
// line), leases per worker, worker_id size, a worker submitting or
// heartbeating for a lease granted to another worker, and the 4 MiB a gRPC
// client receives by default (a claim of the largest task, a big result read
// in pieces).
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/utf8.h"
#include "process.h"
#include "server_test_util.h"

namespace skillstore::server::testing {
namespace {

grpc::Status EnqueueStatus(v1::SkillStore::Stub& stub, const std::vector<v1::TaskSpec>& specs) {
  v1::EnqueueRequest request;
  for (const v1::TaskSpec& spec : specs) *request.add_tasks() = spec;
  v1::EnqueueResponse response;
  return stub.Enqueue(Context().get(), request, &response);
}

std::vector<v1::TaskSpec> Specs(int count, const std::string& prefix) {
  std::vector<v1::TaskSpec> specs;
  for (int i = 0; i < count; ++i)
    specs.push_back(Spec(v1::TASK_TYPE_PARSE, prefix + std::to_string(i)));
  return specs;
}

grpc::Status ClaimStatus(v1::SkillStore::Stub& stub, const std::string& worker_id, int max_tasks,
                         v1::ClaimTaskResponse* response) {
  v1::ClaimTaskRequest request;
  request.set_worker_id(worker_id);
  request.set_max_tasks(max_tasks);
  return stub.ClaimTask(Context().get(), request, response);
}

// The largest task the default limits accept (content, label, key and
// metadata all at their limit) reaches a client that keeps gRPC's default
// 4 MiB receive limit whole when claimed; one byte more content is refused at
// enqueue. Above the limit the task used to be leased to that client, which
// could not receive it.
TEST(LimitsTest, TheLargestTaskFitsADefaultClientsClaim) {
  TestServer server;
  v1::TaskSpec largest = Spec(v1::TASK_TYPE_PARSE, std::string(kMaxSkillPathBytes, 'p'));
  largest.set_content(std::string(kDefaultMaxContentBytes, 'x'));
  largest.set_idempotency_key(std::string(kMaxIdempotencyKeyBytes, 'k'));
  (*largest.mutable_metadata())["m"] = std::string(kMaxMetadataBytes - 1, 'm');
  ASSERT_TRUE(EnqueueStatus(server.stub(), {largest}).ok());
  v1::TaskSpec over = largest;
  over.set_content(std::string(kDefaultMaxContentBytes + 1, 'x'));
  over.set_idempotency_key("other");
  EXPECT_EQ(EnqueueStatus(server.stub(), {over}).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);

  auto default_client = v1::SkillStore::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  v1::ClaimTaskResponse claim;
  const grpc::Status status = ClaimStatus(*default_client, "w1", 10, &claim);
  ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  ASSERT_EQ(claim.tasks_size(), 1);
  EXPECT_EQ(claim.tasks(0).content().size(), static_cast<size_t>(kDefaultMaxContentBytes));
}

grpc::Status GetResultPiece(v1::SkillStore::Stub& stub, const std::string& task_id, int64_t offset,
                            int32_t max_bytes, v1::GetResultResponse* response) {
  v1::GetResultRequest request;
  request.set_task_id(task_id);
  request.set_result_offset(offset);
  request.set_max_result_bytes(max_bytes);
  return stub.GetResult(Context().get(), request, response);
}

// A result larger than a default client's 4 MiB receive limit (a big skill's
// parse is several times its size) cannot be read whole by that client, but
// it can in pieces that follow next_result_offset, each valid UTF-8 on its
// own; pieces that are asked for wrongly are refused with a reason.
TEST(LimitsTest, ABigResultIsReadInPiecesByADefaultClient) {
  TestServer server;
  EnqueueN(server.stub(), 1);
  v1::ClaimTaskResponse claimed = Claim(server.stub(), "w1");
  ASSERT_EQ(claimed.tasks_size(), 1);
  const std::string task_id = claimed.tasks(0).task_id();
  // 6 MiB of JSON in which two-, three- and four-byte characters straddle
  // every piece boundary a client is likely to pick.
  std::string result = "[\"";
  while (result.size() < (6u << 20)) result += "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
  result += "\"]";
  const v1::SubmitResultResponse ack =
      Submit(server.stub(), Success(claimed.tasks(0), "w1", result));
  ASSERT_TRUE(ack.accepted()) << ack.message();

  auto default_client = v1::SkillStore::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  v1::GetResultResponse whole;
  EXPECT_EQ(GetResultPiece(*default_client, task_id, 0, 0, &whole).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);

  std::string read;
  int pieces = 0;
  for (int64_t offset = 0; offset < static_cast<int64_t>(result.size()); ++pieces) {
    v1::GetResultResponse piece;
    const grpc::Status status = GetResultPiece(*default_client, task_id, offset, 1000001, &piece);
    ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
    EXPECT_EQ(piece.result_bytes(), static_cast<int64_t>(result.size()));
    ASSERT_GT(piece.next_result_offset(), offset);
    ASSERT_EQ(piece.next_result_offset() - offset,
              static_cast<int64_t>(piece.result_json().size()));
    EXPECT_LE(piece.result_json().size(), 1000001u);
    if (piece.next_result_offset() < piece.result_bytes()) {
      EXPECT_GE(piece.result_json().size(), 1000001u - 3);
    }
    EXPECT_TRUE(IsValidUtf8(piece.result_json())) << "piece at " << offset;
    EXPECT_EQ(piece.status(), v1::TASK_STATUS_COMPLETED);
    read += piece.result_json();
    offset = piece.next_result_offset();
  }
  EXPECT_EQ(pieces, 7);
  EXPECT_TRUE(read == result);

  // The piece at the end is empty, and says so.
  v1::GetResultResponse end;
  ASSERT_TRUE(GetResultPiece(*default_client, task_id, result.size(), 4, &end).ok());
  EXPECT_EQ(end.result_json(), "");
  EXPECT_EQ(end.next_result_offset(), static_cast<int64_t>(result.size()));

  auto refused = [&](int64_t offset, int32_t max_bytes, grpc::StatusCode code,
                     const std::string& reason) {
    v1::GetResultResponse response;
    const grpc::Status status =
        GetResultPiece(server.stub(), task_id, offset, max_bytes, &response);
    EXPECT_EQ(status.error_code(), code) << offset << " " << max_bytes;
    EXPECT_NE(status.error_message().find(reason), std::string::npos) << status.error_message();
  };
  refused(-1, 0, grpc::StatusCode::INVALID_ARGUMENT, "result_offset must be >= 0");
  refused(0, 3, grpc::StatusCode::INVALID_ARGUMENT, "or at least 4 (one UTF-8 character)");
  refused(0, -5, grpc::StatusCode::INVALID_ARGUMENT, "max_result_bytes must be 0");
  refused(result.size() + 1, 0, grpc::StatusCode::OUT_OF_RANGE, "past the end of the result");
  refused(4, 0, grpc::StatusCode::INVALID_ARGUMENT, "is inside a UTF-8 character");
}

// Retrying every failed task lists the first kMaxRetriedIdsListed ids and
// counts them all: with hundreds of thousands failed, the whole list outgrew
// a default client's 4 MiB and the client saw an error for a retry that had
// been committed.
TEST(LimitsTest, RetryOfEveryFailedTaskListsTheFirstIdsAndCountsAll) {
  TestServer server;
  const int failed_tasks = kMaxRetriedIdsListed + 1;
  for (int enqueued = 0; enqueued < failed_tasks; enqueued += 1000) {
    ASSERT_TRUE(
        EnqueueStatus(server.stub(), Specs(std::min(1000, failed_tasks - enqueued), "f")).ok());
  }
  for (int failed = 0; failed < failed_tasks;) {
    v1::ClaimTaskResponse claim;
    ASSERT_TRUE(ClaimStatus(server.stub(), "w", 400, &claim).ok());
    ASSERT_GT(claim.tasks_size(), 0);
    v1::SubmitResultRequest message = Failure(claim.tasks(0), "w", "bad skill", false);
    for (int i = 1; i < claim.tasks_size(); ++i) {
      *message.add_more_results() = Failure(claim.tasks(i), "w", "bad skill", false);
    }
    auto context = Context();
    auto stream = server.stub().SubmitResult(context.get());
    ASSERT_TRUE(stream->Write(message));
    stream->WritesDone();
    v1::SubmitResultResponse ack;
    for (int i = 0; i < claim.tasks_size(); ++i) {
      ASSERT_TRUE(stream->Read(&ack));
      ASSERT_TRUE(ack.accepted()) << ack.message();
    }
    ASSERT_TRUE(stream->Finish().ok());
    failed += claim.tasks_size();
  }
  ASSERT_EQ(GetProgress(server.stub()).failed(), failed_tasks);

  auto default_client = v1::SkillStore::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  v1::RetryTaskRequest retry;
  retry.set_all_failed(true);
  v1::RetryTaskResponse retried;
  const grpc::Status status = default_client->RetryTask(Context().get(), retry, &retried);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(retried.retried_count(), failed_tasks);
  ASSERT_EQ(retried.task_ids_size(), kMaxRetriedIdsListed);
  EXPECT_EQ(retried.task_ids(0), "1");
  EXPECT_EQ(retried.task_ids(kMaxRetriedIdsListed - 1), std::to_string(kMaxRetriedIdsListed));
  const v1::Progress progress = GetProgress(server.stub());
  EXPECT_EQ(progress.queued(), failed_tasks);
  EXPECT_EQ(progress.failed(), 0);
}

// Fails the task that `claim` holds (alone), for good.
void Fail(v1::SkillStore::Stub& stub, const v1::ClaimTaskResponse& claim,
          const std::string& error) {
  ASSERT_EQ(claim.tasks_size(), 1);
  ASSERT_TRUE(Submit(stub, Failure(claim.tasks(0), "w", error, false)).accepted());
}

// The same, then puts the task back in the queue.
void FailAndRetry(v1::SkillStore::Stub& stub, const v1::ClaimTaskResponse& claim,
                  const std::string& error) {
  Fail(stub, claim, error);
  v1::RetryTaskRequest retry;
  retry.set_task_id(claim.tasks(0).task_id());
  v1::RetryTaskResponse retried;
  ASSERT_TRUE(stub.RetryTask(Context().get(), retry, &retried).ok());
}

// GetTask lists the latest attempts of a task retried many times, at most 50
// and 16 KiB of their errors, and says how many it left out: the answer for
// the largest task with its content fits a default client's 4 MiB.
TEST(LimitsTest, GetTaskListsTheLatestAttemptsAndFitsADefaultClient) {
  TestServer server;
  const std::vector<std::string> ids = EnqueueN(server.stub(), 1);
  for (int i = 1; i < 55; ++i) {
    FailAndRetry(server.stub(), Claim(server.stub(), "w", 1), absl::StrCat("failure ", i));
  }
  Fail(server.stub(), Claim(server.stub(), "w", 1), "failure 55");
  v1::GetTaskResponse task = GetTask(server.stub(), ids[0]);
  ASSERT_EQ(task.attempts_size(), 50);
  EXPECT_EQ(task.attempts_omitted(), 5);
  EXPECT_EQ(task.attempts(0).error(), "failure 6");
  EXPECT_EQ(task.attempts(49).error(), "failure 55");

  v1::TaskSpec largest = Spec(v1::TASK_TYPE_PARSE, std::string(kMaxSkillPathBytes, 'p'));
  largest.set_content(std::string(kDefaultMaxContentBytes, 'x'));
  largest.set_idempotency_key(std::string(kMaxIdempotencyKeyBytes, 'k'));
  (*largest.mutable_metadata())["m"] = std::string(kMaxMetadataBytes - 1, 'm');
  const std::vector<std::string> big = Enqueue(server.stub(), {largest});
  ASSERT_EQ(big.size(), 1u);
  for (int i = 0; i < 3; ++i) {
    FailAndRetry(server.stub(), Claim(server.stub(), "w", 1), std::string(64 << 10, 'e'));
  }
  // A last failure, so the task row holds a 16 KiB last_error too.
  Fail(server.stub(), Claim(server.stub(), "w", 1), std::string(64 << 10, 'e'));

  auto default_client = v1::SkillStore::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  v1::GetTaskRequest request;
  request.set_task_id(big[0]);
  request.set_include_content(true);
  v1::GetTaskResponse answer;
  const grpc::Status status = default_client->GetTask(Context().get(), request, &answer);
  ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  EXPECT_EQ(answer.content().size(), static_cast<size_t>(kDefaultMaxContentBytes));
  EXPECT_EQ(answer.attempts_size(), 1);  // one error text of 16 KiB fills the budget
  EXPECT_EQ(answer.attempts_omitted(), 3);
  EXPECT_EQ(answer.attempts(0).attempt(), 4);
}

TEST(LimitsTest, TasksPerEnqueue) {
  ServerOptions options = TestServer::DefaultOptions();
  options.service.max_enqueue_batch = 5;
  TestServer server(options);
  EXPECT_TRUE(EnqueueStatus(server.stub(), Specs(5, "a")).ok());
  grpc::Status status = EnqueueStatus(server.stub(), Specs(6, "b"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("has 6 tasks; send at most 5 per call"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(GetProgress(server.stub()).total(), 5);
}

TEST(LimitsTest, ContentAndMetadataSize) {
  ServerOptions options = TestServer::DefaultOptions();
  options.service.max_content_bytes = 1000;
  TestServer server(options);
  v1::TaskSpec big = Spec(v1::TASK_TYPE_PARSE, "big");
  big.set_content(std::string(1001, 'x'));
  grpc::Status status = EnqueueStatus(server.stub(), {big});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("--max-content-bytes"), std::string::npos);

  v1::TaskSpec tagged = Spec(v1::TASK_TYPE_PARSE, "tagged");
  (*tagged.mutable_metadata())["k"] = std::string(64 << 10, 'm');
  status = EnqueueStatus(server.stub(), {tagged});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("metadata is 65537 bytes"), std::string::npos)
      << status.error_message();
  (*tagged.mutable_metadata())["k"] = std::string((64 << 10) - 1, 'm');
  EXPECT_TRUE(EnqueueStatus(server.stub(), {tagged}).ok());
}

TEST(LimitsTest, MessageSize) {
  ServerOptions options = TestServer::DefaultOptions();
  options.max_receive_message_bytes = 1 << 20;
  TestServer server(options);
  std::vector<v1::TaskSpec> specs = Specs(3, "m");
  for (v1::TaskSpec& spec : specs) spec.set_content(std::string(400 << 10, 'c'));
  grpc::Status status = EnqueueStatus(server.stub(), specs);  // ~1.2 MB
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  specs.pop_back();
  EXPECT_TRUE(EnqueueStatus(server.stub(), specs).ok());  // ~0.8 MB
  EXPECT_EQ(GetProgress(server.stub()).total(), 2);
}

TEST(LimitsTest, QueuedTasks) {
  ServerOptions options = TestServer::DefaultOptions();
  options.service.max_queued_tasks = 10;
  TestServer server(options);
  EXPECT_TRUE(EnqueueStatus(server.stub(), Specs(8, "a")).ok());
  grpc::Status status = EnqueueStatus(server.stub(), Specs(3, "b"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("8 tasks are queued; 3 more would pass the server limit "
                                        "of 10 (skillstore-server --max-queued-tasks)"),
            std::string::npos)
      << status.error_message();
  EXPECT_TRUE(EnqueueStatus(server.stub(), Specs(2, "c")).ok());
  // Claimed tasks are no longer queued: room again.
  v1::ClaimTaskResponse claimed;
  ASSERT_TRUE(ClaimStatus(server.stub(), "w", 4, &claimed).ok());
  ASSERT_EQ(claimed.tasks_size(), 4);
  EXPECT_TRUE(WaitFor([&] { return GetProgress(server.stub()).queued() == 6; }));
  EXPECT_TRUE(EnqueueStatus(server.stub(), Specs(4, "d")).ok());
}

TEST(LimitsTest, MaxTasksPerClaimIsCapped) {
  ServerOptions options = TestServer::DefaultOptions();
  options.store.max_claim_tasks = 7;
  TestServer server(options);
  EnqueueN(server.stub(), 20);
  v1::ClaimTaskResponse claimed;
  ASSERT_TRUE(ClaimStatus(server.stub(), "greedy", 1000000, &claimed).ok());
  EXPECT_EQ(claimed.tasks_size(), 7);
}

// The cap comes from the command line of the real binary (--max-claim-tasks).
TEST(LimitsTest, MaxTasksPerClaimFromTheCommandLine) {
  skillstore::testing::TempDir dir;
  auto server = skillstore::testing::ServerProcess::Start(
      dir.File("store.db"), dir.File("server.log"), {"--max-claim-tasks", "3"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::SkillStore::NewStub(
      grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()));
  ASSERT_TRUE(EnqueueStatus(*stub, Specs(10, "c")).ok());
  v1::ClaimTaskResponse claimed;
  ASSERT_TRUE(ClaimStatus(*stub, "greedy", 100, &claimed).ok());
  EXPECT_EQ(claimed.tasks_size(), 3);
}

// With no limit on leases per worker, one worker's listing could outgrow
// any page: ListWorkers names its first 1000 tasks and counts them all.
TEST(LimitsTest, AWorkerWithManyLeasesListsTheFirstThousand) {
  ServerOptions options = TestServer::DefaultOptions();
  options.store.max_leases_per_worker = 0;
  TestServer server(options);
  const std::vector<std::string> ids = EnqueueN(server.stub(), 1005);
  int claimed = 0;
  while (claimed < 1005) {
    v1::ClaimTaskResponse claim;
    ASSERT_TRUE(ClaimStatus(server.stub(), "hoarder", 400, &claim).ok());
    ASSERT_GT(claim.tasks_size(), 0);
    claimed += claim.tasks_size();
  }
  EnqueueN(server.stub(), 1);
  v1::ClaimTaskResponse one;
  ASSERT_TRUE(ClaimStatus(server.stub(), "other", 1, &one).ok());
  v1::ListWorkersRequest request;
  v1::ListWorkersResponse response;
  ASSERT_TRUE(server.stub().ListWorkers(Context().get(), request, &response).ok());
  ASSERT_EQ(response.workers_size(), 2);
  const v1::WorkerInfo& hoarder = response.workers(0);
  ASSERT_EQ(hoarder.worker_id(), "hoarder");
  EXPECT_EQ(hoarder.current_task_count(), 1005);
  ASSERT_EQ(hoarder.current_task_ids_size(), 1000);
  EXPECT_EQ(std::vector<std::string>(hoarder.current_task_ids().begin(),
                                     hoarder.current_task_ids().end()),
            std::vector<std::string>(ids.begin(), ids.begin() + 1000))
      << "the oldest first";
  EXPECT_EQ(response.workers(1).current_task_count(), 1);
  EXPECT_EQ(response.workers(1).current_task_ids_size(), 1);
}

TEST(LimitsTest, LeasesPerWorker) {
  ServerOptions options = TestServer::DefaultOptions();
  options.store.max_leases_per_worker = 3;
  TestServer server(options);
  EnqueueN(server.stub(), 10);
  v1::ClaimTaskResponse first;
  ASSERT_TRUE(ClaimStatus(server.stub(), "w1", 2, &first).ok());
  ASSERT_EQ(first.tasks_size(), 2);
  v1::ClaimTaskResponse second;
  ASSERT_TRUE(ClaimStatus(server.stub(), "w1", 5, &second).ok());
  EXPECT_EQ(second.tasks_size(), 1) << "cut down to the one lease left";
  v1::ClaimTaskResponse third;
  grpc::Status status = ClaimStatus(server.stub(), "w1", 1, &third);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("worker 'w1' already holds 3 leases"), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("--max-leases-per-worker 3"), std::string::npos);
  // Another worker is not affected; and a finished lease frees a slot.
  v1::ClaimTaskResponse other;
  ASSERT_TRUE(ClaimStatus(server.stub(), "w2", 3, &other).ok());
  EXPECT_EQ(other.tasks_size(), 3);
  EXPECT_TRUE(Submit(server.stub(), Success(first.tasks(0), "w1")).accepted());
  ASSERT_TRUE(ClaimStatus(server.stub(), "w1", 5, &third).ok());
  EXPECT_EQ(third.tasks_size(), 1);

  // The count is kept in memory: a restarted server counts the leases again.
  server.Restart();
  status = ClaimStatus(server.stub(), "w1", 1, &third);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  v1::CancelTaskRequest cancel;
  cancel.set_task_id(first.tasks(1).task_id());
  v1::CancelTaskResponse cancelled;
  ASSERT_TRUE(server.stub().CancelTask(Context().get(), cancel, &cancelled).ok());
  v1::ClaimTaskResponse after_cancel;
  ASSERT_TRUE(ClaimStatus(server.stub(), "w1", 5, &after_cancel).ok()) << "a cancel frees a slot";
  EXPECT_EQ(after_cancel.tasks_size(), 1);
}

TEST(LimitsTest, WorkerIdSize) {
  TestServer server;
  v1::ClaimTaskResponse claimed;
  grpc::Status status = ClaimStatus(server.stub(), std::string(257, 'w'), 1, &claimed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("worker_id is 257 bytes; the limit is 256"),
            std::string::npos)
      << status.error_message();
  v1::HeartbeatRequest heartbeat;
  heartbeat.set_worker_id(std::string(1 << 20, 'w'));
  v1::HeartbeatResponse response;
  EXPECT_EQ(server.stub().Heartbeat(Context().get(), heartbeat, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(ClaimStatus(server.stub(), std::string(256, 'w'), 1, &claimed).ok());
}

TEST(LimitsTest, OnlyTheLeaseHolderMaySubmitOrHeartbeat) {
  TestServer server;
  EnqueueN(server.stub(), 1);
  v1::ClaimTaskResponse claimed = Claim(server.stub(), "owner");
  ASSERT_EQ(claimed.tasks_size(), 1);
  const v1::ClaimedTask& task = claimed.tasks(0);

  // Another worker with the right fencing token: refused.
  v1::SubmitResultResponse ack = Submit(server.stub(), Success(task, "impostor", "{\"x\":1}"));
  EXPECT_FALSE(ack.accepted());
  EXPECT_EQ(ack.reject_reason(), v1::REJECT_REASON_WRONG_WORKER);
  EXPECT_NE(ack.message().find("is leased to 'owner', not 'impostor'"), std::string::npos)
      << ack.message();
  // No worker_id at all is no way around it.
  v1::SubmitResultRequest anonymous = Success(task, "");
  ack = Submit(server.stub(), anonymous);
  EXPECT_FALSE(ack.accepted());
  EXPECT_EQ(ack.reject_reason(), v1::REJECT_REASON_INVALID);
  EXPECT_NE(ack.message().find("worker_id is empty"), std::string::npos) << ack.message();

  // The impostor's heartbeat does not extend the owner's lease.
  v1::HeartbeatRequest heartbeat;
  heartbeat.set_worker_id("impostor");
  v1::HeldLease* held = heartbeat.add_leases();
  held->set_task_id(task.task_id());
  held->set_fencing_token(task.lease().fencing_token());
  v1::HeartbeatResponse beat;
  ASSERT_TRUE(server.stub().Heartbeat(Context().get(), heartbeat, &beat).ok());
  ASSERT_EQ(beat.lost_task_ids_size(), 1);
  EXPECT_EQ(beat.lost_task_ids(0), task.task_id());
  EXPECT_EQ(GetTask(server.stub(), task.task_id()).task().lease_deadline_unix_ms(),
            task.lease().deadline_unix_ms());

  // The owner's result is the one stored.
  ack = Submit(server.stub(), Success(task, "owner", "{\"by\":\"owner\"}"));
  EXPECT_TRUE(ack.accepted()) << ack.message();
  v1::GetResultRequest get;
  get.set_task_id(task.task_id());
  v1::GetResultResponse result;
  ASSERT_TRUE(server.stub().GetResult(Context().get(), get, &result).ok());
  EXPECT_EQ(result.result_json(), "{\"by\":\"owner\"}");
}

}  // namespace
}  // namespace skillstore::server::testing
