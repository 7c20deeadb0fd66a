// An in-process stand-in for skillstore-server, just enough of the protocol
// to test the worker's loop without the real server: a FIFO queue, leases
// with fencing tokens, long-poll claims, the SubmitResult stream with
// per-lease acceptance, heartbeats that extend nothing but record what they
// were told, and switches to inject faults (refuse with a status, cancel a
// task, declare a lease lost). State survives Restart(), like a database.
#ifndef SKILLSTORE_TESTS_WORKER_FAKE_SERVER_H_
#define SKILLSTORE_TESTS_WORKER_FAKE_SERVER_H_

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace skillstore::worker::testing {

class FakeServer final : public skillstore::v1::SkillStore::Service {
 public:
  FakeServer() = default;
  ~FakeServer() override;

  // Starts listening (port 0: pick one; else reuse that port).
  void Start(int port = 0);
  void Shutdown();
  void Restart() {
    Shutdown();
    Start(port_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Adds `n` tasks; returns their ids.
  std::vector<std::string> AddTasks(int n, const std::string& content, int timeout_seconds = 0);
  // One task with this skill_path, and content (possibly empty) or, with
  // nullopt, none: the worker reads skill_path from its --skills-root.
  std::string AddTaskWithPath(const std::string& skill_path,
                              const std::optional<std::string>& content);

  struct Stored {
    int64_t fencing_token;
    bool success;
    std::string error;
    bool retryable;
    std::string worker_id;
  };
  // Results accepted, by task id (a task appears once: the fake refuses a
  // second result for a task like the real server does).
  std::map<std::string, std::vector<Stored>> results() const;
  int submissions() const;        // every SubmitResult message received
  int claims_with_tasks() const;  // ClaimTask calls answered with at least one task
  int max_claim_request() const;  // the largest max_tasks a claim asked for
  int rejected() const;
  bool saw_draining_heartbeat() const;

  // Every RPC fails with this status from now on (OK to stop).
  void RefuseWith(grpc::Status status);
  // The next heartbeat from a worker holding `task_id` names it cancelled.
  void MarkCancelled(const std::string& task_id);

  // Waits until `n` results were accepted.
  bool WaitForResults(size_t n, absl::Duration timeout);
  // Waits until `n` tasks are leased at once (held, no result yet).
  bool WaitForLeased(size_t n, absl::Duration timeout);
  // Waits until a heartbeat reports `n` held leases (the worker runs them).
  bool WaitForHeartbeatLeases(size_t n, absl::Duration timeout);

  grpc::Status ClaimTask(grpc::ServerContext* context,
                         const skillstore::v1::ClaimTaskRequest* request,
                         skillstore::v1::ClaimTaskResponse* response) override;
  grpc::Status SubmitResult(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<skillstore::v1::SubmitResultResponse,
                               skillstore::v1::SubmitResultRequest>* stream) override;
  grpc::Status Heartbeat(grpc::ServerContext* context,
                         const skillstore::v1::HeartbeatRequest* request,
                         skillstore::v1::HeartbeatResponse* response) override;

 private:
  struct Task {
    skillstore::v1::ClaimedTask claimed;
    bool leased = false;
    bool done = false;
    bool cancelled = false;
  };

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  int64_t next_token_ = 1;
  int next_id_ = 1;
  std::map<std::string, Task> tasks_;
  std::deque<std::string> queue_;
  std::map<std::string, std::vector<Stored>> results_;
  std::set<std::string> cancel_next_;
  int submissions_ = 0;
  int claims_with_tasks_ = 0;
  int max_claim_request_ = 0;
  int rejected_ = 0;
  bool saw_draining_ = false;
  size_t last_heartbeat_leases_ = 0;
  grpc::Status refuse_ = grpc::Status::OK;
  bool shutting_down_ = false;
};

}  // namespace skillstore::worker::testing

#endif  // SKILLSTORE_TESTS_WORKER_FAKE_SERVER_H_
