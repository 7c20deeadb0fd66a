// A fixed number of threads that run tasks, each under a deadline.
//
// The skill engine has no way to interrupt a call in progress. So when a job
// passes its deadline, the pool does not wait for it: the watchdog delivers
// the job's timeout outcome at once (the worker reports the task failed,
// retryable, and its slot is free again), the stuck thread is ABANDONED —
// detached, and whatever it eventually returns is discarded — and a fresh
// thread takes its place so the pool keeps `threads` live threads. An
// abandoned thread still burns CPU until the engine returns; abandoned()
// counts them so the operator sees it in the logs. The alternative, a child
// process per task, would cost a fork and a copy of each result per task
// for a case that the engine's own limits already make rare.
//
// Exactly one of {the job's own outcome, its timeout outcome} reaches `done`.
//
// Thread-safe. Jobs may be added from any thread.
#ifndef SKILLSTORE_WORKER_EXECUTOR_POOL_H_
#define SKILLSTORE_WORKER_EXECUTOR_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "skillstore/v1/skillstore.pb.h"

namespace skillstore::worker {

class ExecutorPool {
 public:
  using Outcome = skillstore::v1::SubmitResultRequest;

  struct Job {
    std::string name;  // for logs, e.g. "task 17 attempt 2"
    absl::Duration timeout = absl::InfiniteDuration();
    // Runs on a pool thread. Must not touch objects that may die before it
    // returns (it may outlive the pool when abandoned): capture by value.
    std::function<Outcome()> run;
    // Builds the outcome reported when `run` misses its deadline.
    std::function<Outcome(absl::Duration ran_for)> on_timeout;
    // Receives exactly one outcome, on a pool or watchdog thread.
    std::function<void(Outcome)> done;
  };

  explicit ExecutorPool(int threads);
  // Waits for queued and running jobs; abandons those still running after
  // Shutdown's deadline.
  ~ExecutorPool();

  ExecutorPool(const ExecutorPool&) = delete;
  ExecutorPool& operator=(const ExecutorPool&) = delete;

  void Submit(Job job);
  // Queues several jobs under one lock (a claim's batch of tasks), in order.
  void Submit(std::vector<Job> jobs);

  // Stops accepting work and joins the threads. Jobs still running when
  // `deadline` passes are abandoned (their `done` is not called). Idempotent.
  void Shutdown(absl::Time deadline);

  // Threads abandoned so far because their job missed its deadline.
  int abandoned() const { return core_->abandoned.load(); }
  // Of those, the ones whose engine call has not returned yet. Zero means no
  // thread of this pool can touch process-wide state (the logger) any more,
  // so static destructors may run.
  int abandoned_still_running() const { return core_->abandoned_running.load(); }

 private:
  struct JobState {
    Job job;
    absl::Time deadline;
    absl::Time started = absl::InfiniteFuture();
    std::atomic<bool> delivered{false};
  };
  struct ThreadState {
    std::atomic<bool> abandoned{false};
    std::shared_ptr<JobState> current;  // guarded by Core::mu
  };
  // Shared with the threads, so an abandoned thread can finish safely after
  // the pool object is gone.
  struct Core {
    std::mutex mu;
    // Work queued or stop: wakes one idle pool thread per job (the watchdog
    // never waits here, so a short task costs no watchdog wake-up).
    std::condition_variable work_cv;
    // The watchdog's: a deadline earlier than the one it sleeps until, a job
    // finished during Shutdown, stop.
    std::condition_variable cv;
    // When the watchdog will look next (InfiniteFuture: only when told);
    // a job starting with a later deadline does not need to wake it.
    absl::Time watchdog_wake = absl::InfiniteFuture();
    std::deque<std::shared_ptr<JobState>> queue;
    std::map<std::thread::id, std::shared_ptr<ThreadState>> threads;
    bool stop = false;
    std::atomic<int> abandoned{0};
    // Decremented by an abandoned thread as the last thing it does under
    // `mu`, after its log line.
    std::atomic<int> abandoned_running{0};
  };

  static void ThreadMain(std::shared_ptr<Core> core, std::shared_ptr<ThreadState> self);
  void StartThreadLocked();
  void WatchdogLoop();

  std::shared_ptr<Core> core_;
  std::map<std::thread::id, std::thread> handles_;  // guarded by core_->mu
  std::thread watchdog_;
  bool shut_down_ = false;
};

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_EXECUTOR_POOL_H_
