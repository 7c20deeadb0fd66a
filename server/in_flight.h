// Counts RPCs between their handler's start and their Finish, so shutdown can
// wait for exactly the in-flight calls and then close every connection at
// once (gRPC alone would also wait for idle client connections to notice its
// GOAWAY, which some clients only do on their next 5 s backup poll).
#ifndef SKILLSTORE_SERVER_IN_FLIGHT_H_
#define SKILLSTORE_SERVER_IN_FLIGHT_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/time/time.h"

namespace skillstore::server {

class InFlightRpcs {
 public:
  void Begin() {
    std::lock_guard<std::mutex> lock(mu_);
    ++count_;
  }
  void End() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--count_ == 0) idle_.notify_all();
  }
  // True when no RPC is in flight by `deadline`.
  bool WaitIdle(absl::Time deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return idle_.wait_until(lock, absl::ToChronoTime(deadline), [&] { return count_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable idle_;
  int count_ = 0;
};

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_IN_FLIGHT_H_
