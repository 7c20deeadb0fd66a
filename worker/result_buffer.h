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
#include <vector>

#include "absl/time/time.h"
#include "skillstore/v1/skillstore.pb.h"

namespace skillstore::worker {

class ResultBuffer {
 public:
  using Result = skillstore::v1::SubmitResultRequest;

 private:
  struct Entry {
    Result result;  // moved out while lent to the writer
    // The lease the result is for: the acknowledgement is matched by it,
    // also while the result itself is lent.
    std::string task_id;
    int64_t fencing_token = 0;
    bool success = false;
    absl::Time added_at = absl::InfinitePast();
    absl::Time sent_at = absl::InfinitePast();
    int delivery_failures = 0;
    bool lent = false;   // the writer holds `result` (see Lend)
    bool acked = false;  // acknowledged while lent: Return drops it
  };

 public:
  // What an acknowledgement removed from the buffer.
  struct Acked {
    std::string task_id;
    int64_t fencing_token = 0;
    bool success = false;
    size_t left = 0;  // unacknowledged results left in the buffer after this one
  };

  // Results moved in flight and lent to the writer, oldest first. The writer
  // gets the results themselves, not copies (a copy per result was a malloc
  // per field and a memcpy of the JSON), and gives them back with Return
  // after writing them, so they can be sent again if the stream breaks.
  struct Lent {
    std::vector<Result> results;
    std::vector<std::list<Entry>::iterator> entries;  // results[i] is entries[i]'s
  };

  explicit ResultBuffer(size_t max_results) : max_results_(max_results) {}

  void Add(Result result);

  // Moves up to `max` of the oldest pending results in flight (sent at
  // `now`) and lends them out. Every Lend is followed by a Return before the
  // next Lend or RequeueInFlight.
  Lent Lend(absl::Time now, size_t max);

  // Takes lent results back (in the order lent); those acknowledged
  // meanwhile are dropped.
  void Return(Lent lent);

  // The server acknowledged (task_id, fencing_token): forgets the result and
  // says which; nullopt when nothing in flight matches. A result lent to the
  // writer stays until Return, but no longer counts in size().
  std::optional<Acked> Acknowledge(const std::string& task_id, int64_t fencing_token);

  // The stream broke: in-flight results become pending again, ahead of the
  // results that were never sent. `count_delivery_failure` marks each of them
  // as having failed one delivery (the server refused the stream itself, not
  // just a dropped connection). Returns the results that reached
  // `max_delivery_failures` and were removed (poison: the caller reports them
  // otherwise). Nothing may be lent.
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
  // Sent and not acknowledged.
  size_t in_flight() const { return in_flight_.size() - acked_lent_; }
  size_t size() const { return pending_.size() + in_flight(); }
  bool empty() const { return size() == 0; }
  bool Full() const { return size() >= max_results_; }

 private:
  const size_t max_results_;
  std::list<Entry> pending_;    // oldest first
  std::list<Entry> in_flight_;  // in send order
  size_t acked_lent_ = 0;       // entries of in_flight_ acknowledged while lent
};

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_RESULT_BUFFER_H_
