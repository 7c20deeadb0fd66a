#include "cli/interrupt.h"

#include <signal.h>

#include <chrono>

namespace skillstore::cli {
namespace {

volatile sig_atomic_t g_interrupted = 0;
struct sigaction g_old_int;
struct sigaction g_old_term;

void OnSignal(int) { g_interrupted = 1; }

}  // namespace

InterruptScope::InterruptScope() {
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &g_old_int);
  sigaction(SIGTERM, &action, &g_old_term);
}

InterruptScope::~InterruptScope() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

bool InterruptScope::Interrupted() { return g_interrupted != 0; }

CancelOnInterrupt::CancelOnInterrupt(grpc::ClientContext* context) {
  // A signal handler may not call into gRPC, so a thread watches the flag.
  // 50 ms keeps ^C prompt while costing nothing measurable.
  thread_ = std::thread([this, context] {
    while (!done_.load()) {
      if (InterruptScope::Interrupted()) {
        context->TryCancel();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

CancelOnInterrupt::~CancelOnInterrupt() {
  done_.store(true);
  thread_.join();
}

}  // namespace skillstore::cli
