// skill-worker's TLS files re-read while it runs: a ClientTlsReloader
// (common/client_tls_reloader.h) for SIGHUP and for the periodic check every
// --tls-reload-interval, and the log lines both write.
//
// With short-lived client certificates (cert-manager renews them every few
// weeks), a worker that read its files once would present an expired
// certificate at its next handshake after the renewal, and fail until
// someone restarted it; the same after the CA it trusts is rotated.
#ifndef SKILLSTORE_WORKER_TLS_RELOAD_H_
#define SKILLSTORE_WORKER_TLS_RELOAD_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/reload_poller.h"
#include "common/client_credentials.h"
#include "common/client_tls_reloader.h"

namespace skillstore::worker {

class WorkerTlsReload {
 public:
  // Publishes the files `security` was loaded from, points
  // security->certificate_provider at them (build the channel afterwards)
  // and checks them every `interval` (zero: only on Reload). Returns null
  // when there is nothing to re-read: plaintext, or --tls with the system's
  // root CAs. Keep the object alive until the channel is gone.
  static absl::StatusOr<std::unique_ptr<WorkerTlsReload>> Start(client::ClientSecurity* security,
                                                                absl::Duration interval);

  ~WorkerTlsReload() = default;  // the poller stops first (declared last)
  WorkerTlsReload(const WorkerTlsReload&) = delete;
  WorkerTlsReload& operator=(const WorkerTlsReload&) = delete;

  // SIGHUP: re-reads the files now and logs the outcome (reloaded,
  // unchanged, or refused naming the file and its flag).
  void Reload();

 private:
  explicit WorkerTlsReload(std::unique_ptr<client::ClientTlsReloader> reloader)
      : reloader_(std::move(reloader)) {}

  std::unique_ptr<client::ClientTlsReloader> reloader_;
  std::unique_ptr<auth::ReloadPoller> poller_;
};

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_TLS_RELOAD_H_
