// Exponential backoff with jitter, for reconnecting to the server.
//
// Every worker that loses the server retries; without jitter they would all
// come back in the same instant after a server restart. Each delay is drawn
// uniformly from [d/2, d], where d doubles per failure up to `max`
// ("equal jitter": never zero, never more than the cap).
//
// Not thread-safe: each retrying loop owns its own Backoff.
#ifndef SKILLSTORE_WORKER_BACKOFF_H_
#define SKILLSTORE_WORKER_BACKOFF_H_

#include "absl/random/random.h"
#include "absl/time/time.h"

namespace skillstore::worker {

class Backoff {
 public:
  Backoff(absl::Duration initial, absl::Duration max);

  // The delay to wait before the next attempt; grows with each call.
  absl::Duration Next();

  // Called after a success: the next failure starts again at `initial`.
  void Reset();

  // Failures since the last Reset().
  int failures() const { return failures_; }

 private:
  const absl::Duration initial_;
  const absl::Duration max_;
  absl::Duration current_;
  int failures_ = 0;
  absl::BitGen rng_;
};

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_BACKOFF_H_
