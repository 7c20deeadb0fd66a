#include "service.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "authorizer.h"
#include "codec.h"
#include "server_metrics.h"
#include "spdlog/spdlog.h"
#include "submit_stream.h"

namespace skillstore::server {
namespace {

// Stored with every worker row and sent back on every read (so are a task's
// metadata and key, limited in service.h).
constexpr size_t kMaxWorkerIdBytes = 256;
// What a worker says about itself (hostname, version), shown in every row
// of `skillctl workers`; a cancel reason, kept as the task's last error.
constexpr size_t kMaxWorkerLabelBytes = 256;
constexpr size_t kMaxCancelReasonBytes = 4096;
// The bounds of --max-attempts, and a week per attempt: larger values are
// typing mistakes, and a huge timeout would hold a worker slot for years.
constexpr int kMaxAttemptsPerTask = 1000;
constexpr int kMaxTaskTimeoutSeconds = 7 * 24 * 3600;

// The worker's id and the id of its run (instance_id, optional), both
// stored in the workers row.
absl::Status CheckWorkerId(const std::string& worker_id, const std::string& instance_id) {
  if (worker_id.empty()) {
    return absl::InvalidArgumentError("worker_id is empty; every worker needs a stable unique id");
  }
  if (worker_id.size() > kMaxWorkerIdBytes) {
    return absl::InvalidArgumentError(absl::StrCat("worker_id is ", worker_id.size(),
                                                   " bytes; the limit is ", kMaxWorkerIdBytes));
  }
  if (instance_id.size() > kMaxWorkerIdBytes) {
    return absl::InvalidArgumentError(absl::StrCat("instance_id is ", instance_id.size(),
                                                   " bytes; the limit is ", kMaxWorkerIdBytes));
  }
  return absl::OkStatus();
}

absl::Status CheckLength(absl::string_view field, const std::string& value, size_t limit) {
  if (value.size() <= limit) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " is ", value.size(), " bytes; the limit is ", limit));
}

absl::Status CheckTypes(const google::protobuf::RepeatedField<int>& types) {
  for (int type : types) {
    if (TaskTypeText(static_cast<v1::TaskType>(type)).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("types contains ", type,
                       "; use TASK_TYPE_PARSE, TASK_TYPE_VALIDATE or "
                       "TASK_TYPE_ANALYZE (or leave types empty for all)"));
    }
  }
  return absl::OkStatus();
}

// The reactor of one ClaimTask call. The answer leases tasks; when it does
// not reach the client (the call was cancelled, by the client or its
// deadline, while the answer went out: gRPC then reports the call cancelled
// in OnDone), the leases end at once (TaskWriter::EndUndeliveredLeases)
// rather than hold their tasks for --lease-seconds. A cancel that comes
// before the leases are granted is the write loop's `cancelled` poll.
class ClaimReactor : public grpc::ServerUnaryReactor {
 public:
  ClaimReactor(grpc::CallbackServerContext* context, WriteLoop& write_loop, InFlightRpcs& in_flight)
      : context_(context), write_loop_(write_loop), in_flight_(in_flight) {
    in_flight_.Begin();
  }

  void Answer(absl::StatusOr<v1::ClaimTaskResponse> result, v1::ClaimTaskResponse* response) {
    if (result.ok()) {
      for (const v1::ClaimedTask& task : result->tasks()) {
        int64_t task_id = 0;
        if (absl::SimpleAtoi(task.task_id(), &task_id)) {
          granted_.push_back({task_id, task.lease().fencing_token()});
        }
      }
      *response = *std::move(result);
    }
    Finish(ToGrpcStatus(result.status()));  // OnDone may run from here on
  }

  void OnCancel() override {}

  void OnDone() override {
    if (context_->IsCancelled() && !granted_.empty()) {
      spdlog::warn(
          "a ClaimTask answer of {} task(s) did not reach its worker (the call was "
          "cancelled); their leases end now",
          granted_.size());
      write_loop_.Run(
          [granted = std::move(granted_)](TaskWriter& writer, int64_t now_ms, TxnEffects& effects) {
            return writer.EndUndeliveredLeases(granted, now_ms, effects);
          },
          [](const absl::Status& status) {
            if (!status.ok()) {
              spdlog::warn(
                  "the leases of an undelivered ClaimTask answer were kept ({}); they "
                  "end at their deadline",
                  status.ToString());
            }
          });
    }
    in_flight_.End();
    delete this;
  }

 private:
  grpc::CallbackServerContext* const context_;
  WriteLoop& write_loop_;
  InFlightRpcs& in_flight_;
  std::vector<TaskWriter::GrantedLease> granted_;
};

}  // namespace

grpc::ServerUnaryReactor* SkillStoreService::StartUnary(grpc::CallbackServerContext* context) {
  in_flight_.Begin();
  return context->DefaultReactor();
}

void SkillStoreService::Finish(grpc::ServerUnaryReactor* reactor, const absl::Status& status) {
  reactor->Finish(ToGrpcStatus(status));
  in_flight_.End();
}

grpc::ServerUnaryReactor* SkillStoreService::FinishNow(grpc::CallbackServerContext* context,
                                                       const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = StartUnary(context);
  Finish(reactor, status);
  return reactor;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status SkillStoreService::ValidateEnqueue(const v1::EnqueueRequest& request) const {
  if (request.tasks().empty()) {
    return absl::InvalidArgumentError("EnqueueRequest.tasks is empty; send at least one task");
  }
  if (request.tasks_size() > options_.max_enqueue_batch) {
    return absl::InvalidArgumentError(absl::StrCat("EnqueueRequest has ", request.tasks_size(),
                                                   " tasks; send at most ",
                                                   options_.max_enqueue_batch, " per call"));
  }
  for (int i = 0; i < request.tasks_size(); ++i) {
    const v1::TaskSpec& spec = request.tasks(i);
    // Built only for an error: this loop runs for every task enqueued.
    auto where = [&] {
      return absl::StrCat("tasks[", i, "] (skill_path ", QuotedForMessage(spec.skill_path()), ")");
    };
    if (TaskTypeText(spec.type()).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), ": type is ",
                       v1::TaskType_Name(spec.type()).empty() ? absl::StrCat(spec.type())
                                                              : v1::TaskType_Name(spec.type()),
                       "; set TASK_TYPE_PARSE, TASK_TYPE_VALIDATE or TASK_TYPE_ANALYZE"));
    }
    if (static_cast<int64_t>(spec.content().size()) > options_.max_content_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          where(), ": content is ", spec.content().size(), " bytes, over the server limit of ",
          options_.max_content_bytes, " bytes (skillstore-server --max-content-bytes)"));
    }
    if (!spec.has_content() && spec.skill_path().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), ": neither content nor skill_path is set; a worker needs one"));
    }
    if (spec.skill_path().size() > kMaxSkillPathBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("tasks[", i, "]: skill_path is longer than ", kMaxSkillPathBytes, " bytes"));
    }
    if (spec.idempotency_key().size() > kMaxIdempotencyKeyBytes) {
      return absl::InvalidArgumentError(absl::StrCat(where(), ": idempotency_key is longer than ",
                                                     kMaxIdempotencyKeyBytes, " bytes"));
    }
    size_t metadata_bytes = 0;
    for (const auto& [key, value] : spec.metadata()) metadata_bytes += key.size() + value.size();
    if (metadata_bytes > kMaxMetadataBytes) {
      return absl::InvalidArgumentError(absl::StrCat(where(), ": metadata is ", metadata_bytes,
                                                     " bytes (keys and values); the limit is ",
                                                     kMaxMetadataBytes));
    }
    if (spec.max_attempts() < 0 || spec.max_attempts() > kMaxAttemptsPerTask) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), ": max_attempts is ", spec.max_attempts(), "; send 1 to ",
                       kMaxAttemptsPerTask, ", or 0 for the default"));
    }
    if (spec.timeout_seconds() < 0 || spec.timeout_seconds() > kMaxTaskTimeoutSeconds) {
      return absl::InvalidArgumentError(
          absl::StrCat(where(), ": timeout_seconds is ", spec.timeout_seconds(), "; send 1 to ",
                       kMaxTaskTimeoutSeconds, " (a week), or 0 for the worker's default"));
    }
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* SkillStoreService::Enqueue(grpc::CallbackServerContext* context,
                                                     const v1::EnqueueRequest* request,
                                                     v1::EnqueueResponse* response) {
  if (absl::Status s = Authorize(options_.authorizer, *context, auth::Role::kAdmin, "Enqueue");
      !s.ok()) {
    return FinishNow(context, s);
  }
  if (absl::Status status = ValidateEnqueue(*request); !status.ok()) {
    return FinishNow(context, status);
  }
  if (options_.max_queued_tasks > 0) {
    const int64_t queued = progress_.Snapshot(NowUnixMs()).queued();
    if (queued + request->tasks_size() > options_.max_queued_tasks) {
      return FinishNow(context, absl::ResourceExhaustedError(absl::StrCat(
                                    queued, " tasks are queued; ", request->tasks_size(),
                                    " more would pass the server limit of ",
                                    options_.max_queued_tasks,
                                    " (skillstore-server --max-queued-tasks); wait for workers "
                                    "to drain the queue")));
    }
  }
  return RunWrite(
      context, [request, response](TaskWriter& writer, int64_t now_ms, TxnEffects& effects) {
        absl::StatusOr<v1::EnqueueResponse> result = writer.Enqueue(*request, now_ms, effects);
        if (!result.ok()) return result.status();
        *response = *std::move(result);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SkillStoreService::ClaimTask(grpc::CallbackServerContext* context,
                                                       const v1::ClaimTaskRequest* request,
                                                       v1::ClaimTaskResponse* response) {
  if (absl::Status s =
          AuthorizeWorker(options_.authorizer, *context, "ClaimTask", request->worker_id());
      !s.ok()) {
    return FinishNow(context, s);
  }
  if (absl::Status status = CheckWorkerId(request->worker_id(), request->instance_id());
      !status.ok()) {
    return FinishNow(context, status);
  }
  if (request->max_tasks() < 0 || request->wait_seconds() < 0) {
    return FinishNow(context,
                     absl::InvalidArgumentError("max_tasks and wait_seconds must not be negative"));
  }
  if (absl::Status status = CheckLength("hostname", request->hostname(), kMaxWorkerLabelBytes);
      !status.ok()) {
    return FinishNow(context, status);
  }
  if (absl::Status status = CheckTypes(request->types()); !status.ok()) {
    return FinishNow(context, status);
  }
  const int64_t now_ms = NowUnixMs();
  int64_t deadline_ms =
      now_ms + int64_t{std::min(request->wait_seconds(), options_.max_claim_wait_seconds)} * 1000;
  // Answer (empty) a little before the client's own deadline, not after it.
  const int64_t client_deadline_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(context->deadline().time_since_epoch())
          .count();
  if (client_deadline_ms > 0) deadline_ms = std::min(deadline_ms, client_deadline_ms - 250);

  auto* reactor = new ClaimReactor(context, write_loop_, in_flight_);
  write_loop_.Claim(
      *request, deadline_ms, [context] { return context->IsCancelled(); },
      [reactor, response, metrics = options_.metrics,
       started = std::chrono::steady_clock::now()](absl::StatusOr<v1::ClaimTaskResponse> result) {
        if (metrics != nullptr) {
          metrics->OnClaimAnswered(
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
              result.ok() ? result->tasks_size() : -1);
        }
        reactor->Answer(std::move(result), response);
      });
  return reactor;
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* SkillStoreService::SubmitResult(
    grpc::CallbackServerContext* context) {
  absl::StatusOr<Grant> grant =
      AuthorizeWorkerStream(options_.authorizer, *context, "SubmitResult");
  if (!grant.ok()) {
    return new RefusedBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>(ToGrpcStatus(grant.status()));
  }
  return new SubmitStream(write_loop_, in_flight_, *std::move(grant));
}

grpc::ServerUnaryReactor* SkillStoreService::Heartbeat(grpc::CallbackServerContext* context,
                                                       const v1::HeartbeatRequest* request,
                                                       v1::HeartbeatResponse* response) {
  if (absl::Status s =
          AuthorizeWorker(options_.authorizer, *context, "Heartbeat", request->worker_id());
      !s.ok()) {
    return FinishNow(context, s);
  }
  if (absl::Status status = CheckWorkerId(request->worker_id(), request->instance_id());
      !status.ok()) {
    return FinishNow(context, status);
  }
  if (absl::Status status = CheckTypes(request->types()); !status.ok()) {
    return FinishNow(context, status);
  }
  if (absl::Status status = CheckLength("hostname", request->hostname(), kMaxWorkerLabelBytes);
      !status.ok()) {
    return FinishNow(context, status);
  }
  if (absl::Status status = CheckLength("version", request->version(), kMaxWorkerLabelBytes);
      !status.ok()) {
    return FinishNow(context, status);
  }
  if (request->concurrency() < 0) {
    return FinishNow(context, absl::InvalidArgumentError(absl::StrCat(
                                  "concurrency is ", request->concurrency(),
                                  "; it is the worker's number of task slots, 0 or more")));
  }
  return RunWrite(
      context, [request, response](TaskWriter& writer, int64_t now_ms, TxnEffects& effects) {
        absl::StatusOr<v1::HeartbeatResponse> result = writer.Heartbeat(*request, now_ms, effects);
        if (!result.ok()) return result.status();
        *response = *std::move(result);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* SkillStoreService::GetProgress(grpc::CallbackServerContext* context,
                                                         const v1::GetProgressRequest* request,
                                                         v1::Progress* response) {
  if (absl::Status s = Authorize(options_.authorizer, *context, auth::Role::kReader, "GetProgress");
      !s.ok()) {
    return FinishNow(context, s);
  }
  *response = progress_.Snapshot(NowUnixMs());
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerWriteReactor<v1::Progress>* SkillStoreService::WatchProgress(
    grpc::CallbackServerContext* context, const v1::WatchProgressRequest* request) {
  if (absl::Status s =
          Authorize(options_.authorizer, *context, auth::Role::kReader, "WatchProgress");
      !s.ok()) {
    return new RefusedWriteReactor<v1::Progress>(ToGrpcStatus(s));
  }
  if (request->min_interval_ms() < 0) {
    return new RefusedWriteReactor<v1::Progress>(ToGrpcStatus(absl::InvalidArgumentError(
        absl::StrCat("min_interval_ms is ", request->min_interval_ms(),
                     "; send 0 for the server default or a positive number of milliseconds"))));
  }
  in_flight_.Begin();
  return watchers_.Watch(context, request, [this] { in_flight_.End(); });
}

grpc::ServerUnaryReactor* SkillStoreService::ListTasks(grpc::CallbackServerContext* context,
                                                       const v1::ListTasksRequest* request,
                                                       v1::ListTasksResponse* response) {
  if (absl::Status s = Authorize(options_.authorizer, *context, auth::Role::kReader, "ListTasks");
      !s.ok()) {
    return FinishNow(context, s);
  }
  return FinishRead(context, reader_.ListTasks(*request), response);
}

grpc::ServerUnaryReactor* SkillStoreService::GetTask(grpc::CallbackServerContext* context,
                                                     const v1::GetTaskRequest* request,
                                                     v1::GetTaskResponse* response) {
  if (absl::Status s = Authorize(options_.authorizer, *context, auth::Role::kReader, "GetTask");
      !s.ok()) {
    return FinishNow(context, s);
  }
  return FinishRead(context, reader_.GetTask(*request), response);
}

grpc::ServerUnaryReactor* SkillStoreService::GetResult(grpc::CallbackServerContext* context,
                                                       const v1::GetResultRequest* request,
                                                       v1::GetResultResponse* response) {
  if (absl::Status s = Authorize(options_.authorizer, *context, auth::Role::kReader, "GetResult");
      !s.ok()) {
    return FinishNow(context, s);
  }
  return FinishRead(context, reader_.GetResult(*request), response);
}

grpc::ServerUnaryReactor* SkillStoreService::ListWorkers(grpc::CallbackServerContext* context,
                                                         const v1::ListWorkersRequest* request,
                                                         v1::ListWorkersResponse* response) {
  if (absl::Status s = Authorize(options_.authorizer, *context, auth::Role::kReader, "ListWorkers");
      !s.ok()) {
    return FinishNow(context, s);
  }
  return FinishRead(context, reader_.ListWorkers(*request), response);
}

grpc::ServerUnaryReactor* SkillStoreService::CancelTask(grpc::CallbackServerContext* context,
                                                        const v1::CancelTaskRequest* request,
                                                        v1::CancelTaskResponse* response) {
  if (absl::Status s = Authorize(options_.authorizer, *context, auth::Role::kAdmin, "CancelTask");
      !s.ok()) {
    return FinishNow(context, s);
  }
  if (absl::StatusOr<int64_t> id = TaskIdArgument(request->task_id()); !id.ok()) {
    return FinishNow(context, id.status());
  }
  if (absl::Status status = CheckLength("reason", request->reason(), kMaxCancelReasonBytes);
      !status.ok()) {
    return FinishNow(context, status);
  }
  return RunWrite(context,
                  [request, response](TaskWriter& writer, int64_t now_ms, TxnEffects& effects) {
                    absl::StatusOr<v1::TaskInfo> task = writer.Cancel(*request, now_ms, effects);
                    if (!task.ok()) return task.status();
                    *response->mutable_task() = *std::move(task);
                    return absl::OkStatus();
                  });
}

grpc::ServerUnaryReactor* SkillStoreService::RetryTask(grpc::CallbackServerContext* context,
                                                       const v1::RetryTaskRequest* request,
                                                       v1::RetryTaskResponse* response) {
  if (absl::Status s = Authorize(options_.authorizer, *context, auth::Role::kAdmin, "RetryTask");
      !s.ok()) {
    return FinishNow(context, s);
  }
  if (request->task_id().empty() == !request->all_failed()) {
    return FinishNow(
        context, absl::InvalidArgumentError("set exactly one of task_id (one task) or all_failed"));
  }
  if (!request->all_failed()) {
    if (absl::StatusOr<int64_t> id = TaskIdArgument(request->task_id()); !id.ok()) {
      return FinishNow(context, id.status());
    }
  }
  return RunWrite(
      context, [request, response](TaskWriter& writer, int64_t now_ms, TxnEffects& effects) {
        absl::StatusOr<v1::RetryTaskResponse> result = writer.Retry(*request, now_ms, effects);
        if (!result.ok()) return result.status();
        *response = *std::move(result);
        return absl::OkStatus();
      });
}

}  // namespace skillstore::server
