#include "result_buffer.h"

#include <utility>

#include "absl/time/clock.h"

namespace skillstore::worker {

void ResultBuffer::Add(Result result) {
  pending_.push_back(Entry{std::move(result)});
  pending_.back().added_at = absl::Now();
}

std::optional<absl::Time> ResultBuffer::OldestPendingSince() const {
  if (pending_.empty()) return std::nullopt;
  return pending_.front().added_at;
}

std::optional<ResultBuffer::Result> ResultBuffer::TakeNextToSend(absl::Time now) {
  if (pending_.empty()) return std::nullopt;
  in_flight_.splice(in_flight_.end(), pending_, pending_.begin());
  Entry& entry = in_flight_.back();
  entry.sent_at = now;
  return entry.result;
}

std::optional<ResultBuffer::Result> ResultBuffer::Acknowledge(const std::string& task_id,
                                                              int64_t fencing_token) {
  for (auto it = in_flight_.begin(); it != in_flight_.end(); ++it) {
    if (it->result.task_id() == task_id && it->result.fencing_token() == fencing_token) {
      Result result = std::move(it->result);
      in_flight_.erase(it);
      return result;
    }
  }
  return std::nullopt;
}

std::vector<ResultBuffer::Result> ResultBuffer::RequeueInFlight(bool count_delivery_failure,
                                                                int max_delivery_failures) {
  std::vector<Result> poisoned;
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (count_delivery_failure && ++it->delivery_failures >= max_delivery_failures) {
      poisoned.push_back(std::move(it->result));
      it = in_flight_.erase(it);
    } else {
      ++it;
    }
  }
  pending_.splice(pending_.begin(), in_flight_);
  return poisoned;
}

bool ResultBuffer::DiscardPending(const std::string& task_id, int64_t fencing_token) {
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (it->result.task_id() == task_id && it->result.fencing_token() == fencing_token) {
      pending_.erase(it);
      return true;
    }
  }
  return false;
}

std::optional<absl::Time> ResultBuffer::OldestInFlightSince() const {
  if (in_flight_.empty()) return std::nullopt;
  return in_flight_.front().sent_at;
}

}  // namespace skillstore::worker
