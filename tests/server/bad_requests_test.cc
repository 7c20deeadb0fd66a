// Bad requests get the right status code and a message a person can act on,
// and never hurt the server; health is served (reflection: reflection_test).
#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "server_test_util.h"

namespace skillstore::server::testing {
namespace {

TEST(BadRequests, EnqueueValidation) {
  ServerOptions options = TestServer::DefaultOptions();
  options.service.max_content_bytes = 1024;
  TestServer server(options);
  auto& stub = server.stub();
  v1::EnqueueResponse response;

  v1::EnqueueRequest empty;
  grpc::Status status = stub.Enqueue(Context().get(), empty, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::EnqueueRequest no_type;
  *no_type.add_tasks() = Spec(v1::TASK_TYPE_PARSE, "ok");
  *no_type.add_tasks() = Spec(v1::TASK_TYPE_UNSPECIFIED, "bad");
  status = stub.Enqueue(Context().get(), no_type, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("tasks[1]"), std::string::npos) << status.error_message();

  v1::EnqueueRequest too_big;
  v1::TaskSpec big = Spec(v1::TASK_TYPE_PARSE, "big");
  big.set_content(std::string(2048, 'x'));
  *too_big.add_tasks() = big;
  status = stub.Enqueue(Context().get(), too_big, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("tasks[0]"), std::string::npos);

  // Attempts and per-attempt timeouts within the server's bounds.
  for (const auto& [edit, message] :
       std::vector<std::pair<std::function<void(v1::TaskSpec*)>, std::string>>{
           {[](v1::TaskSpec* t) { t->set_max_attempts(-1); }, "max_attempts is -1; send 1 to 1000"},
           {[](v1::TaskSpec* t) { t->set_max_attempts(1001); }, "max_attempts is 1001"},
           {[](v1::TaskSpec* t) { t->set_timeout_seconds(-5); }, "timeout_seconds is -5"},
           {[](v1::TaskSpec* t) { t->set_timeout_seconds(2147483647); },
            "timeout_seconds is 2147483647; send 1 to 604800 (a week)"}}) {
    v1::EnqueueRequest out_of_range;
    *out_of_range.add_tasks() = Spec(v1::TASK_TYPE_PARSE, "range");
    edit(out_of_range.mutable_tasks(0));
    status = stub.Enqueue(Context().get(), out_of_range, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << message;
    EXPECT_NE(status.error_message().find(message), std::string::npos) << status.error_message();
  }

  v1::EnqueueRequest nothing;
  v1::TaskSpec blank;
  blank.set_type(v1::TASK_TYPE_PARSE);
  *nothing.add_tasks() = blank;
  EXPECT_EQ(stub.Enqueue(Context().get(), nothing, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // A rejected batch stores nothing, not even its valid tasks.
  EXPECT_EQ(GetProgress(stub).total(), 0);
}

TEST(BadRequests, LookupsAndAdmin) {
  TestServer server;
  auto& stub = server.stub();
  const auto ids = EnqueueN(stub, 2);
  // Every RPC that names one task: INVALID_ARGUMENT for text that can never
  // be a task id ("0007" is not how task 7 is written), NOT_FOUND only for a
  // well-formed id without a task.
  const auto codes_for = [&](const std::string& id) {
    v1::GetTaskRequest get;
    get.set_task_id(id);
    v1::GetTaskResponse task;
    v1::GetResultRequest get_result;
    get_result.set_task_id(id);
    v1::GetResultResponse result;
    v1::CancelTaskRequest cancel;
    cancel.set_task_id(id);
    v1::CancelTaskResponse cancelled;
    v1::RetryTaskRequest retry;
    retry.set_task_id(id);
    v1::RetryTaskResponse retried;
    return std::vector<grpc::StatusCode>{
        stub.GetTask(Context().get(), get, &task).error_code(),
        stub.GetResult(Context().get(), get_result, &result).error_code(),
        stub.CancelTask(Context().get(), cancel, &cancelled).error_code(),
        stub.RetryTask(Context().get(), retry, &retried).error_code()};
  };
  for (const std::string& id :
       {std::string(""), std::string("abc"), std::string("-1"), std::string("0"), "000" + ids[0],
        "+" + ids[0], ids[0] + " ", std::string("99999999999999999999")}) {
    EXPECT_EQ(codes_for(id), std::vector<grpc::StatusCode>(4, grpc::StatusCode::INVALID_ARGUMENT))
        << "'" << id << "'";
  }
  EXPECT_EQ(codes_for("424242"), std::vector<grpc::StatusCode>(4, grpc::StatusCode::NOT_FOUND));
  v1::GetTaskRequest get;
  get.set_task_id("00" + ids[0]);
  v1::GetTaskResponse task;
  EXPECT_EQ(stub.GetTask(Context().get(), get, &task).error_message(),
            "task_id '00" + ids[0] +
                "' is not a task id: ids are the decimal numbers Enqueue returns, like '42'");

  // A task without a result: FAILED_PRECONDITION, queued or cancelled.
  v1::GetResultRequest result_request;
  result_request.set_task_id(ids[0]);
  v1::GetResultResponse result;
  EXPECT_EQ(stub.GetResult(Context().get(), result_request, &result).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  v1::CancelTaskRequest cancel;
  cancel.set_task_id(ids[1]);
  v1::CancelTaskResponse cancelled;
  ASSERT_TRUE(stub.CancelTask(Context().get(), cancel, &cancelled).ok());
  result_request.set_task_id(ids[1]);
  const grpc::Status no_result = stub.GetResult(Context().get(), result_request, &result);
  EXPECT_EQ(no_result.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(no_result.error_message(),
              ::testing::HasSubstr("is cancelled and has no stored result"));

  v1::RetryTaskRequest retry;
  v1::RetryTaskResponse retried;
  EXPECT_EQ(stub.RetryTask(Context().get(), retry, &retried).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::WatchProgressRequest watch;
  watch.set_min_interval_ms(-1);
  auto watch_context = Context();
  std::unique_ptr<grpc::ClientReader<v1::Progress>> updates =
      stub.WatchProgress(watch_context.get(), watch);
  v1::Progress progress;
  EXPECT_FALSE(updates->Read(&progress));
  const grpc::Status watch_status = updates->Finish();
  EXPECT_EQ(watch_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(watch_status.error_message(), ::testing::HasSubstr("min_interval_ms is -1"));

  v1::ListTasksRequest list;
  list.set_page_token("not-a-token");
  v1::ListTasksResponse listed;
  EXPECT_EQ(stub.ListTasks(Context().get(), list, &listed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::ClaimTaskRequest claim;
  v1::ClaimTaskResponse claimed;
  EXPECT_EQ(stub.ClaimTask(Context().get(), claim, &claimed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  claim.set_worker_id("w");
  claim.add_types(static_cast<v1::TaskType>(42));
  EXPECT_EQ(stub.ClaimTask(Context().get(), claim, &claimed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::HeartbeatRequest beat;
  v1::HeartbeatResponse beat_response;
  EXPECT_EQ(stub.Heartbeat(Context().get(), beat, &beat_response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// What a worker says about itself and a cancel reason are stored and shown
// in every listing: bounded, and a negative slot count is refused.
TEST(BadRequests, WorkerLabelsAndCancelReasonsAreBounded) {
  TestServer server;
  auto& stub = server.stub();
  const auto heartbeat_code = [&](const std::function<void(v1::HeartbeatRequest*)>& edit) {
    v1::HeartbeatRequest beat;
    beat.set_worker_id("w");
    edit(&beat);
    v1::HeartbeatResponse response;
    return stub.Heartbeat(Context().get(), beat, &response).error_code();
  };
  EXPECT_EQ(heartbeat_code([](v1::HeartbeatRequest*) {}), grpc::StatusCode::OK);
  EXPECT_EQ(heartbeat_code([](v1::HeartbeatRequest* b) { b->set_hostname(std::string(257, 'h')); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(heartbeat_code([](v1::HeartbeatRequest* b) { b->set_version(std::string(257, 'v')); }),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(heartbeat_code([](v1::HeartbeatRequest* b) { b->set_concurrency(-3); }),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::ClaimTaskRequest claim;
  claim.set_worker_id("w");
  claim.set_hostname(std::string(257, 'h'));
  v1::ClaimTaskResponse claimed;
  EXPECT_EQ(stub.ClaimTask(Context().get(), claim, &claimed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  const auto ids = EnqueueN(stub, 1);
  v1::CancelTaskRequest cancel;
  cancel.set_task_id(ids[0]);
  cancel.set_reason(std::string(4097, 'r'));
  v1::CancelTaskResponse cancelled;
  grpc::Status status = stub.CancelTask(Context().get(), cancel, &cancelled);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "reason is 4097 bytes; the limit is 4096");
  cancel.set_reason("no longer needed");
  EXPECT_TRUE(stub.CancelTask(Context().get(), cancel, &cancelled).ok());  // nothing was lost
}

// A huge or binary id is not echoed back whole: the message names its start
// and length (a megabyte did not fit in the status header, and the client
// saw a transport error instead of NOT_FOUND).
TEST(BadRequests, HugeIdsAreQuotedShortInErrors) {
  TestServer server;
  auto& stub = server.stub();
  const std::string huge = std::string(1 << 20, '7') + "x";
  v1::GetTaskRequest get;
  get.set_task_id(huge);
  v1::GetTaskResponse task;
  grpc::Status status = stub.GetTask(Context().get(), get, &task);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(),
              ::testing::StartsWith("task_id '" + std::string(64, '7') +
                                    "'... (1048577 bytes) is not a task id"));

  v1::CancelTaskRequest cancel;
  cancel.set_task_id("1\n\x1b[31m");
  v1::CancelTaskResponse cancelled;
  status = stub.CancelTask(Context().get(), cancel, &cancelled);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), ::testing::StartsWith("task_id '1\\x0a\\x1b[31m' is not"));

  v1::ListTasksRequest list;
  list.set_page_token(huge);
  v1::ListTasksResponse listed;
  status = stub.ListTasks(Context().get(), list, &listed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LT(status.error_message().size(), 200u) << status.error_message().substr(0, 200);
}

TEST(BadRequests, BadSubmissionsAreRejectedNotStored) {
  TestServer server;
  auto& stub = server.stub();
  const auto ids = EnqueueN(stub, 1);
  v1::ClaimTaskResponse claim = Claim(stub, "w1");
  ASSERT_EQ(claim.tasks_size(), 1);

  v1::SubmitResultRequest unknown = Success(claim.tasks(0), "w1");
  unknown.set_task_id("999999");
  EXPECT_EQ(Submit(stub, unknown).reject_reason(), v1::REJECT_REASON_UNKNOWN_TASK);

  // Ids that can never name a task are INVALID, as on the other RPCs.
  for (const std::string& id : {std::string(), "0" + claim.tasks(0).task_id(), std::string("x")}) {
    v1::SubmitResultRequest bad_id = Success(claim.tasks(0), "w1");
    bad_id.set_task_id(id);
    const v1::SubmitResultResponse ack = Submit(stub, bad_id);
    EXPECT_EQ(ack.reject_reason(), v1::REJECT_REASON_INVALID) << id;
    EXPECT_THAT(ack.message(), ::testing::HasSubstr("send the id from the claimed task")) << id;
  }

  // A success without a document would complete the task with nothing to read.
  v1::SubmitResultRequest empty = Success(claim.tasks(0), "w1", "");
  EXPECT_EQ(Submit(stub, empty).reject_reason(), v1::REJECT_REASON_INVALID);

  // A token never issued for the task (TaskLife.MadeUpLeasesAreNamedAsSuch).
  v1::SubmitResultRequest wrong_token = Success(claim.tasks(0), "w1");
  wrong_token.set_fencing_token(wrong_token.fencing_token() + 1000);
  EXPECT_EQ(Submit(stub, wrong_token).reject_reason(), v1::REJECT_REASON_INVALID);

  EXPECT_EQ(Submit(stub, Success(claim.tasks(0), "someone-else")).reject_reason(),
            v1::REJECT_REASON_WRONG_WORKER);

  for (const auto& edit : std::vector<std::function<void(v1::ResultMetrics*)>>{
           [](v1::ResultMetrics* m) { m->set_duration_seconds(-0.5); },
           [](v1::ResultMetrics* m) { m->set_duration_seconds(std::nan("")); },
           [](v1::ResultMetrics* m) { m->set_bytes_in(-1); },
           [](v1::ResultMetrics* m) { m->set_bytes_out(-1); }}) {
    v1::SubmitResultRequest bad_metrics = Success(claim.tasks(0), "w1");
    edit(bad_metrics.mutable_metrics());
    const v1::SubmitResultResponse ack = Submit(stub, bad_metrics);
    EXPECT_EQ(ack.reject_reason(), v1::REJECT_REASON_INVALID) << ack.message();
    EXPECT_THAT(ack.message(), ::testing::HasSubstr("metrics out of range"));
  }

  EXPECT_EQ(GetTask(stub, ids[0]).task().status(), v1::TASK_STATUS_IN_PROGRESS);
  EXPECT_TRUE(Submit(stub, Success(claim.tasks(0), "w1")).accepted());
}

TEST(BadRequests, ManyResultsOnOneStreamAreAckedInOrder) {
  TestServer server;
  auto& stub = server.stub();
  EnqueueN(stub, 50);
  v1::ClaimTaskResponse claim = Claim(stub, "w1", 50);
  ASSERT_EQ(claim.tasks_size(), 50);
  auto context = Context();
  auto stream = stub.SubmitResult(context.get());
  for (const auto& task : claim.tasks()) ASSERT_TRUE(stream->Write(Success(task, "w1")));
  stream->WritesDone();
  for (const auto& task : claim.tasks()) {
    v1::SubmitResultResponse ack;
    ASSERT_TRUE(stream->Read(&ack));
    EXPECT_EQ(ack.task_id(), task.task_id());
    EXPECT_TRUE(ack.accepted());
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(GetProgress(stub).completed(), 50);
}

// Raw protobuf bytes for a message, to talk to services whose generated code
// is not shipped with the gRPC packages (reflection, health).
grpc::ByteBuffer Bytes(const std::string& data) {
  grpc::Slice slice(data);
  return grpc::ByteBuffer(&slice, 1);
}

std::string Flatten(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string out;
  for (const auto& slice : slices)
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  return out;
}

TEST(ServerFeatures, HealthCheckServes) {
  TestServer server;
  grpc::internal::RpcMethod method("/grpc.health.v1.Health/Check",
                                   grpc::internal::RpcMethod::NORMAL_RPC);
  grpc::ByteBuffer reply;
  grpc::Status status = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      server.channel().get(), method, Context().get(), Bytes(""), &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // HealthCheckResponse{status: SERVING} = field 1, varint 1.
  EXPECT_EQ(Flatten(reply), std::string("\x08\x01", 2));
}

// A unary request whose bytes protobuf refuses (here GetTask's task_id, a
// string field, holding invalid UTF-8): gRPC alone answers UNIMPLEMENTED
// with no message, as if the server had no GetTask. A method it really does
// not have still gets UNIMPLEMENTED.
TEST(BadRequests, AnUnparsableRequestIsInvalidArgumentNamingItsType) {
  TestServer server;
  const auto call = [&](const char* path, const std::string& bytes) {
    grpc::internal::RpcMethod method(path, grpc::internal::RpcMethod::NORMAL_RPC);
    grpc::ByteBuffer reply;
    return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        server.channel().get(), method, Context().get(), Bytes(bytes), &reply);
  };
  const std::string not_utf8 = {'\x0a', '\x02', '\xff', '\xfe'};  // field 1, two bytes
  grpc::Status status = call("/skillstore.v1.SkillStore/GetTask", not_utf8);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("is not a skillstore.v1.GetTaskRequest"), std::string::npos)
      << status.error_message();
  status = call("/skillstore.v1.SkillStore/WatchProgress", "\x08");  // a varint cut short
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(call("/skillstore.v1.SkillStore/NoSuchMethod", "").error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  // A well-formed request still gets its own answer.
  v1::GetTaskRequest get;
  get.set_task_id("7");
  EXPECT_EQ(call("/skillstore.v1.SkillStore/GetTask", get.SerializeAsString()).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace skillstore::server::testing
