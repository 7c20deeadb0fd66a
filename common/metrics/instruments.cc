#include "common/metrics/instruments.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace skillstore::metrics {
namespace internal {
namespace {

uint64_t ToBits(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

double FromBits(uint64_t bits) {
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

}  // namespace

size_t ThisThreadShard() {
  static std::atomic<size_t> next{0};
  thread_local const size_t shard = next.fetch_add(1, std::memory_order_relaxed) % kShards;
  return shard;
}

void AtomicDouble::Add(double delta) {
  uint64_t old_bits = bits_.load(std::memory_order_relaxed);
  while (!bits_.compare_exchange_weak(old_bits, ToBits(FromBits(old_bits) + delta),
                                      std::memory_order_relaxed)) {
  }
}

void AtomicDouble::Set(double value) { bits_.store(ToBits(value), std::memory_order_relaxed); }

double AtomicDouble::Load() const { return FromBits(bits_.load(std::memory_order_relaxed)); }

double ShardedSum::Sum() const {
  double sum = 0;
  for (const Shard& shard : shards_) sum += shard.value.Load();
  return sum;
}

}  // namespace internal

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  for (Shard& shard : shards_) {
    shard.buckets = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
    for (size_t i = 0; i <= bounds_.size(); ++i) shard.buckets[i].store(0);
  }
}

void Histogram::Observe(double value) {
  // NaN compares false with every bound and lands in +Inf, which is where
  // Prometheus puts it too.
  const size_t bucket = static_cast<size_t>(
      std::find_if(bounds_.begin(), bounds_.end(), [value](double bound) { return value <= bound; }) -
      bounds_.begin());
  Shard& shard = shards_[internal::ThisThreadShard()];
  shard.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  shard.sum.Add(value);
}

Histogram::Snapshot Histogram::Collect() const {
  Snapshot snapshot;
  snapshot.bounds = bounds_;
  snapshot.cumulative.assign(bounds_.size() + 1, 0);
  for (const Shard& shard : shards_) {
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      snapshot.cumulative[i] += shard.buckets[i].load(std::memory_order_relaxed);
    }
    snapshot.sum += shard.sum.Load();
  }
  for (size_t i = 1; i < snapshot.cumulative.size(); ++i) {
    snapshot.cumulative[i] += snapshot.cumulative[i - 1];
  }
  snapshot.count = snapshot.cumulative.back();
  return snapshot;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> bounds;
  double bound = start;
  for (int i = 0; i < count; ++i, bound *= factor) bounds.push_back(bound);
  return bounds;
}

std::vector<double> LinearBuckets(double start, double width, int count) {
  std::vector<double> bounds;
  for (int i = 0; i < count; ++i) bounds.push_back(start + width * i);
  return bounds;
}

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
          0.25,   0.5,   1,      2.5,   5,    10,    30,    60};
}

std::vector<double> DurationBuckets() {
  return {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200};
}

}  // namespace skillstore::metrics
