// The skill-worker daemon: the claim loop and the life of one worker process.
//
//   claim loop (Run's thread) --ClaimTask long-poll, N = free slots-->  server
//        | tasks                                                        ^
//        v                                                              |
//   ExecutorPool (concurrency threads, per-task deadline)               |
//        | outcome                                                      |
//        v                                                              |
//   ResultSubmitter (one SubmitResult stream, resend after reconnect) --+
//   Heartbeater (interval from the server; held leases; draining) ------+
//   LeaseTracker: the leases held, from claim until the result is acked.
//
// Invariant: a slot is reserved by a claim in flight (claiming_slots_), then
// busy from claim until its task's outcome is handed to the submitter (or
// discarded); claims ask for exactly the free slots and wait on a condition
// variable — never a timed poll — when there are none or when the result
// buffer is full. Two claim loops run, so a slot freed while one claim is in
// flight is asked for at once instead of after that round trip (with short
// tasks the claim latency would otherwise cap the worker at ~1 task per RTT).
//
// Claims come in batches: a claim goes out when the slots held would
// otherwise run dry (no claimed task waits behind the running ones) or when
// at least half of them are free, never for each freed slot. With
// --prefetch left to auto, the prefetch grows from --concurrency to what
// keeps the slots busy for kPrefetchWindow of measured task time (capped at
// kMaxAutoPrefetch): tiny tasks are then claimed ~250 per round trip, which
// divides the per-claim cost (RPC, thread wake-ups, one commit) among them,
// while long tasks are not hoarded away from other workers. A claim's tasks
// reach the pool in one hand-off (ExecutorPool::Submit of the batch) and
// share the claim reply's protobuf arena.
//
// Per-task hand-offs are kept off the wake-up path: a task outcome wakes the
// claim loops only when a claim is due, the result writer only for the first
// pending result or a full write batch (ResultSubmitter), and an
// acknowledgement wakes nobody unless the drain, a full result buffer or
// --exit-when-idle waits on it.
//
// The loop ends when draining (RequestDrain: SIGTERM/SIGINT), idle for
// --exit-when-idle, --max-tasks reached, or a permanent error. Then: stop
// claiming, tell the server we drain, wait for running tasks and for every
// result's acknowledgement (bounded by --drain-timeout once a signal asked
// for the drain), send a last heartbeat, and return.
#ifndef SKILLSTORE_WORKER_WORKER_H_
#define SKILLSTORE_WORKER_WORKER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "executor_pool.h"
#include "heartbeater.h"
#include "lease_tracker.h"
#include "metrics.h"
#include "common/metrics/metrics_server.h"
#include "options.h"
#include "result_submitter.h"
#include "skills_root.h"
#include "skillstore/v1/skillstore.grpc.pb.h"
#include "task_runner.h"

namespace skillstore::worker {

// A channel to `address` that reconnects promptly after a server restart
// (gRPC's default reconnect backoff grows to 2 minutes), with the TLS and
// token of `security` (default: plaintext, no token, as tests use).
std::shared_ptr<grpc::Channel> MakeWorkerChannel(const std::string& address,
                                                 const client::ClientSecurity& security = {});

class Worker {
 public:
  Worker(WorkerOptions options, std::optional<SkillsRoot> skills_root,
         std::shared_ptr<grpc::Channel> channel);
  ~Worker();

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs until the worker should exit. OK: exit 0. Otherwise the status
  // says why (permanent server refusal, drain incomplete).
  absl::Status Run();

  // Stop claiming and drain within --drain-timeout. Thread-safe; the second
  // call is a no-op (the signal watcher handles a second signal itself).
  void RequestDrain();

  // Engine threads abandoned after a timeout, and those of them whose engine
  // call has not returned yet (they may still log).
  int abandoned_threads() const;
  int abandoned_threads_running() const;
  // True once --max-abandoned-threads were reached and the worker drained
  // for a restart (main exits with kExitStuckThreads).
  bool stuck_threads_exit() const { return stuck_threads_exit_.load(); }

  // The metrics endpoint's port (after Run started it), or 0.
  int metrics_port() const;

  // Re-reads --metrics-token-file (SIGHUP); on error the previous token stays
  // in force. OK when there is no token file or Run has not started the
  // endpoint yet (it reads the file then). Thread-safe.
  absl::Status ReloadMetricsToken();

 private:
  enum class StopReason { kNone, kDrain, kIdle, kMaxTasks, kFatal };
  struct ClaimArena;

  // One of the two claim loops (see the invariant above). `claimer` 0 is the one
  // that keeps retrying while the server is unreachable.
  void ClaimLoop(int claimer);
  // Ends the claim loops (cancelling their long-polls) unless already ending.
  void StopLocked(StopReason reason);
  // The prefetch in effect (see the class comment).
  int PrefetchLocked() const;
  // Whether a claim should go out now: free slots, and either the held
  // tasks would run dry or half the slots are free.
  bool ClaimDueLocked() const;
  // The job that runs a claimed task (its slot is already counted in
  // busy_slots_); the lease is tracked from here on.
  ExecutorPool::Job MakeJob(std::shared_ptr<const skillstore::v1::ClaimedTask> task);
  void OnOutcome(const std::string& task_id, int64_t token, int attempt,
                 skillstore::v1::SubmitResultRequest outcome);
  void OnAck(const ResultSubmitter::Acked& result,
             const skillstore::v1::SubmitResultResponse& ack);
  void OnDrop(const std::string& task_id, int64_t token, Heartbeater::DropReason reason);
  void OnFatal(absl::Status status);
  // Waits (cv) until `done` or the drain deadline; false on deadline.
  template <typename Pred>
  bool WaitForDrain(std::unique_lock<std::mutex>& lock, Pred done);
  absl::Status Shutdown();

  const WorkerOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<skillstore::v1::SkillStore::Stub> stub_;
  const std::shared_ptr<const TaskRunner> runner_;  // shared with running jobs

  WorkerMetrics metrics_;
  LeaseTracker leases_;
  ExecutorPool pool_;
  ResultSubmitter submitter_;
  Heartbeater heartbeater_;

  std::mutex mu_;
  std::condition_variable cv_;
  int busy_slots_ = 0;                            // guarded by mu_
  int64_t claimed_total_ = 0;                     // guarded by mu_
  absl::Time last_activity_;                      // guarded by mu_
  StopReason stop_ = StopReason::kNone;           // guarded by mu_
  absl::Status fatal_;                            // guarded by mu_
  absl::Time drain_deadline_ = absl::InfiniteFuture();  // guarded by mu_
  int claiming_slots_ = 0;                         // guarded by mu_; asked for by claims in flight
  bool unreachable_ = false;                      // guarded by mu_; the last claim failed
  std::set<grpc::ClientContext*> claim_contexts_;  // guarded by mu_; to cancel long-polls
  // Moving average of task run times (seconds); < 0 until the first task.
  double avg_task_seconds_ = -1;                  // guarded by mu_

  std::atomic<bool> stuck_threads_exit_{false};
  // The server's lease limit held back a claim: logged once (ClaimLoop).
  std::atomic<bool> told_held_back_{false};

  // For the summary line at exit.
  std::atomic<int64_t> accepted_{0};
  std::atomic<int64_t> rejected_{0};
  std::atomic<int64_t> discarded_{0};

  // Last: stops serving before anything it reads is destroyed. Set once by
  // Run; the mutex is for the signal thread's reload.
  mutable std::mutex metrics_server_mu_;
  std::unique_ptr<metrics::MetricsServer> metrics_server_;  // guarded by metrics_server_mu_
};

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_WORKER_H_
