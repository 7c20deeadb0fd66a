// The gRPC SkillStore service (callback API). Requests are validated here;
// state changes go to the write loop, reads to the task reader, progress to
// the in-memory tracker. No handler blocks a thread waiting for a commit or a
// long-poll: reactors are finished from the writer thread after its COMMIT.
#ifndef SKILLSTORE_SERVER_SERVICE_H_
#define SKILLSTORE_SERVER_SERVICE_H_

#include <cstdint>

#include "in_flight.h"
#include "progress.h"
#include "progress_watchers.h"
#include "skillstore/v1/skillstore.grpc.pb.h"
#include "task_reader.h"
#include "write_loop.h"

namespace skillstore::server {

class Authorizer;
class ServerMetrics;

// Largest content, skill_path, idempotency key and metadata (keys and
// values) of one task; Enqueue refuses more.
inline constexpr size_t kMaxSkillPathBytes = 4096;
inline constexpr size_t kMaxIdempotencyKeyBytes = 1024;
inline constexpr size_t kMaxMetadataBytes = 64 << 10;
// The default content limit keeps a claimed task, with the largest
// skill_path, key and metadata above and its lease, inside the 4 MiB a gRPC
// client receives by default. A larger task would be leased to a client that
// cannot receive it (the server cannot see that), and come back only when the
// lease runs out, attempt after attempt.
inline constexpr int64_t kDefaultMaxContentBytes = (4 << 20) - (128 << 10);

struct ServiceOptions {
  // Largest TaskSpec.content accepted (RESOURCE_EXHAUSTED above it).
  int64_t max_content_bytes = kDefaultMaxContentBytes;
  // Cap on ClaimTaskRequest.wait_seconds.
  int max_claim_wait_seconds = 30;
  // Cap on tasks in one EnqueueRequest (one transaction).
  int max_enqueue_batch = 10000;
  // Enqueue is refused (RESOURCE_EXHAUSTED) while this many tasks are queued
  // (0: no limit): a runaway producer fills the disk otherwise.
  int64_t max_queued_tasks = 10000000;
  // Told how long each ClaimTask waited; optional.
  ServerMetrics* metrics = nullptr;
  // Checks each call's token (authorizer.h); null: no authentication.
  const Authorizer* authorizer = nullptr;
};

// gRPC's callback API for every method, SubmitResult reading raw bytes that
// its reactor parses itself (submit_stream.h says why). Every method must be
// named here: one left out would be served by the synchronous API.
using SkillStoreServiceBase = v1::SkillStore::WithCallbackMethod_Enqueue<
    v1::SkillStore::WithCallbackMethod_ClaimTask<v1::SkillStore::WithRawCallbackMethod_SubmitResult<
        v1::SkillStore::WithCallbackMethod_Heartbeat<v1::SkillStore::WithCallbackMethod_GetProgress<
            v1::SkillStore::WithCallbackMethod_WatchProgress<
                v1::SkillStore::WithCallbackMethod_ListTasks<
                    v1::SkillStore::WithCallbackMethod_GetTask<
                        v1::SkillStore::WithCallbackMethod_GetResult<
                            v1::SkillStore::WithCallbackMethod_ListWorkers<
                                v1::SkillStore::WithCallbackMethod_CancelTask<
                                    v1::SkillStore::WithCallbackMethod_RetryTask<
                                        v1::SkillStore::Service>>>>>>>>>>>>;

class SkillStoreService final : public SkillStoreServiceBase {
 public:
  SkillStoreService(WriteLoop& write_loop, TaskReader& reader, ProgressTracker& progress,
                    ProgressWatchers& watchers, ServiceOptions options)
      : write_loop_(write_loop),
        reader_(reader),
        progress_(progress),
        watchers_(watchers),
        options_(options) {}

  grpc::ServerUnaryReactor* Enqueue(grpc::CallbackServerContext* context,
                                    const v1::EnqueueRequest* request,
                                    v1::EnqueueResponse* response) override;
  grpc::ServerUnaryReactor* ClaimTask(grpc::CallbackServerContext* context,
                                      const v1::ClaimTaskRequest* request,
                                      v1::ClaimTaskResponse* response) override;
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* SubmitResult(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* context,
                                      const v1::HeartbeatRequest* request,
                                      v1::HeartbeatResponse* response) override;
  grpc::ServerUnaryReactor* GetProgress(grpc::CallbackServerContext* context,
                                        const v1::GetProgressRequest* request,
                                        v1::Progress* response) override;
  grpc::ServerWriteReactor<v1::Progress>* WatchProgress(
      grpc::CallbackServerContext* context, const v1::WatchProgressRequest* request) override;
  grpc::ServerUnaryReactor* ListTasks(grpc::CallbackServerContext* context,
                                      const v1::ListTasksRequest* request,
                                      v1::ListTasksResponse* response) override;
  grpc::ServerUnaryReactor* GetTask(grpc::CallbackServerContext* context,
                                    const v1::GetTaskRequest* request,
                                    v1::GetTaskResponse* response) override;
  grpc::ServerUnaryReactor* GetResult(grpc::CallbackServerContext* context,
                                      const v1::GetResultRequest* request,
                                      v1::GetResultResponse* response) override;
  grpc::ServerUnaryReactor* ListWorkers(grpc::CallbackServerContext* context,
                                        const v1::ListWorkersRequest* request,
                                        v1::ListWorkersResponse* response) override;
  grpc::ServerUnaryReactor* CancelTask(grpc::CallbackServerContext* context,
                                       const v1::CancelTaskRequest* request,
                                       v1::CancelTaskResponse* response) override;
  grpc::ServerUnaryReactor* RetryTask(grpc::CallbackServerContext* context,
                                      const v1::RetryTaskRequest* request,
                                      v1::RetryTaskResponse* response) override;

  // Shutdown waits for these.
  InFlightRpcs& in_flight() { return in_flight_; }

 private:
  absl::Status ValidateEnqueue(const v1::EnqueueRequest& request) const;
  // Every RPC starts through one of these and ends in Finish (unary).
  grpc::ServerUnaryReactor* StartUnary(grpc::CallbackServerContext* context);
  void Finish(grpc::ServerUnaryReactor* reactor, const absl::Status& status);
  grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                      const absl::Status& status);
  // A read's answer, once every commit it may have seen is durable
  // (WriteLoop::AwaitDurable): no client sees what a power cut could undo.
  template <typename Response>
  grpc::ServerUnaryReactor* FinishRead(grpc::CallbackServerContext* context,
                                       absl::StatusOr<Response> result, Response* response) {
    write_loop_.AwaitDurable();
    if (result.ok()) *response = *std::move(result);
    return FinishNow(context, result.status());
  }
  template <typename Fn>
  grpc::ServerUnaryReactor* RunWrite(grpc::CallbackServerContext* context, Fn apply) {
    grpc::ServerUnaryReactor* reactor = StartUnary(context);
    write_loop_.Run(std::move(apply),
                    [this, reactor](const absl::Status& status) { Finish(reactor, status); });
    return reactor;
  }

  InFlightRpcs in_flight_;

  WriteLoop& write_loop_;
  TaskReader& reader_;
  ProgressTracker& progress_;
  ProgressWatchers& watchers_;
  const ServiceOptions options_;
};

// The gRPC form of an absl::Status (the codes are numerically identical).
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_SERVICE_H_
