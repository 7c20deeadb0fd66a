// SIGINT / SIGTERM / SIGHUP handling for the daemon, without
// async-signal-safety puzzles: the signals are blocked in every thread and one
// dedicated thread receives them with sigwait(), so the callbacks are ordinary
// code that may lock, log and call into the worker.
//
// The first SIGINT or SIGTERM calls `on_first` (drain); the second calls
// `on_second` (exit at once; it should not return). SIGHUP calls `on_hangup`
// (re-read files) every time; it never counts towards the two stop signals,
// so a reload neither drains nor stops the worker, and a SIGTERM after any
// number of SIGHUPs is still the first.
#ifndef SKILLSTORE_WORKER_SIGNAL_WATCHER_H_
#define SKILLSTORE_WORKER_SIGNAL_WATCHER_H_

#include <pthread.h>

#include <atomic>
#include <functional>
#include <thread>

namespace skillstore::worker {

class SignalWatcher {
 public:
  // Blocks SIGINT, SIGTERM and SIGHUP in the calling thread, and so in every
  // thread started after it: construct it in main() before any other thread.
  SignalWatcher();
  ~SignalWatcher();  // stops the watching thread

  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  void Start(std::function<void(int signal)> on_first, std::function<void(int signal)> on_second,
             std::function<void()> on_hangup);

 private:
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_SIGNAL_WATCHER_H_
