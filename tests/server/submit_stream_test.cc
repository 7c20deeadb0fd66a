// The SubmitResult stream's acknowledgements over real gRPC: one per result,
// in commit order, several to a message only for a client that asked for it
// (accepts_ack_batches), one per message for every other client.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "server_test_util.h"

namespace skillstore::server {
namespace {

using namespace skillstore::server::testing;  // TestServer and its helpers

constexpr int kTasks = 200;
constexpr int kResultsPerMessage = 50;

struct AckTally {
  int messages = 0;
  int batched_messages = 0;  // messages carrying more_acks
  std::vector<v1::SubmitResultResponse> acks;  // flattened, in arrival order
};

// Claims kTasks tasks as "w1" and submits a success for each, kResultsPerMessage
// results per stream message; reads until every result is acknowledged.
AckTally SubmitAll(TestServer& server, bool accepts_ack_batches) {
  auto& stub = server.stub();
  EnqueueN(stub, kTasks);
  std::vector<v1::ClaimedTask> tasks;
  while (static_cast<int>(tasks.size()) < kTasks) {
    v1::ClaimTaskResponse claim = Claim(stub, "w1", kTasks - static_cast<int>(tasks.size()));
    EXPECT_GT(claim.tasks_size(), 0);
    if (claim.tasks_size() == 0) return {};
    for (const v1::ClaimedTask& task : claim.tasks()) tasks.push_back(task);
  }

  auto context = Context();
  auto stream = stub.SubmitResult(context.get());
  for (int first = 0; first < kTasks; first += kResultsPerMessage) {
    v1::SubmitResultRequest message = Success(tasks[first], "w1", "{\"n\":1}");
    message.set_accepts_ack_batches(accepts_ack_batches);
    for (int i = first + 1; i < first + kResultsPerMessage; ++i) {
      *message.add_more_results() = Success(tasks[i], "w1", "{\"n\":1}");
    }
    EXPECT_TRUE(stream->Write(message));
  }
  stream->WritesDone();

  AckTally tally;
  v1::SubmitResultResponse message;
  while (static_cast<int>(tally.acks.size()) < kTasks && stream->Read(&message)) {
    ++tally.messages;
    if (message.more_acks_size() > 0) ++tally.batched_messages;
    google::protobuf::RepeatedPtrField<v1::SubmitResultResponse> more;
    more.Swap(message.mutable_more_acks());
    tally.acks.push_back(message);
    for (v1::SubmitResultResponse& ack : more) {
      EXPECT_EQ(ack.more_acks_size(), 0) << "acknowledgements nest only one level";
      tally.acks.push_back(std::move(ack));
    }
  }
  EXPECT_TRUE(stream->Finish().ok());
  return tally;
}

void ExpectEveryResultAcknowledgedOnce(const AckTally& tally, TestServer& server) {
  ASSERT_EQ(static_cast<int>(tally.acks.size()), kTasks);
  std::set<std::string> seen;
  for (const v1::SubmitResultResponse& ack : tally.acks) {
    EXPECT_TRUE(ack.accepted()) << ack.task_id() << ": " << ack.message();
    EXPECT_EQ(ack.task_status(), v1::TASK_STATUS_COMPLETED);
    EXPECT_TRUE(seen.insert(ack.task_id()).second) << "two acks for " << ack.task_id();
  }
  EXPECT_EQ(GetProgress(server.stub()).completed(), kTasks);
}

TEST(SubmitStreamTest, AcksQueuedDuringAWriteShareTheNextMessageWhenTheClientAcceptsBatches) {
  TestServer server;
  const AckTally tally = SubmitAll(server, /*accepts_ack_batches=*/true);
  ExpectEveryResultAcknowledgedOnce(tally, server);
  // The acknowledgements of one commit are queued together behind the
  // first one's write, so they cannot all have gone one per message.
  EXPECT_LT(tally.messages, kTasks);
  EXPECT_GT(tally.batched_messages, 0);
}

TEST(SubmitStreamTest, ClientsThatDoNotAskGetOneAckPerMessage) {
  TestServer server;
  const AckTally tally = SubmitAll(server, /*accepts_ack_batches=*/false);
  ExpectEveryResultAcknowledgedOnce(tally, server);
  EXPECT_EQ(tally.messages, kTasks);
  EXPECT_EQ(tally.batched_messages, 0);
}

}  // namespace
}  // namespace skillstore::server
