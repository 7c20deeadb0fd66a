#include "worker.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "backoff.h"
#include "common/metrics/log_fields.h"
#include "google/protobuf/arena.h"
#include "rpc_status.h"
#include "spdlog/spdlog.h"

namespace skillstore::worker {
namespace {

using skillstore::v1::ClaimedTask;
using skillstore::v1::SubmitResultRequest;
using skillstore::v1::SubmitResultResponse;

// A long-poll answers within wait_seconds; this covers a slow or loaded
// server on top, before the call is counted as failed.
constexpr absl::Duration kClaimGrace = absl::Seconds(30);
// The last "I am draining" heartbeat may not hold up the exit for longer.
constexpr absl::Duration kFinalHeartbeatTimeout = absl::Seconds(3);
// Auto prefetch: claimed tasks to keep the slots busy this long, at most
// kMaxAutoPrefetch of them. A claim round trip is the wait for the write
// loop's current transaction, the claim's own and its fsync: a few ms when
// the server is idle, 10-50 ms when it is busy. The cap binds only for tasks
// shorter than 20 ms / 512 = 40 us, such as bench/compare.sh's tiny ones
// (~20-30 us). A claim asks for the free half of the slots, so 512 is what
// lets such a worker claim ~256 tasks per round trip (the server's default
// cap per call is 400); at 128 it asked for ~64. Alone, 512 measured +3.8%
// tasks/s there (median of 20 alternating pairs, within the noise); with
// the server's cap raised from 100 to 400, +11-13%.
constexpr double kPrefetchWindowSeconds = 0.020;
constexpr int kMaxAutoPrefetch = 512;

#ifndef SKILLSTORE_VERSION
#define SKILLSTORE_VERSION "dev"
#endif
constexpr char kVersion[] = "skill-worker " SKILLSTORE_VERSION;

std::string TypesLabel(const std::vector<skillstore::v1::TaskType>& types) {
  if (types.empty()) return "all";
  std::vector<std::string> names;
  for (auto type : types) names.push_back(TaskTypeName(type));
  return absl::StrJoin(names, ",");
}

std::chrono::system_clock::time_point ToChrono(absl::Time t) { return absl::ToChronoTime(t); }

// Arena blocks: a claim of ~100 tiny tasks fits in the first one (bigger
// claims add blocks of the same size); contents of big skills are heap
// strings whatever the block size.
constexpr size_t kClaimArenaBlock = 64 << 10;

google::protobuf::ArenaOptions ClaimArenaOptions() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = kClaimArenaBlock;
  options.max_block_size = kClaimArenaBlock;
  return options;
}

}  // namespace

// One ClaimTask reply and the arena it lives in.
struct Worker::ClaimArena {
  google::protobuf::Arena arena{ClaimArenaOptions()};
  skillstore::v1::ClaimTaskResponse* const response =
      google::protobuf::Arena::CreateMessage<skillstore::v1::ClaimTaskResponse>(&arena);
};

std::shared_ptr<grpc::Channel> MakeWorkerChannel(const std::string& address,
                                                 const client::ClientSecurity& security) {
  grpc::ChannelArguments args;
  // Come back within seconds of a server restart, not gRPC's default 2 min.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 3000);
  // A claim may carry several tasks of up to the server's content limit.
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  return client::CreateClientChannel(address, security, args);
}

Worker::Worker(WorkerOptions options, std::optional<SkillsRoot> skills_root,
               std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      stub_(skillstore::v1::SkillStore::NewStub(channel_)),
      runner_(std::make_shared<const TaskRunner>(TaskRunner::Options{
          options_.worker_id, std::move(skills_root), /*max_content_bytes=*/64u << 20,
          options_.max_result_bytes, options_.debug_task_delay})),
      metrics_(options_.concurrency),
      pool_(options_.concurrency),
      submitter_(
          stub_.get(),
          ResultSubmitter::Options{options_.max_buffered_results},
          [this](const ResultSubmitter::Acked& result, const SubmitResultResponse& ack) {
            OnAck(result, ack);
          },
          [this](absl::Status status) { OnFatal(std::move(status)); }),
      heartbeater_(
          stub_.get(), &leases_,
          Heartbeater::Identity{options_.worker_id, options_.instance_id, options_.hostname,
                                options_.concurrency, options_.types, kVersion},
          [this](const std::string& task_id, int64_t token, Heartbeater::DropReason reason) {
            OnDrop(task_id, token, reason);
          },
          [this](absl::Status status) { OnFatal(std::move(status)); }),
      last_activity_(absl::Now()) {}

Worker::~Worker() {
  heartbeater_.Stop();
  submitter_.Stop();
  pool_.Shutdown(absl::Now());
}

int Worker::abandoned_threads() const { return pool_.abandoned(); }
int Worker::abandoned_threads_running() const { return pool_.abandoned_still_running(); }

int Worker::metrics_port() const {
  std::lock_guard<std::mutex> lock(metrics_server_mu_);
  return metrics_server_ ? metrics_server_->port() : 0;
}

absl::Status Worker::ReloadMetricsToken() {
  std::lock_guard<std::mutex> lock(metrics_server_mu_);
  if (metrics_server_ == nullptr || options_.metrics_token_file.empty()) return absl::OkStatus();
  if (absl::Status status = metrics_server_->ReloadBearerToken(); !status.ok()) return status;
  spdlog::info("/metrics: reloaded its token from {}", options_.metrics_token_file);
  return absl::OkStatus();
}

absl::Status Worker::Run() {
  spdlog::info("worker {} starting: server {}, concurrency {}, types {}{}{}", options_.worker_id,
               options_.server, options_.concurrency, TypesLabel(options_.types),
               options_.exit_when_idle == absl::InfiniteDuration()
                   ? ""
                   : absl::StrCat(", exit when idle for ",
                                  absl::FormatDuration(options_.exit_when_idle)),
               options_.debug_task_delay > absl::ZeroDuration()
                   ? absl::StrCat(", TESTING delay ",
                                  absl::FormatDuration(options_.debug_task_delay), " per task")
                   : "");
  if (!options_.metrics_listen.empty()) {
    metrics_.SetGaugeSource([this] {
      WorkerMetrics::Gauges gauges;
      gauges.results_pending = static_cast<int64_t>(submitter_.size());
      std::lock_guard<std::mutex> lock(mu_);
      gauges.active_tasks = busy_slots_;
      return gauges;
    });
    metrics::MetricsServer::Options metrics_options;
    metrics_options.listen = options_.metrics_listen;
    metrics_options.bearer_token_file = options_.metrics_token_file;
    auto server = metrics::MetricsServer::Start(metrics_options, metrics_.registry());
    if (!server.ok()) return server.status();
    spdlog::info("metrics at http://{}/metrics", (*server)->address());
    std::lock_guard<std::mutex> lock(metrics_server_mu_);
    metrics_server_ = std::move(*server);
  }
  heartbeater_.Start();
  submitter_.Start();
  {
    std::thread second([this] { ClaimLoop(1); });
    ClaimLoop(0);
    second.join();
  }
  return Shutdown();
}

void Worker::RequestDrain() {
  std::lock_guard<std::mutex> lock(mu_);
  if (drain_deadline_ == absl::InfiniteFuture()) {
    drain_deadline_ = absl::Now() + options_.drain_timeout;
  }
  StopLocked(StopReason::kDrain);
}

void Worker::StopLocked(StopReason reason) {
  if (stop_ == StopReason::kNone || reason == StopReason::kFatal) stop_ = reason;
  // A long-poll would otherwise hold the exit for up to --claim-wait. If the
  // server leased tasks in that very reply, this worker never sees them; the
  // last heartbeat (stopping, sent after the claimers have ended) makes the
  // server end every lease of ours at once, those included.
  for (grpc::ClientContext* context : claim_contexts_) context->TryCancel();
  cv_.notify_all();
}

void Worker::OnFatal(absl::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_ == StopReason::kFatal) return;
  fatal_ = std::move(status);
  StopLocked(StopReason::kFatal);
}

void Worker::ClaimLoop(int claimer) {
  Backoff backoff(absl::Milliseconds(100), absl::Seconds(5));
  // The server refuses claims (RESOURCE_EXHAUSTED) while this worker holds
  // its --max-leases-per-worker: leases of results not yet acknowledged
  // count, so fast tasks reach it in normal work. That is backpressure, not
  // an outage: said once per process at info, and the claim is tried again
  // every kHeldBackRetry (acknowledgements come in batches and wake no
  // claimer), without the growing backoff of an unreachable server.
  constexpr absl::Duration kHeldBackRetry = absl::Milliseconds(100);
  while (true) {
    int want = 0;
    int wait_seconds = options_.claim_wait_seconds;
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (true) {
        if (stop_ != StopReason::kNone) return;
        if (options_.max_tasks > 0 && claimed_total_ >= options_.max_tasks) {
          spdlog::info("claimed --max-tasks={} tasks; no more claims", options_.max_tasks);
          StopLocked(StopReason::kMaxTasks);
          return;
        }
        const absl::Time now = absl::Now();
        const bool nothing_held = busy_slots_ == 0 && leases_.size() == 0 && submitter_.size() == 0;
        if (options_.exit_when_idle != absl::InfiniteDuration() && nothing_held &&
            now - last_activity_ >= options_.exit_when_idle) {
          spdlog::info("no task for {}; exiting (--exit-when-idle)",
                       absl::FormatDuration(options_.exit_when_idle));
          StopLocked(StopReason::kIdle);
          return;
        }
        // busy_slots_ counts tasks held from claim to outcome: running ones
        // and the prefetched ones queued in the pool behind them.
        int free_slots = options_.concurrency + PrefetchLocked() - busy_slots_ - claiming_slots_;
        if (options_.max_tasks > 0) {
          free_slots = static_cast<int>(std::min<int64_t>(
              free_slots, options_.max_tasks - claimed_total_ - claiming_slots_));
        }
        // While the server is away only claimer 0 retries.
        const bool may_claim = claimer == 0 || !unreachable_;
        if (may_claim && free_slots > 0 && ClaimDueLocked() && !submitter_.Full()) {
          want = free_slots;
          claiming_slots_ += want;
          if (options_.exit_when_idle != absl::InfiniteDuration()) {
            // Poll no longer than the idle time left (all of it while tasks
            // still run: their end restarts the clock), so the exit is on time.
            const absl::Duration left =
                nothing_held ? last_activity_ + options_.exit_when_idle - now
                             : options_.exit_when_idle;
            wait_seconds = std::clamp(static_cast<int>(std::ceil(absl::ToDoubleSeconds(left))),
                                      1, wait_seconds);
          }
          break;
        }
        // No free slot, the result buffer is full, or the server is away: a
        // task outcome, an acknowledgement or the other claimer wakes us.
        cv_.wait(lock);
      }
    }

    skillstore::v1::ClaimTaskRequest request;
    request.set_worker_id(options_.worker_id);
    request.set_instance_id(options_.instance_id);
    request.set_hostname(options_.hostname);
    request.set_max_tasks(want);
    request.set_wait_seconds(wait_seconds);
    for (auto type : options_.types) request.add_types(type);
    // The reply is parsed into an arena that its tasks' jobs share (each
    // holds the claim alive through an aliasing pointer to its task): one
    // arena for the hundreds of tasks of a claim instead of several
    // allocations per task, and no per-task copy or move into a task object
    // of its own.
    auto claim = std::make_shared<ClaimArena>();
    skillstore::v1::ClaimTaskResponse& response = *claim->response;
    grpc::ClientContext context;
    context.set_deadline(ToChrono(absl::Now() + absl::Seconds(wait_seconds) + kClaimGrace));
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_ != StopReason::kNone) {
        claiming_slots_ -= want;
        return;
      }
      claim_contexts_.insert(&context);
    }
    const grpc::Status status = stub_->ClaimTask(&context, request, &response);
    metrics_.ClaimAnswered(status.ok() ? response.tasks_size() : -1);
    bool was_unreachable;
    {
      std::lock_guard<std::mutex> lock(mu_);
      claim_contexts_.erase(&context);
      // The reserved slots become busy ones (or free again) in one step, so
      // the other claimer never counts them twice or not at all.
      claiming_slots_ -= want;
      if (status.ok()) {
        busy_slots_ += response.tasks_size();
        claimed_total_ += response.tasks_size();
        if (response.tasks_size() > 0) last_activity_ = absl::Now();
      }
      was_unreachable = unreachable_;
      unreachable_ = !status.ok() && status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED;
      cv_.notify_all();
      if (!status.ok() && stop_ != StopReason::kNone) return;  // we cancelled it
    }

    if (!status.ok()) {
      if (IsPermanent(status)) {
        // main() logs the reason once, as the worker's last line.
        spdlog::debug("the server refused ClaimTask: {}",
                      ToAbslStatus("ClaimTask", status).ToString());
        OnFatal(ToAbslStatus("ClaimTask", status));
        return;
      }
      if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        if (!told_held_back_.exchange(true)) {
          spdlog::info(
              "the server holds back claims ({}); claiming again as results are "
              "acknowledged (said once)",
              status.error_message());
        } else {
          spdlog::debug("claims held back: {}", status.error_message());
        }
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_until(lock, ToChrono(absl::Now() + kHeldBackRetry),
                       [this] { return stop_ != StopReason::kNone; });
        continue;
      }
      const absl::Duration delay = backoff.Next();
      if (!was_unreachable) {
        // gRPC reports a failed TLS handshake as plain UNAVAILABLE; say so.
        const std::string tls_hint =
            client::TlsFailureHint(status.error_message(), options_.security.tls);
        spdlog::warn("cannot claim tasks from {} ({}: {}){}; retrying with backoff",
                     options_.server, static_cast<int>(status.error_code()),
                     status.error_message(), tls_hint.empty() ? "" : ": " + tls_hint);
      } else {
        spdlog::debug("ClaimTask failed again ({}); next try in {}", status.error_message(),
                      absl::FormatDuration(delay));
      }
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, ToChrono(absl::Now() + delay),
                     [this] { return stop_ != StopReason::kNone; });
      continue;
    }
    if (was_unreachable) {
      metrics_.Reconnected();
      spdlog::info("claiming from {} again", options_.server);
    }
    backoff.Reset();
    heartbeater_.SetTiming(response.heartbeat_interval_seconds(), response.lease_seconds());
    submitter_.SetServerAcceptsBatches(response.accepts_result_batches());
    // One hand-off to the pool for the whole claim, not one per task.
    std::vector<ExecutorPool::Job> jobs;
    jobs.reserve(response.tasks_size());
    for (const ClaimedTask& task : response.tasks()) {
      jobs.push_back(MakeJob(std::shared_ptr<const ClaimedTask>(claim, &task)));
    }
    pool_.Submit(std::move(jobs));
  }
}

int Worker::PrefetchLocked() const {
  if (!options_.prefetch_auto || avg_task_seconds_ < 0) return options_.prefetch;
  const double per_slot = kPrefetchWindowSeconds / std::max(avg_task_seconds_, 1e-6);
  const double wanted = std::ceil(options_.concurrency * per_slot);
  return static_cast<int>(std::clamp<double>(wanted, options_.prefetch, kMaxAutoPrefetch));
}

bool Worker::ClaimDueLocked() const {
  const int capacity = options_.concurrency + PrefetchLocked();
  const int held = busy_slots_ + claiming_slots_;
  if (held >= capacity) return false;
  // Nothing claimed waits behind the running tasks: a slot may idle soon.
  if (held <= options_.concurrency) return true;
  return capacity - held >= std::max(1, capacity / 2);
}

ExecutorPool::Job Worker::MakeJob(std::shared_ptr<const ClaimedTask> shared_task) {
  const ClaimedTask& task = *shared_task;
  const std::string& id = task.task_id();
  const int64_t token = task.lease().fencing_token();
  const int attempt = task.lease().attempt();
  leases_.Add(id, token, attempt);
  const absl::Duration timeout = task.timeout_seconds() > 0
                                     ? absl::Seconds(task.timeout_seconds())
                                     : options_.default_task_timeout;
  // The arguments below cost allocations; tiny tasks would pay them per task
  // for a line that is not written.
  if (spdlog::should_log(spdlog::level::debug)) {
    logging::LogFields fields({{"task_id", id}, {"attempt", attempt}});
    spdlog::debug("task {} attempt {}: claimed ({} {}, {} bytes, timeout {})", id, attempt,
                  TaskTypeName(task.type()), task.skill_path(), task.content().size(),
                  absl::FormatDuration(timeout));
  }

  std::shared_ptr<const TaskRunner> runner = runner_;
  ExecutorPool::Job job;
  job.name = absl::StrCat("task ", id, " attempt ", attempt);
  job.timeout = timeout;
  job.run = [runner, shared_task] { return runner->Run(*shared_task); };
  job.on_timeout = [runner, shared_task, timeout](absl::Duration ran) {
    return runner->TimeoutResult(*shared_task, timeout, ran);
  };
  job.done = [this, id = id, token, attempt](SubmitResultRequest outcome) {
    OnOutcome(id, token, attempt, std::move(outcome));
  };
  return job;
}

void Worker::OnOutcome(const std::string& task_id, int64_t token, int attempt,
                       SubmitResultRequest outcome) {
  // A timeout's outcome comes after its thread was abandoned. Enough of them
  // still running take the CPU the slots need, and nothing but a new
  // process frees it: drain (the results go out) and let main exit.
  const int stuck = pool_.abandoned_still_running();
  if (options_.max_abandoned_threads > 0 && stuck >= options_.max_abandoned_threads &&
      !stuck_threads_exit_.exchange(true)) {
    spdlog::error(
        "{} engine threads are still running tasks that passed their timeout "
        "(--max-abandoned-threads {}); draining and exiting with code {} so that a new process "
        "starts without them",
        stuck, options_.max_abandoned_threads, kExitStuckThreads);
    RequestDrain();
  }
  const std::string& type = outcome.metrics().task_type();
  const double seconds = outcome.metrics().duration_seconds();
  if (!leases_.MarkFinished(task_id, token)) {
    metrics_.TaskProcessed(type, "discarded", seconds);
    ++discarded_;
    logging::LogFields fields({{"task_id", task_id}, {"attempt", attempt}});
    spdlog::info("task {} attempt {}: finished, but the server dropped its lease meanwhile; "
                 "result discarded",
                 task_id, attempt);
  } else {
    metrics_.TaskProcessed(type,
                           outcome.success()                         ? "succeeded"
                           : outcome.error().rfind("timeout:", 0) == 0 ? "timeout"
                                                                      : "failed",
                           seconds);
    if (!outcome.success()) {
      logging::LogFields fields({{"task_id", task_id}, {"attempt", attempt}});
      spdlog::info("task {} attempt {}: failed ({}): {}", task_id, attempt,
                   outcome.retryable() ? "retryable" : "not retryable", outcome.error());
    } else if (spdlog::should_log(spdlog::level::debug)) {
      logging::LogFields fields({{"task_id", task_id}, {"attempt", attempt}});
      spdlog::debug("task {} attempt {}: done in {:.3f}s", task_id, attempt, seconds);
    }
    submitter_.Add(std::move(outcome));
  }
  std::lock_guard<std::mutex> lock(mu_);
  --busy_slots_;
  last_activity_ = absl::Now();
  avg_task_seconds_ = avg_task_seconds_ < 0 ? seconds : 0.9 * avg_task_seconds_ + 0.1 * seconds;
  // Wake the claim loops only when a claim is due (not for every task: with
  // tiny tasks that was two thread wake-ups per task), and the drain when
  // the last task ended.
  if (ClaimDueLocked() || busy_slots_ == 0 || stop_ != StopReason::kNone) cv_.notify_all();
}

void Worker::OnAck(const ResultSubmitter::Acked& result, const SubmitResultResponse& ack) {
  std::optional<HeldLeaseInfo> lease = leases_.Remove(result.task_id, result.fencing_token);
  const int attempt = lease ? lease->attempt : 0;
  metrics_.ResultAcked(ack.accepted());
  if (ack.accepted()) {
    ++accepted_;
    if (spdlog::should_log(spdlog::level::info)) {
      logging::LogFields fields({{"task_id", result.task_id}, {"attempt", attempt}});
      spdlog::info("task {} attempt {}: {} stored ({})", result.task_id, attempt,
                   result.success ? "result" : "failure",
                   skillstore::v1::TaskStatus_Name(ack.task_status()));
    }
  } else {
    ++rejected_;
    logging::LogFields fields({{"task_id", result.task_id}, {"attempt", attempt}});
    spdlog::warn("task {} attempt {}: result rejected by the server ({}: {}); not stored",
                 result.task_id, attempt, skillstore::v1::RejectReason_Name(ack.reject_reason()),
                 ack.message());
  }
  // Waiters on acknowledgements: the drain (all acknowledged), claim loops
  // held back by a full result buffer (it was full until this one), and a
  // claim loop that must see the worker idle for --exit-when-idle. Nobody
  // else: a stream of acknowledgements takes no lock of the claim loops' and
  // wakes no thread.
  const size_t unacked = result.left;
  const bool idle_exit = options_.exit_when_idle != absl::InfiniteDuration();
  const bool was_full = unacked + 1 >= options_.max_buffered_results;
  if (!idle_exit && !was_full && unacked > 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  last_activity_ = absl::Now();
  if (stop_ != StopReason::kNone || was_full || (unacked == 0 && idle_exit)) cv_.notify_all();
}

void Worker::OnDrop(const std::string& task_id, int64_t token, Heartbeater::DropReason reason) {
  std::optional<HeldLeaseInfo> lease = leases_.Remove(task_id, token);
  if (!lease) return;  // acknowledged meanwhile
  logging::LogFields fields({{"task_id", task_id}, {"attempt", lease->attempt}});
  spdlog::info("task {} attempt {}: the server reports it {}; dropping it", task_id,
               lease->attempt,
               reason == Heartbeater::DropReason::kCancelled ? "cancelled" : "lost (lease expired)");
  submitter_.DiscardPending(task_id, token);
  std::lock_guard<std::mutex> lock(mu_);
  cv_.notify_all();
}

template <typename Pred>
bool Worker::WaitForDrain(std::unique_lock<std::mutex>& lock, Pred done) {
  while (!done()) {
    if (stop_ == StopReason::kFatal) return false;
    if (drain_deadline_ == absl::InfiniteFuture()) {
      cv_.wait(lock);
    } else if (absl::Now() >= drain_deadline_) {
      return done();
    } else {
      cv_.wait_until(lock, ToChrono(drain_deadline_));
    }
  }
  return true;
}

absl::Status Worker::Shutdown() {
  StopReason reason;
  {
    std::lock_guard<std::mutex> lock(mu_);
    reason = stop_;
  }
  bool drained = false;
  if (reason != StopReason::kFatal) {
    heartbeater_.SetDraining();
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (busy_slots_ > 0 || submitter_.size() > 0) {
        spdlog::info("draining: no more claims; waiting for {} running tasks and {} results{}",
                     busy_slots_, submitter_.size(),
                     drain_deadline_ == absl::InfiniteFuture()
                         ? ""
                         : absl::StrCat(" (up to ", absl::FormatDuration(options_.drain_timeout),
                                        ")"));
      }
      drained = WaitForDrain(lock, [this] { return busy_slots_ == 0; }) &&
                WaitForDrain(lock, [this] { return submitter_.size() == 0; });
    }
  }
  heartbeater_.Stop(reason == StopReason::kFatal ? absl::ZeroDuration() : kFinalHeartbeatTimeout);
  submitter_.Stop();
  int still_running;
  size_t unacked = submitter_.size();
  {
    std::lock_guard<std::mutex> lock(mu_);
    still_running = busy_slots_;
  }
  pool_.Shutdown(absl::Now());
  spdlog::info("worker {} exiting: {} results stored, {} rejected, {} discarded{}",
               options_.worker_id, accepted_.load(), rejected_.load(), discarded_.load(),
               pool_.abandoned() > 0
                   ? absl::StrCat(", ", pool_.abandoned(), " engine threads abandoned")
                   : "");
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_ == StopReason::kFatal) return fatal_;
  if (!drained) {
    return absl::DeadlineExceededError(absl::StrCat(
        "drain did not finish within --drain-timeout ", absl::FormatDuration(options_.drain_timeout),
        ": ", still_running, " tasks still running, ", unacked,
        " results unacknowledged; the server re-queues them when their leases expire"));
  }
  return absl::OkStatus();
}

}  // namespace skillstore::worker
