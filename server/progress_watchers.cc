#include "progress_watchers.h"

#include <algorithm>
#include <chrono>

namespace skillstore::server {

// One stream. Invariants (under mu_): at most one write in flight; Finish is
// called exactly once, and never while a write is in flight (OnWriteDone
// finishes instead). The reactor deletes itself in OnDone, after Finish and
// every write have completed, so the publisher never touches a finished one.
class ProgressWatchers::Watcher : public grpc::ServerWriteReactor<v1::Progress> {
 public:
  Watcher(ProgressWatchers& owner, int interval_ms, std::function<void()> on_done)
      : owner_(owner), interval_ms_(interval_ms), on_done_(std::move(on_done)) {}

  // From the publisher: writes `progress` unless busy, finished, or too soon.
  void MaybeWrite(const v1::Progress& progress, uint64_t version, int64_t now_ms,
                  int keepalive_ms) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (finished_ || ending_ || writing_) return;
      if (now_ms - last_write_ms_ < interval_ms_) return;
      if (version == written_version_ && now_ms - last_write_ms_ < keepalive_ms) return;
      writing_ = true;
      written_version_ = version;
      last_write_ms_ = now_ms;
      pending_ = progress;
    }
    StartWrite(&pending_);
  }

  // Ends the stream (server shutdown) as soon as no write is in flight, with
  // UNAVAILABLE: a clean OK would read as the end of the watch itself.
  void End() {
    EndWith(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                         "the server is shutting down; watch again once it is back"));
  }

  void OnWriteDone(bool ok) override {
    bool finish = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = false;
      if (!ok) ending_ = true;
      if (ending_ && !finished_) finish = finished_ = true;
    }
    if (finish) Finish(end_status_);
  }

  void OnCancel() override { EndWith(grpc::Status::CANCELLED); }

  void OnDone() override {
    owner_.Remove(this);
    on_done_();
    delete this;
  }

 private:
  void EndWith(const grpc::Status& status) {
    bool finish = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!ending_) end_status_ = status;
      ending_ = true;
      if (!writing_ && !finished_) finish = finished_ = true;
    }
    if (finish) Finish(status);
  }

  ProgressWatchers& owner_;
  const int interval_ms_;
  const std::function<void()> on_done_;
  std::mutex mu_;
  bool writing_ = false;
  bool ending_ = false;
  bool finished_ = false;
  // How the stream ends once ending_: the first reason given (a write that
  // failed means the client has gone; it hears nothing either way).
  grpc::Status end_status_ = grpc::Status::OK;
  uint64_t written_version_ = 0;
  int64_t last_write_ms_ = 0;
  v1::Progress pending_;  // the message in flight; stable while writing_
};

ProgressWatchers::ProgressWatchers(ProgressTracker& progress, Options options)
    : progress_(progress), options_(options) {}

ProgressWatchers::~ProgressWatchers() { Shutdown(); }

void ProgressWatchers::Start() {
  publisher_ = std::thread([this] { Publish(); });
}

void ProgressWatchers::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    wake_.notify_all();
  }
  if (publisher_.joinable()) publisher_.join();
  // Under mu_, so no watcher can be deleted (Remove waits for mu_) meanwhile.
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& watcher : watchers_) watcher->End();
}

grpc::ServerWriteReactor<v1::Progress>* ProgressWatchers::Watch(
    grpc::CallbackServerContext* context, const v1::WatchProgressRequest* request,
    std::function<void()> on_done) {
  int interval =
      request->min_interval_ms() > 0 ? request->min_interval_ms() : options_.default_interval_ms;
  interval = std::max(interval, options_.min_interval_ms);
  auto* watcher = new Watcher(*this, interval, std::move(on_done));
  bool refused = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      refused = true;
    } else {
      // The registry holds a non-owning shared_ptr: the reactor owns itself.
      watchers_.push_back(std::shared_ptr<Watcher>(watcher, [](Watcher*) {}));
      wake_.notify_all();  // send the first update at once
    }
  }
  if (refused) watcher->End();
  return watcher;
}

void ProgressWatchers::Remove(Watcher* watcher) {
  std::lock_guard<std::mutex> lock(mu_);
  watchers_.erase(std::remove_if(watchers_.begin(), watchers_.end(),
                                 [&](const auto& w) { return w.get() == watcher; }),
                  watchers_.end());
}

void ProgressWatchers::Publish() {
  // Polling the version every floor interval is cheap (one mutex) and bounds
  // the delay between a change and its push.
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    const int64_t now_ms = NowUnixMs();
    const uint64_t version = progress_.version();
    const v1::Progress snapshot = progress_.Snapshot(now_ms);
    // MaybeWrite takes only the watcher's own lock and never blocks; holding
    // mu_ keeps every watcher alive (Remove waits for mu_) while we write.
    for (auto& watcher : watchers_) {
      watcher->MaybeWrite(snapshot, version, now_ms, options_.keepalive_interval_ms);
    }
    wake_.wait_for(lock, std::chrono::milliseconds(options_.min_interval_ms));
  }
}

}  // namespace skillstore::server
