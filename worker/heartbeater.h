// Heartbeats: tells the server this worker is alive, which leases it still
// works on (extending them — this is how a task longer than the lease keeps
// its lease), and whether it is draining. The reply names held tasks that were
// cancelled or whose lease was lost; those go to `on_drop`.
//
// Runs on its own thread at the interval the server asks for (from the
// Heartbeat and ClaimTask replies). Failures are retried with backoff and
// logged once per outage, not once per beat. A permanent refusal goes to
// `on_fatal`.
//
// Thread-safe.
#ifndef SKILLSTORE_WORKER_HEARTBEATER_H_
#define SKILLSTORE_WORKER_HEARTBEATER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "lease_tracker.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace skillstore::worker {

class Heartbeater {
 public:
  struct Identity {
    std::string worker_id;
    std::string instance_id;
    std::string hostname;
    int concurrency = 1;
    std::vector<skillstore::v1::TaskType> types;
    std::string version;
  };
  enum class DropReason { kCancelled, kLost };

  Heartbeater(skillstore::v1::SkillStore::StubInterface* stub, const LeaseTracker* leases,
              Identity identity,
              std::function<void(const std::string& task_id, int64_t fencing_token,
                                 DropReason reason)>
                  on_drop,
              std::function<void(absl::Status)> on_fatal);
  ~Heartbeater();  // Stop()

  Heartbeater(const Heartbeater&) = delete;
  Heartbeater& operator=(const Heartbeater&) = delete;

  // Starts the thread; the first heartbeat (registration) goes out at once.
  void Start();

  // The server's requested heartbeat interval and lease length (each ignored
  // when <= 0). Beats go out at the interval, but at least three times per
  // lease, so one lost beat never costs a lease.
  void SetTiming(int heartbeat_interval_seconds, int lease_seconds);

  // From now on every heartbeat says draining=true; one is sent at once.
  void SetDraining();

  // Stops the thread, then sends one last heartbeat (draining and stopping,
  // with whatever leases are still held) bounded by `timeout`: the server
  // lists the worker as stopped, not lost, and gives those leases' tasks
  // back at once. Idempotent.
  void Stop(absl::Duration final_beat_timeout = absl::ZeroDuration());

 private:
  void Loop();
  // One Heartbeat RPC with the current leases.
  grpc::Status Beat(absl::Duration timeout);

  skillstore::v1::SkillStore::StubInterface* const stub_;
  const LeaseTracker* const leases_;
  const Identity identity_;
  const std::function<void(const std::string&, int64_t, DropReason)> on_drop_;
  const std::function<void(absl::Status)> on_fatal_;

  std::mutex mu_;
  std::condition_variable cv_;
  absl::Duration interval_ = absl::Seconds(10);  // guarded by mu_
  bool draining_ = false;                          // guarded by mu_
  bool beat_now_ = true;                           // guarded by mu_
  bool stop_ = false;                              // guarded by mu_
  bool stopped_ = false;                           // guarded by mu_
  std::thread thread_;
};

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_HEARTBEATER_H_
