#include "heartbeater.h"

#include <algorithm>
#include <utility>

#include "backoff.h"
#include "rpc_status.h"
#include "spdlog/spdlog.h"

namespace skillstore::worker {
namespace {

// A heartbeat that takes longer than this is as good as lost.
constexpr absl::Duration kMaxBeatTimeout = absl::Seconds(10);
// ... and one shorter than this is too tight for a loaded machine.
constexpr absl::Duration kMinBeatTimeout = absl::Seconds(2);
constexpr absl::Duration kMinInterval = absl::Milliseconds(200);

}  // namespace

Heartbeater::Heartbeater(
    skillstore::v1::SkillStore::StubInterface* stub, const LeaseTracker* leases,
    Identity identity,
    std::function<void(const std::string&, int64_t, DropReason)> on_drop,
    std::function<void(absl::Status)> on_fatal)
    : stub_(stub),
      leases_(leases),
      identity_(std::move(identity)),
      on_drop_(std::move(on_drop)),
      on_fatal_(std::move(on_fatal)) {}

Heartbeater::~Heartbeater() { Stop(); }

void Heartbeater::Start() { thread_ = std::thread([this] { Loop(); }); }

void Heartbeater::SetTiming(int heartbeat_interval_seconds, int lease_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  if (heartbeat_interval_seconds > 0) interval_ = absl::Seconds(heartbeat_interval_seconds);
  if (lease_seconds > 0) interval_ = std::min(interval_, absl::Seconds(lease_seconds) / 3);
  interval_ = std::max(interval_, kMinInterval);
}

void Heartbeater::SetDraining() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (draining_) return;
    draining_ = true;
    beat_now_ = true;
  }
  cv_.notify_all();
}

void Heartbeater::Stop(absl::Duration final_beat_timeout) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (final_beat_timeout > absl::ZeroDuration()) {
    grpc::Status status = Beat(final_beat_timeout);
    if (!status.ok()) {
      spdlog::debug("final heartbeat failed: {}", status.error_message());
    }
  }
}

grpc::Status Heartbeater::Beat(absl::Duration timeout) {
  skillstore::v1::HeartbeatRequest request;
  request.set_worker_id(identity_.worker_id);
  request.set_instance_id(identity_.instance_id);
  request.set_hostname(identity_.hostname);
  request.set_concurrency(identity_.concurrency);
  request.set_version(identity_.version);
  for (skillstore::v1::TaskType type : identity_.types) request.add_types(type);
  {
    std::lock_guard<std::mutex> lock(mu_);
    request.set_draining(draining_);
    // Only Stop beats once stopped: the last heartbeat of this process.
    request.set_stopping(stopped_);
  }
  const std::vector<HeldLeaseInfo> held = leases_->Snapshot();
  for (const HeldLeaseInfo& lease : held) {
    skillstore::v1::HeldLease* out = request.add_leases();
    out->set_task_id(lease.task_id);
    out->set_fencing_token(lease.fencing_token);
  }

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  skillstore::v1::HeartbeatResponse response;
  grpc::Status status = stub_->Heartbeat(&context, request, &response);
  if (!status.ok()) return status;

  SetTiming(response.heartbeat_interval_seconds(), response.lease_seconds());
  // The reply names task ids; drop the lease we reported for each (not a
  // newer lease of the same task claimed meanwhile).
  auto token_of = [&held](const std::string& task_id) -> int64_t {
    for (const HeldLeaseInfo& lease : held) {
      if (lease.task_id == task_id) return lease.fencing_token;
    }
    return -1;
  };
  for (const std::string& id : response.cancelled_task_ids()) {
    const int64_t token = token_of(id);
    if (token >= 0) on_drop_(id, token, DropReason::kCancelled);
  }
  for (const std::string& id : response.lost_task_ids()) {
    const int64_t token = token_of(id);
    if (token >= 0) on_drop_(id, token, DropReason::kLost);
  }
  return status;
}

void Heartbeater::Loop() {
  Backoff backoff(absl::Milliseconds(200), absl::Seconds(5));
  absl::Time next_beat = absl::Now();
  while (true) {
    absl::Duration interval;
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (!stop_ && !beat_now_ && absl::Now() < next_beat) {
        cv_.wait_until(lock, absl::ToChronoTime(next_beat));
      }
      if (stop_) return;
      beat_now_ = false;
      interval = interval_;
    }
    const grpc::Status status = Beat(std::clamp(interval, kMinBeatTimeout, kMaxBeatTimeout));
    if (status.ok()) {
      if (backoff.failures() > 0) spdlog::info("heartbeats reach the server again");
      backoff.Reset();
      std::lock_guard<std::mutex> lock(mu_);
      next_beat = absl::Now() + interval_;
      continue;
    }
    if (IsPermanent(status)) {
      // main() logs the reason once, as the worker's last line.
      spdlog::debug("heartbeat refused permanently: {}",
                    ToAbslStatus("Heartbeat", status).ToString());
      on_fatal_(ToAbslStatus("Heartbeat", status));
      return;
    }
    if (backoff.failures() == 0) {
      spdlog::warn("heartbeat failed ({}: {}); retrying with backoff",
                   static_cast<int>(status.error_code()), status.error_message());
    }
    // Retry sooner than the interval: leases are at stake.
    next_beat = absl::Now() + std::min(backoff.Next(), interval);
  }
}

}  // namespace skillstore::worker
