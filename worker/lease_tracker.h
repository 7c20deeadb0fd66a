// The leases this worker holds, from claim until the server acknowledges the
// result (or says the lease is gone).
//
// A lease stays here after its task finished and until its result is
// acknowledged, so heartbeats keep extending it while the result waits in the
// buffer for a server that is restarting; otherwise the server would expire a
// lease whose result is already computed.
//
// Every operation names the lease by (task id, fencing token): the same task
// can come back to this worker under a newer lease, and an old lease's late
// event must never touch the new one.
//
// Thread-safe.
#ifndef SKILLSTORE_WORKER_LEASE_TRACKER_H_
#define SKILLSTORE_WORKER_LEASE_TRACKER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace skillstore::worker {

struct HeldLeaseInfo {
  std::string task_id;
  int64_t fencing_token = 0;
  int attempt = 0;
  bool finished = false;  // the task ran; its result awaits acknowledgement
};

class LeaseTracker {
 public:
  // A lease was just claimed. Replaces an older lease of the same task.
  void Add(const std::string& task_id, int64_t fencing_token, int attempt);

  // The task finished running. False when the lease is no longer held
  // (dropped meanwhile): the result must then be discarded.
  bool MarkFinished(const std::string& task_id, int64_t fencing_token);

  // Forget the lease (result acknowledged, or the server dropped it).
  // Returns it when it was held.
  std::optional<HeldLeaseInfo> Remove(const std::string& task_id, int64_t fencing_token);

  bool Holds(const std::string& task_id, int64_t fencing_token) const;

  // Every held lease, for a heartbeat.
  std::vector<HeldLeaseInfo> Snapshot() const;

  size_t size() const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, HeldLeaseInfo> leases_ ABSL_GUARDED_BY(mu_);  // by task id
};

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_LEASE_TRACKER_H_
