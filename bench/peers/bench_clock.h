// Small helpers shared by the bench clients: a monotonic clock and the one
// result line compare.sh parses.
#ifndef SKILLSTORE_BENCH_PEERS_BENCH_CLOCK_H_
#define SKILLSTORE_BENCH_PEERS_BENCH_CLOCK_H_

#include <chrono>
#include <cstdio>
#include <string>

namespace skillstore::bench {

inline double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// "RESULT system=<s> tasks=<n> seconds=<t> tasks_per_s=<r>" on stdout:
// compare.sh greps for it.
inline void PrintResult(const std::string& system, long tasks, double seconds) {
  std::printf("RESULT system=%s tasks=%ld seconds=%.3f tasks_per_s=%.1f\n", system.c_str(),
              tasks, seconds, seconds > 0 ? tasks / seconds : 0.0);
  std::fflush(stdout);
}

}  // namespace skillstore::bench

#endif  // SKILLSTORE_BENCH_PEERS_BENCH_CLOCK_H_
