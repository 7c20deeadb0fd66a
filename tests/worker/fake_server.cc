#include "fake_server.h"

#include <algorithm>
#include <chrono>

namespace skillstore::worker::testing {

using namespace skillstore::v1;

FakeServer::~FakeServer() { Shutdown(); }

void FakeServer::Start(int port) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = false;
  }
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                           &bound);
  builder.RegisterService(this);
  server_ = builder.BuildAndStart();
  port_ = bound;
}

void FakeServer::Shutdown() {
  if (!server_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
  }
  cv_.notify_all();
  server_->Shutdown(std::chrono::system_clock::now());  // cancel streams at once
  server_->Wait();
  server_.reset();
}

std::vector<std::string> FakeServer::AddTasks(int n, const std::string& content,
                                              int timeout_seconds) {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 0; i < n; ++i) {
      std::string id = std::to_string(next_id_++);
      Task& task = tasks_[id];
      task.claimed.set_task_id(id);
      task.claimed.set_type(TASK_TYPE_PARSE);
      task.claimed.set_skill_path("fake/" + id + "/SKILL.md");
      task.claimed.set_content(content);
      task.claimed.set_timeout_seconds(timeout_seconds);
      queue_.push_back(id);
      ids.push_back(id);
    }
  }
  cv_.notify_all();
  return ids;
}

std::string FakeServer::AddTaskWithPath(const std::string& skill_path,
                                        const std::optional<std::string>& content) {
  std::string id = AddTasks(1, content.value_or(""))[0];
  std::lock_guard<std::mutex> lock(mu_);
  tasks_[id].claimed.set_skill_path(skill_path);
  if (!content.has_value()) tasks_[id].claimed.clear_content();
  return id;
}

std::map<std::string, std::vector<FakeServer::Stored>> FakeServer::results() const {
  std::lock_guard<std::mutex> lock(mu_);
  return results_;
}
int FakeServer::submissions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return submissions_;
}
int FakeServer::rejected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rejected_;
}
bool FakeServer::saw_draining_heartbeat() const {
  std::lock_guard<std::mutex> lock(mu_);
  return saw_draining_;
}
void FakeServer::RefuseWith(grpc::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  refuse_ = status;
}
void FakeServer::MarkCancelled(const std::string& task_id) {
  std::lock_guard<std::mutex> lock(mu_);
  cancel_next_.insert(task_id);
  tasks_[task_id].cancelled = true;
}

bool FakeServer::WaitForResults(size_t n, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                      [&] { return results_.size() >= n; });
}

bool FakeServer::WaitForLeased(size_t n, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] {
    size_t leased = 0;
    for (const auto& [id, task] : tasks_) leased += task.leased && !task.done;
    return leased >= n;
  });
}

bool FakeServer::WaitForHeartbeatLeases(size_t n, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                      [&] { return last_heartbeat_leases_ >= n; });
}

grpc::Status FakeServer::ClaimTask(grpc::ServerContext* context, const ClaimTaskRequest* request,
                                   ClaimTaskResponse* response) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!refuse_.ok()) return refuse_;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(request->wait_seconds());
  cv_.wait_until(lock, deadline,
                 [&] { return !queue_.empty() || shutting_down_ || context->IsCancelled(); });
  while (!queue_.empty() && response->tasks_size() < request->max_tasks()) {
    Task& task = tasks_[queue_.front()];
    queue_.pop_front();
    task.leased = true;
    Lease* lease = task.claimed.mutable_lease();
    lease->set_attempt(lease->attempt() + 1);
    lease->set_fencing_token(next_token_++);
    *response->add_tasks() = task.claimed;
  }
  if (response->tasks_size() > 0) ++claims_with_tasks_;
  max_claim_request_ = std::max(max_claim_request_, request->max_tasks());
  response->set_heartbeat_interval_seconds(1);
  response->set_lease_seconds(30);
  cv_.notify_all();
  return grpc::Status::OK;
}

int FakeServer::claims_with_tasks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return claims_with_tasks_;
}

int FakeServer::max_claim_request() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_claim_request_;
}

grpc::Status FakeServer::SubmitResult(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<SubmitResultResponse, SubmitResultRequest>* stream) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!refuse_.ok()) return refuse_;
  }
  SubmitResultRequest request;
  while (stream->Read(&request)) {
    SubmitResultResponse ack;
    ack.set_task_id(request.task_id());
    ack.set_fencing_token(request.fencing_token());
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++submissions_;
      auto it = tasks_.find(request.task_id());
      if (it == tasks_.end()) {
        ack.set_reject_reason(REJECT_REASON_UNKNOWN_TASK);
      } else if (it->second.cancelled) {
        ack.set_reject_reason(REJECT_REASON_CANCELLED);
      } else if (it->second.done || it->second.claimed.lease().fencing_token() !=
                                        request.fencing_token()) {
        ack.set_reject_reason(REJECT_REASON_STALE_LEASE);
      } else {
        it->second.done = true;
        ack.set_accepted(true);
        ack.set_task_status(request.success() ? TASK_STATUS_COMPLETED : TASK_STATUS_FAILED);
        results_[request.task_id()].push_back(Stored{request.fencing_token(), request.success(),
                                                     request.error(), request.retryable(),
                                                     request.worker_id()});
      }
      if (!ack.accepted()) ++rejected_;
    }
    cv_.notify_all();
    if (!stream->Write(ack)) break;
  }
  return grpc::Status::OK;
}

grpc::Status FakeServer::Heartbeat(grpc::ServerContext* context, const HeartbeatRequest* request,
                                   HeartbeatResponse* response) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!refuse_.ok()) return refuse_;
  if (request->draining()) saw_draining_ = true;
  last_heartbeat_leases_ = static_cast<size_t>(request->leases_size());
  for (const HeldLease& lease : request->leases()) {
    if (cancel_next_.erase(lease.task_id()) > 0) {
      response->add_cancelled_task_ids(lease.task_id());
    }
  }
  response->set_heartbeat_interval_seconds(1);
  response->set_lease_seconds(30);
  cv_.notify_all();
  return grpc::Status::OK;
}

}  // namespace skillstore::worker::testing
