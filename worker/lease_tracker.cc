#include "lease_tracker.h"

namespace skillstore::worker {

void LeaseTracker::Add(const std::string& task_id, int64_t fencing_token, int attempt) {
  absl::MutexLock lock(&mu_);
  leases_[task_id] = HeldLeaseInfo{task_id, fencing_token, attempt, false};
}

bool LeaseTracker::MarkFinished(const std::string& task_id, int64_t fencing_token) {
  absl::MutexLock lock(&mu_);
  auto it = leases_.find(task_id);
  if (it == leases_.end() || it->second.fencing_token != fencing_token) return false;
  it->second.finished = true;
  return true;
}

std::optional<HeldLeaseInfo> LeaseTracker::Remove(const std::string& task_id,
                                                  int64_t fencing_token) {
  absl::MutexLock lock(&mu_);
  auto it = leases_.find(task_id);
  if (it == leases_.end() || it->second.fencing_token != fencing_token) return std::nullopt;
  HeldLeaseInfo removed = std::move(it->second);
  leases_.erase(it);
  return removed;
}

bool LeaseTracker::Holds(const std::string& task_id, int64_t fencing_token) const {
  absl::MutexLock lock(&mu_);
  auto it = leases_.find(task_id);
  return it != leases_.end() && it->second.fencing_token == fencing_token;
}

std::vector<HeldLeaseInfo> LeaseTracker::Snapshot() const {
  absl::MutexLock lock(&mu_);
  std::vector<HeldLeaseInfo> out;
  out.reserve(leases_.size());
  for (const auto& [id, lease] : leases_) out.push_back(lease);
  return out;
}

size_t LeaseTracker::size() const {
  absl::MutexLock lock(&mu_);
  return leases_.size();
}

}  // namespace skillstore::worker
