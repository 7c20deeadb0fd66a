#include "result_buffer.h"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <utility>

#include "absl/time/clock.h"

namespace skillstore::worker {

void ResultBuffer::Add(Result result) {
  Entry& entry = pending_.emplace_back();
  entry.task_id = result.task_id();
  entry.fencing_token = result.fencing_token();
  entry.success = result.success();
  entry.result = std::move(result);
  entry.added_at = absl::Now();
}

std::optional<absl::Time> ResultBuffer::OldestPendingSince() const {
  if (pending_.empty()) return std::nullopt;
  return pending_.front().added_at;
}

ResultBuffer::Lent ResultBuffer::Lend(absl::Time now, size_t max) {
  Lent lent;
  const size_t n = std::min(max, pending_.size());
  lent.results.reserve(n);
  lent.entries.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    in_flight_.splice(in_flight_.end(), pending_, pending_.begin());
    auto it = std::prev(in_flight_.end());
    it->sent_at = now;
    it->lent = true;
    lent.results.push_back(std::move(it->result));
    lent.entries.push_back(it);
  }
  return lent;
}

void ResultBuffer::Return(Lent lent) {
  for (size_t i = 0; i < lent.entries.size(); ++i) {
    auto it = lent.entries[i];
    if (it->acked) {
      in_flight_.erase(it);
      --acked_lent_;
      continue;
    }
    it->lent = false;
    it->result = std::move(lent.results[i]);
  }
}

std::optional<ResultBuffer::Acked> ResultBuffer::Acknowledge(const std::string& task_id,
                                                             int64_t fencing_token) {
  for (auto it = in_flight_.begin(); it != in_flight_.end(); ++it) {
    if (it->acked || it->task_id != task_id || it->fencing_token != fencing_token) continue;
    Acked acked{std::move(it->task_id), it->fencing_token, it->success};
    if (it->lent) {
      it->acked = true;
      ++acked_lent_;
    } else {
      in_flight_.erase(it);
    }
    acked.left = size();
    return acked;
  }
  return std::nullopt;
}

std::vector<ResultBuffer::Result> ResultBuffer::RequeueInFlight(bool count_delivery_failure,
                                                                int max_delivery_failures) {
  std::vector<Result> poisoned;
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    // The writer returns what it borrowed before the stream is torn down.
    assert(!it->lent);
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
    if (it->task_id == task_id && it->fencing_token == fencing_token) {
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
