// ^C (SIGINT) and SIGTERM handling for the long-running commands (watch,
// wait, enqueue of a large folder).
//
// An InterruptScope installs handlers that only record the signal; the
// command notices it between steps (Interrupted()) and, for a blocking
// stream read, through a CancelOnInterrupt guard that cancels the RPC's
// context from a helper thread. This lets the command finish its output line
// and exit with code 130 instead of dying mid-write.
#ifndef SKILLSTORE_CLI_INTERRUPT_H_
#define SKILLSTORE_CLI_INTERRUPT_H_

#include <atomic>
#include <thread>

#include <grpcpp/client_context.h>

namespace skillstore::cli {

class InterruptScope {
 public:
  InterruptScope();   // installs the handlers
  ~InterruptScope();  // restores the previous ones
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // True once SIGINT or SIGTERM arrived while a scope was active.
  static bool Interrupted();
};

// Cancels `context` as soon as Interrupted() becomes true, until destroyed.
class CancelOnInterrupt {
 public:
  explicit CancelOnInterrupt(grpc::ClientContext* context);
  ~CancelOnInterrupt();
  CancelOnInterrupt(const CancelOnInterrupt&) = delete;
  CancelOnInterrupt& operator=(const CancelOnInterrupt&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace skillstore::cli

#endif  // SKILLSTORE_CLI_INTERRUPT_H_
