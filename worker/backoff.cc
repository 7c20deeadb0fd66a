#include "backoff.h"

#include <algorithm>

namespace skillstore::worker {

Backoff::Backoff(absl::Duration initial, absl::Duration max)
    : initial_(initial), max_(std::max(initial, max)), current_(initial) {}

absl::Duration Backoff::Next() {
  const absl::Duration d = current_;
  current_ = std::min(current_ * 2, max_);
  ++failures_;
  const double half_ms = absl::ToDoubleMilliseconds(d) / 2;
  return absl::Milliseconds(half_ms + absl::Uniform(rng_, 0.0, half_ms + 1e-9));
}

void Backoff::Reset() {
  current_ = initial_;
  failures_ = 0;
}

}  // namespace skillstore::worker
