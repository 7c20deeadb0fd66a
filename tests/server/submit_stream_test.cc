// The SubmitResult stream's acknowledgements over real gRPC: one per result,
// in commit order, several to a message only for a client that asked for it
// (accepts_ack_batches), one per message for every other client; a message
// that does not parse ends the stream with INVALID_ARGUMENT.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/codegen/proto_utils.h>
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

// The stream's messages reach the server's own parsing decompressed: a
// client that compresses them (gzip here) gets its results stored.
TEST(SubmitStreamTest, CompressedMessagesAreRead) {
  TestServer server;
  EnqueueN(server.stub(), 2);
  v1::ClaimTaskResponse claim = Claim(server.stub(), "w1", 2);
  ASSERT_EQ(claim.tasks_size(), 2);
  auto context = Context();
  context->set_compression_algorithm(GRPC_COMPRESS_GZIP);
  auto stream = server.stub().SubmitResult(context.get());
  // A long result, so that compression is worth it and is applied.
  const std::string result = "{\"text\":\"" + std::string(64 << 10, 'a') + "\"}";
  for (const v1::ClaimedTask& task : claim.tasks()) {
    ASSERT_TRUE(stream->Write(Success(task, "w1", result)));
  }
  stream->WritesDone();
  v1::SubmitResultResponse ack;
  int accepted = 0;
  while (stream->Read(&ack)) accepted += ack.accepted() ? 1 : 0;
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(accepted, 2);
  EXPECT_EQ(GetProgress(server.stub()).completed(), 2);
}

// Waits for the one operation in flight on `cq` and returns its ok.
bool Await(grpc::CompletionQueue& cq) {
  void* tag = nullptr;
  bool ok = false;
  EXPECT_TRUE(cq.Next(&tag, &ok));
  return ok;
}

grpc::ByteBuffer BytesOf(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// A client that is not ours sends bytes protobuf refuses (here a string field
// holding invalid UTF-8) after a good result: the good one is acknowledged
// and stored, the stream ends INVALID_ARGUMENT saying which message it was.
// gRPC alone would end it OK, and a client trusting that status would take
// the unacknowledged result for delivered.
TEST(SubmitStreamTest, AMessageThatDoesNotParseEndsTheStreamWithInvalidArgument) {
  TestServer server;
  EnqueueN(server.stub(), 1);
  v1::ClaimTaskResponse claim = Claim(server.stub(), "w1", 1);
  ASSERT_EQ(claim.tasks_size(), 1);

  grpc::GenericStub generic(server.channel());
  grpc::CompletionQueue cq;
  auto context = Context();
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call =
      generic.PrepareCall(context.get(), "/skillstore.v1.SkillStore/SubmitResult", &cq);
  call->StartCall(nullptr);
  ASSERT_TRUE(Await(cq));

  call->Write(BytesOf(Success(claim.tasks(0), "w1", "{\"n\":1}").SerializeAsString()), nullptr);
  ASSERT_TRUE(Await(cq));
  grpc::ByteBuffer ack_bytes;
  call->Read(&ack_bytes, nullptr);
  ASSERT_TRUE(Await(cq));
  v1::SubmitResultResponse ack;
  ASSERT_TRUE(
      grpc::SerializationTraits<v1::SubmitResultResponse>::Deserialize(&ack_bytes, &ack).ok());
  EXPECT_TRUE(ack.accepted()) << ack.message();

  // Field 6 (error), length-delimited, two bytes that are not UTF-8.
  const std::string not_utf8 = {'\x32', '\x02', '\xff', '\xfe'};
  v1::SubmitResultRequest check;
  ASSERT_FALSE(check.ParseFromString(not_utf8)) << "the bytes must be ones protobuf refuses";
  call->Write(BytesOf(not_utf8), nullptr);
  Await(cq);  // the server may already have stopped reading
  call->WritesDone(nullptr);
  Await(cq);
  call->Read(&ack_bytes, nullptr);
  EXPECT_FALSE(Await(cq)) << "no acknowledgement for a message that does not parse";
  grpc::Status status;
  call->Finish(&status, nullptr);
  ASSERT_TRUE(Await(cq));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("message 2 of this SubmitResult stream"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(GetProgress(server.stub()).completed(), 1);
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
}

}  // namespace
}  // namespace skillstore::server
