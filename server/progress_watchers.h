// WatchProgress streams: one publisher thread pushes a Progress to every
// watcher when the figures change, at most once per the watcher's interval,
// and at least every few seconds (throughput and ETA drift with time alone).
// A watcher holds no thread while it waits.
#ifndef SKILLSTORE_SERVER_PROGRESS_WATCHERS_H_
#define SKILLSTORE_SERVER_PROGRESS_WATCHERS_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "progress.h"

namespace skillstore::server {

class ProgressWatchers {
 public:
  struct Options {
    int default_interval_ms = 500;
    int min_interval_ms = 100;  // floor on what a client may ask for
    int keepalive_interval_ms = 5000;
  };

  ProgressWatchers(ProgressTracker& progress, Options options);
  ~ProgressWatchers();  // Shutdown()

  void Start();
  // Ends every stream with OK, refuses new ones, joins the publisher.
  void Shutdown();

  // The reactor for one WatchProgress call; `on_done` runs when it is over.
  grpc::ServerWriteReactor<v1::Progress>* Watch(grpc::CallbackServerContext* context,
                                                const v1::WatchProgressRequest* request,
                                                std::function<void()> on_done);

  class Watcher;

 private:
  void Publish();
  void Remove(Watcher* watcher);

  ProgressTracker& progress_;
  const Options options_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::vector<std::shared_ptr<Watcher>> watchers_;  // guarded by mu_
  bool stopping_ = false;                           // guarded by mu_
  std::thread publisher_;
};

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_PROGRESS_WATCHERS_H_
