#include "executor_pool.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "spdlog/spdlog.h"

namespace skillstore::worker {

ExecutorPool::ExecutorPool(int threads) : core_(std::make_shared<Core>()) {
  std::lock_guard<std::mutex> lock(core_->mu);
  for (int i = 0; i < threads; ++i) StartThreadLocked();
  watchdog_ = std::thread([this] { WatchdogLoop(); });
}

ExecutorPool::~ExecutorPool() { Shutdown(absl::InfiniteFuture()); }

void ExecutorPool::StartThreadLocked() {
  auto state = std::make_shared<ThreadState>();
  std::thread thread(&ExecutorPool::ThreadMain, core_, state);
  core_->threads[thread.get_id()] = state;
  handles_[thread.get_id()] = std::move(thread);
}

void ExecutorPool::Submit(Job job) {
  std::vector<Job> jobs;
  jobs.push_back(std::move(job));
  Submit(std::move(jobs));
}

void ExecutorPool::Submit(std::vector<Job> jobs) {
  size_t idle_to_wake;
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    for (Job& job : jobs) {
      auto state = std::make_shared<JobState>();
      state->job = std::move(job);
      core_->queue.push_back(std::move(state));
    }
    idle_to_wake = std::min(jobs.size(), core_->threads.size());
  }
  // No more threads than jobs: a thread that finds the queue empty again
  // would only go back to sleep.
  for (size_t i = 0; i < idle_to_wake; ++i) core_->work_cv.notify_one();
}

void ExecutorPool::ThreadMain(std::shared_ptr<Core> core, std::shared_ptr<ThreadState> self) {
  // A finished job's stop check shares the critical section that takes the
  // next job, so a run of queued tiny tasks costs two lock round trips each
  // instead of three.
  bool ran_job = false;
  while (true) {
    std::shared_ptr<JobState> job;
    bool wake_watchdog = false;
    {
      std::unique_lock<std::mutex> lock(core->mu);
      // Shutdown and the exiting watchdog wait for running jobs to end; in
      // normal operation a finished job needs nobody woken.
      if (ran_job && core->stop) core->cv.notify_all();
      core->work_cv.wait(lock, [&] { return core->stop || !core->queue.empty(); });
      if (core->queue.empty()) return;  // stop requested and no work left
      job = std::move(core->queue.front());
      core->queue.pop_front();
      job->started = absl::Now();
      job->deadline = job->started + job->job.timeout;
      self->current = job;
      // Only a deadline earlier than the watchdog's next look needs it now.
      if (job->deadline < core->watchdog_wake) {
        core->watchdog_wake = job->deadline;
        wake_watchdog = true;
      }
    }
    if (wake_watchdog) core->cv.notify_all();

    Outcome outcome;
    bool have_outcome = true;
    try {
      outcome = job->job.run();
    } catch (...) {
      // `run` reports engine exceptions itself; reaching here is a bug in
      // the glue. Deliver nothing rather than a made-up result: the lease
      // expires and the task runs again elsewhere.
      have_outcome = false;
      spdlog::error("{}: the task runner threw; the task's lease will expire", job->job.name);
    }
    {
      // The abandoned flag is set and `current` cleared under the same lock,
      // so a thread either was abandoned (its outcome was already reported
      // as a timeout, and the pool may be gone: touch nothing but `core`) or
      // owns delivery of its outcome, and Shutdown waits for it.
      std::lock_guard<std::mutex> lock(core->mu);
      if (self->abandoned.load()) {
        spdlog::info("{}: an abandoned engine call returned after {}; its result is discarded",
                     job->job.name, absl::FormatDuration(absl::Now() - job->started));
        core->abandoned_running.fetch_sub(1);
        return;
      }
      self->current.reset();
    }
    if (have_outcome && !job->delivered.exchange(true)) job->job.done(std::move(outcome));
    ran_job = true;
  }
}

void ExecutorPool::WatchdogLoop() {
  std::unique_lock<std::mutex> lock(core_->mu);
  while (true) {
    if (core_->stop && core_->queue.empty()) {
      bool any_running = false;
      for (const auto& [id, thread] : core_->threads) any_running |= thread->current != nullptr;
      if (!any_running) return;
    }
    absl::Time earliest = absl::InfiniteFuture();
    std::vector<std::thread::id> expired;
    const absl::Time now = absl::Now();
    for (const auto& [id, thread] : core_->threads) {
      if (thread->current == nullptr) continue;
      if (thread->current->deadline <= now) {
        expired.push_back(id);
      } else if (thread->current->deadline < earliest) {
        earliest = thread->current->deadline;
      }
    }
    for (const std::thread::id& id : expired) {
      std::shared_ptr<ThreadState> thread = core_->threads[id];
      std::shared_ptr<JobState> job = std::move(thread->current);
      thread->abandoned.store(true);
      core_->threads.erase(id);
      handles_[id].detach();
      handles_.erase(id);
      core_->abandoned.fetch_add(1);
      core_->abandoned_running.fetch_add(1);
      if (!core_->stop) StartThreadLocked();  // keep the pool at full strength
      if (job->delivered.exchange(true)) continue;
      const absl::Duration ran = now - job->started;
      spdlog::warn("{}: exceeded its timeout of {}; reporting it failed and abandoning the "
                   "engine thread ({} abandoned so far)",
                   job->job.name, absl::FormatDuration(job->job.timeout),
                   core_->abandoned.load());
      lock.unlock();
      job->job.done(job->job.on_timeout(ran));
      lock.lock();
    }
    if (!expired.empty()) continue;
    core_->watchdog_wake = earliest;
    if (earliest == absl::InfiniteFuture()) {
      core_->cv.wait(lock);
    } else {
      core_->cv.wait_until(lock, absl::ToChronoTime(earliest));
    }
    core_->watchdog_wake = absl::InfinitePast();  // awake: every new deadline is seen
  }
}

void ExecutorPool::Shutdown(absl::Time deadline) {
  if (shut_down_) return;
  shut_down_ = true;
  std::unique_lock<std::mutex> lock(core_->mu);
  core_->stop = true;
  core_->cv.notify_all();
  core_->work_cv.notify_all();
  // Wait for the queue to empty and every job to finish, up to `deadline`.
  auto busy = [this] {
    if (!core_->queue.empty()) return true;
    for (const auto& [id, thread] : core_->threads) {
      if (thread->current != nullptr) return true;
    }
    return false;
  };
  while (busy()) {
    if (deadline == absl::InfiniteFuture()) {
      core_->cv.wait(lock);
    } else if (core_->cv.wait_until(lock, absl::ToChronoTime(deadline)) ==
               std::cv_status::timeout) {
      break;
    }
  }
  // Abandon whatever still runs (its done is never called), drop the queue.
  core_->queue.clear();
  std::vector<std::thread::id> still_running;
  for (const auto& [id, thread] : core_->threads) {
    if (thread->current != nullptr) still_running.push_back(id);
  }
  for (const std::thread::id& id : still_running) {
    std::shared_ptr<ThreadState> thread = core_->threads[id];
    thread->abandoned.store(true);
    thread->current->delivered.store(true);
    thread->current.reset();
    core_->threads.erase(id);
    handles_[id].detach();
    handles_.erase(id);
    core_->abandoned.fetch_add(1);
    core_->abandoned_running.fetch_add(1);
  }
  std::vector<std::thread> to_join;
  for (auto& [id, handle] : handles_) to_join.push_back(std::move(handle));
  handles_.clear();
  core_->cv.notify_all();
  core_->work_cv.notify_all();
  lock.unlock();
  for (std::thread& t : to_join) t.join();
  core_->cv.notify_all();
  watchdog_.join();
}

}  // namespace skillstore::worker
