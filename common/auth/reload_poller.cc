#include "common/auth/reload_poller.h"

#include <utility>

namespace skillstore::auth {

ReloadPoller::ReloadPoller(absl::Duration interval, Callbacks callbacks)
    : interval_(interval), callbacks_(std::move(callbacks)), thread_([this] { Loop(); }) {}

ReloadPoller::~ReloadPoller() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void ReloadPoller::Loop() {
  std::string reported;  // the last failure reported; empty when none is pending
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_)) return;
    }
    absl::StatusOr<bool> reloaded = callbacks_.reload();
    if (!reloaded.ok()) {
      if (std::string(reloaded.status().message()) != reported) {
        reported = std::string(reloaded.status().message());
        callbacks_.on_failure(reloaded.status());
      }
      continue;
    }
    reported.clear();
    if (*reloaded) callbacks_.on_changed();
  }
}

}  // namespace skillstore::auth
