// TlsReloader: the server's TLS credentials, with certificate files that can
// be renewed while the server runs (SIGHUP, or a periodic check).
//
// gRPC never watches the operator's files (common/auth/tls_publisher.h says
// why). TlsReloader reads them and runs the startup checks (common/auth:
// readable, PEM, the key belongs to the certificate); only material that
// passes is published to the certificate provider the credentials are built
// on. A renewal that fails a check is reported and the published material —
// the pair being served — stays. Handshakes after the publication use the new
// pair; established connections keep the session they negotiated.
#ifndef SKILLSTORE_SERVER_TLS_RELOADER_H_
#define SKILLSTORE_SERVER_TLS_RELOADER_H_

#include <grpcpp/security/server_credentials.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/reload_poller.h"
#include "common/auth/tls_publisher.h"

namespace skillstore::server {

// The PEM files TLS is served with; errors name them with their flags.
struct TlsFiles {
  std::string cert;       // --tls-cert: certificate chain, leaf first
  std::string key;        // --tls-key: its private key
  std::string client_ca;  // --tls-client-ca: empty means no client certificates
};

// The contents of TlsFiles once they passed the checks.
struct TlsMaterial {
  std::string cert;
  std::string key;
  std::string client_ca;
};

// Reads `files` and checks them as the server does at startup: every file
// readable and PEM (a certificate, an unencrypted key), the key belonging to
// the certificate. INVALID_ARGUMENT naming the file and the flag otherwise.
absl::StatusOr<TlsMaterial> LoadTlsMaterial(const TlsFiles& files);

class TlsReloader {
 public:
  // A reload reaches new handshakes at most this long after it is published.
  static constexpr unsigned kPublishIntervalSeconds = auth::TlsPublisher::kPublishIntervalSeconds;

  // Loads and checks `files` (LoadTlsMaterial) and builds the credentials;
  // an error here stops the server at startup.
  static absl::StatusOr<std::unique_ptr<TlsReloader>> Create(TlsFiles files);

  ~TlsReloader();  // stops the polling thread before anything it uses goes
  TlsReloader(const TlsReloader&) = delete;
  TlsReloader& operator=(const TlsReloader&) = delete;

  // The credentials to listen with; they follow every reload.
  std::shared_ptr<grpc::ServerCredentials> credentials() const { return credentials_; }

  bool mutual() const { return !files_.client_ca.empty(); }
  const TlsFiles& files() const { return files_; }

  // Reads and checks the files again. true: something changed and was
  // published; new handshakes use it within kPublishIntervalSeconds. false:
  // the files hold what is already served. An error names the file that
  // failed its check; nothing was published and the previous material keeps
  // serving. Safe to call from any thread.
  absl::StatusOr<bool> Reload();

  // Calls Reload every `interval` on a thread of its own until destroyed
  // (for renewals nobody signals, like a Kubernetes Secret updated in place).
  // Logs each publication, and each failure once until it changes or is
  // fixed, so a broken file does not repeat the same error every interval.
  void StartPolling(absl::Duration interval);

  // auth::DescribeCertificate of the certificate being served.
  std::string Describe() const;

  // When the certificate being served expires, in Unix seconds (for the
  // skillstore_tls_certificate_expiry_timestamp_seconds gauge).
  int64_t NotAfter() const;

  // Reload calls so far, by outcome (for skillstore_tls_reloads_total).
  struct ReloadCounts {
    int64_t changed = 0;
    int64_t unchanged = 0;
    int64_t failed = 0;
  };
  ReloadCounts reload_counts() const;

 private:
  explicit TlsReloader(TlsFiles files) : files_(std::move(files)) {}

  absl::StatusOr<bool> ReloadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TlsFiles files_;
  mutable absl::Mutex mu_;  // serializes reloads; guards what the publisher serves
  // Declared before the credentials so the published copies outlive gRPC's
  // watcher thread that reads them.
  std::unique_ptr<auth::TlsPublisher> publisher_ ABSL_PT_GUARDED_BY(mu_);
  std::shared_ptr<grpc::ServerCredentials> credentials_;
  int64_t served_not_after_ ABSL_GUARDED_BY(mu_) = 0;
  ReloadCounts reload_counts_ ABSL_GUARDED_BY(mu_);

  std::unique_ptr<auth::ReloadPoller> poller_;  // last: stops before the rest goes
};

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_TLS_RELOADER_H_
