// ReloadPoller: the periodic check behind --tls-reload-interval, for
// renewals nobody signals (a Kubernetes Secret or a cert-manager volume
// updated in place). The server (server/tls_reloader.h) and skill-worker
// (common/client_tls_reloader.h) run one each.
#ifndef SKILLSTORE_COMMON_AUTH_RELOAD_POLLER_H_
#define SKILLSTORE_COMMON_AUTH_RELOAD_POLLER_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace skillstore::auth {

class ReloadPoller {
 public:
  struct Callbacks {
    // Re-reads and publishes: true when something changed, false when
    // nothing did, an error when the files were refused.
    std::function<absl::StatusOr<bool>()> reload;
    // After a reload that changed something.
    std::function<void()> on_changed;
    // After a refused reload, once per distinct error: a renewal tool caught
    // between writing the certificate and the key is seen whole at the next
    // check, and a file that stays broken is reported once, not every
    // interval. A success re-arms the report.
    std::function<void(const absl::Status&)> on_failure;
  };

  // Calls callbacks.reload every `interval` (> 0) on a thread of its own.
  ReloadPoller(absl::Duration interval, Callbacks callbacks);
  ~ReloadPoller();  // stops and joins the thread; a reload in progress finishes first

  ReloadPoller(const ReloadPoller&) = delete;
  ReloadPoller& operator=(const ReloadPoller&) = delete;

 private:
  void Loop();

  const absl::Duration interval_;
  const Callbacks callbacks_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once everything above is set
};

}  // namespace skillstore::auth

#endif  // SKILLSTORE_COMMON_AUTH_RELOAD_POLLER_H_
