// The three Prometheus instruments: Counter, Gauge and Histogram. One object
// is one time series (one label set); Family (registry.h) owns them.
//
// Hot-path cost: Counter::Increment and Histogram::Observe never take a lock.
// They add to one of kShards cache-line-aligned atomic cells chosen by the
// calling thread, so threads that update the same series at the same time do
// not bounce one cache line between cores; readers (a scrape) sum the shards.
// Gauges are set from one place at a time (or read at scrape time) and use a
// single atomic.
//
// Values are doubles, as in the exposition format; integer counts stay exact
// up to 2^53.
#ifndef SKILLSTORE_COMMON_METRICS_INSTRUMENTS_H_
#define SKILLSTORE_COMMON_METRICS_INSTRUMENTS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace skillstore::metrics {

namespace internal {

inline constexpr size_t kShards = 8;

// This thread's shard, fixed for the thread's life (assigned round-robin so
// the threads of a small pool land on different shards).
size_t ThisThreadShard();

// A double in an atomic 64-bit word; Add is a compare-and-swap loop (C++17 has
// no atomic<double>::fetch_add).
class AtomicDouble {
 public:
  void Add(double delta);
  void Set(double value);
  double Load() const;

 private:
  std::atomic<uint64_t> bits_{0};  // bit pattern of 0.0 is all zeros
};

// A sum that many threads add to concurrently.
class ShardedSum {
 public:
  void Add(double delta) { shards_[ThisThreadShard()].value.Add(delta); }
  double Sum() const;

 private:
  struct alignas(64) Shard {
    AtomicDouble value;
  };
  Shard shards_[kShards];
};

}  // namespace internal

// Only goes up (Prometheus resets are process restarts).
class Counter {
 public:
  // `delta` must be >= 0; negative or NaN deltas are ignored, since a counter
  // that went down would read as a reset to rate().
  void Increment(double delta = 1.0) {
    if (delta >= 0) sum_.Add(delta);
  }
  double Value() const { return sum_.Sum(); }

 private:
  internal::ShardedSum sum_;
};

// Goes up and down; also the instrument for values mirrored at scrape time
// (see Registry::AddCollectHook).
class Gauge {
 public:
  void Set(double value) { value_.Set(value); }
  void Add(double delta) { value_.Add(delta); }
  void Increment() { Add(1.0); }
  void Decrement() { Add(-1.0); }
  double Value() const { return value_.Load(); }

 private:
  internal::AtomicDouble value_;
};

// Counts observations into buckets with upper bounds `bounds` (a value v goes
// into the first bucket with v <= bound, as Prometheus' `le` label means),
// plus the implicit +Inf bucket, and keeps their sum.
class Histogram {
 public:
  // `bounds` must be finite and strictly increasing (Registry checks).
  explicit Histogram(std::vector<double> bounds);

  void Observe(double value);

  struct Snapshot {
    std::vector<double> bounds;
    // cumulative[i]: observations <= bounds[i]; the last entry is +Inf and
    // equals count.
    std::vector<uint64_t> cumulative;
    double sum = 0;
    uint64_t count = 0;
  };
  // Consistent in itself: count always equals the +Inf bucket.
  Snapshot Collect() const;

 private:
  struct alignas(64) Shard {
    std::unique_ptr<std::atomic<uint64_t>[]> buckets;  // bounds.size() + 1, not cumulative
    internal::AtomicDouble sum;
  };
  const std::vector<double> bounds_;
  Shard shards_[internal::kShards];
};

// Bucket layouts.
// start, start*factor, ... (count bounds). start > 0, factor > 1.
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// start, start+width, ... (count bounds). width > 0.
std::vector<double> LinearBuckets(double start, double width, int count);
// 0.5 ms .. 60 s: request and commit latencies.
std::vector<double> LatencyBuckets();
// 10 ms .. 20 min: task run times.
std::vector<double> DurationBuckets();

}  // namespace skillstore::metrics

#endif  // SKILLSTORE_COMMON_METRICS_INSTRUMENTS_H_
