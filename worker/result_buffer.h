// Finished results that the server has not acknowledged yet.
//
// A result is `pending` until it is written to a SubmitResult stream, then
// `in flight` until the server's acknowledgement (accepted or rejected)
// removes it. When a stream breaks, everything in flight goes back to
// pending, in its original order, and is written again on the next stream:
// the server keeps or rejects each by its lease, so sending twice is safe and
// losing one is not.
//
// Bounded: Full() tells the claim loop to stop claiming, so the buffer holds
// at most max_results (+ the tasks already running) while the server is away.
//
// Not thread-safe: the ResultSubmitter guards it with its mutex.
#ifndef SKILLSTORE_WORKER_RESULT_BUFFER_H_
#define SKILLSTORE_WORKER_RESULT_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "skillstore/v1/skillstore.pb.h"

namespace skillstore::worker {

class ResultBuffer {
 public:
  using Result = skillstore::v1::SubmitResultRequest;

  explicit ResultBuffer(size_t max_results) : max_results_(max_results) {}

  void Add(Result result);

  // Takes the oldest pending result and moves it in flight (sent at `now`).
  std::optional<Result> TakeNextToSend(absl::Time now);

  // The server acknowledged (task_id, fencing_token). Returns the result and
  // forgets it; nullopt when nothing in flight matches.
  std::optional<Result> Acknowledge(const std::string& task_id, int64_t fencing_token);

  // The stream broke: in-flight results become pending again, ahead of the
  // results that were never sent. `count_delivery_failure` marks each of them
  // as having failed one delivery (the server refused the stream itself, not
  // just a dropped connection). Returns the results that reached
  // `max_delivery_failures` and were removed (poison: the caller reports them
  // otherwise).
  std::vector<Result> RequeueInFlight(bool count_delivery_failure, int max_delivery_failures);

  // Drops a pending (not in flight) result whose lease the server declared
  // gone. True when one was dropped.
  bool DiscardPending(const std::string& task_id, int64_t fencing_token);

  // When the oldest in-flight result was sent; nullopt when none is in flight.
  std::optional<absl::Time> OldestInFlightSince() const;

  bool HasPending() const { return !pending_.empty(); }
  size_t pending() const { return pending_.size(); }
  // When the oldest pending result was added; nullopt when none is pending.
  std::optional<absl::Time> OldestPendingSince() const;
  size_t in_flight() const { return in_flight_.size(); }
  size_t size() const { return pending_.size() + in_flight_.size(); }
  bool empty() const { return size() == 0; }
  bool Full() const { return size() >= max_results_; }

 private:
  struct Entry {
    Result result;
    absl::Time added_at = absl::InfinitePast();
    absl::Time sent_at = absl::InfinitePast();
    int delivery_failures = 0;
  };
  const size_t max_results_;
  std::list<Entry> pending_;    // oldest first
  std::list<Entry> in_flight_;  // in send order
};

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_RESULT_BUFFER_H_
