#include "signal_watcher.h"

#include <signal.h>

#include <utility>

namespace skillstore::worker {
namespace {

// SIGUSR2 is only used to wake the watcher thread when it should stop.
sigset_t WatchedSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR2);
  return set;
}

}  // namespace

SignalWatcher::SignalWatcher() {
  sigset_t set = WatchedSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

SignalWatcher::~SignalWatcher() {
  if (thread_.joinable()) {
    stopping_.store(true);
    pthread_kill(thread_.native_handle(), SIGUSR2);
    thread_.join();
  }
}

void SignalWatcher::Start(std::function<void(int)> on_first, std::function<void(int)> on_second,
                          std::function<void()> on_hangup) {
  thread_ = std::thread([this, on_first = std::move(on_first), on_second = std::move(on_second),
                         on_hangup = std::move(on_hangup)] {
    const sigset_t set = WatchedSignals();
    int received = 0;
    while (true) {
      int signal = 0;
      if (sigwait(&set, &signal) != 0) continue;
      if (stopping_.load()) return;
      if (signal == SIGUSR2) continue;
      if (signal == SIGHUP) {
        on_hangup();
        continue;
      }
      if (++received == 1) {
        on_first(signal);
      } else {
        on_second(signal);
      }
    }
  });
}

}  // namespace skillstore::worker
