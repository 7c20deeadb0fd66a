// ClientTlsReloader: a client's TLS files (--tls-ca, --tls-cert, --tls-key)
// re-read while it runs, so a long-running skill-worker follows a renewed
// client certificate or a rotated CA without a restart.
//
// The files are read and checked (LoadClientTlsPem: readable, PEM, the key
// belongs to the certificate) and only material that passes is published to
// the certificate provider the channel's credentials are built on
// (common/auth/tls_publisher.h says why gRPC never reads the operator's
// files). Material that fails a check is refused and the channel keeps what
// it had. Handshakes after a publication (a reconnect after the server
// restarts, a new connection) use the new material; open connections keep
// the session they negotiated.
//
// skillctl runs for seconds and reads its files once; it does not use this.
#ifndef SKILLSTORE_COMMON_CLIENT_TLS_RELOADER_H_
#define SKILLSTORE_COMMON_CLIENT_TLS_RELOADER_H_

#include <grpcpp/security/tls_certificate_provider.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/tls_publisher.h"
#include "common/client_credentials.h"

namespace skillstore::client {

class ClientTlsReloader {
 public:
  // A reload reaches new handshakes at most this long after it is published.
  static constexpr unsigned kPublishIntervalSeconds = auth::TlsPublisher::kPublishIntervalSeconds;

  // Whether `security` has TLS files to re-read: false for plaintext, and
  // for --tls alone (the system's root CAs, which the system updates).
  static bool HasFiles(const ClientSecurity& security);

  // Publishes what `security` holds (its files, already read and checked by
  // LoadClientSecurity). INVALID_ARGUMENT when !HasFiles(security).
  static absl::StatusOr<std::unique_ptr<ClientTlsReloader>> Create(const ClientSecurity& security);

  ClientTlsReloader(const ClientTlsReloader&) = delete;
  ClientTlsReloader& operator=(const ClientTlsReloader&) = delete;

  // For ClientSecurity::certificate_provider. Keep this object alive as long
  // as channels built on it may make handshakes: it owns the copies the
  // provider reads.
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider() const {
    return provider_;
  }

  // Reads and checks the files again. true: something changed and was
  // published; new handshakes use it within kPublishIntervalSeconds. false:
  // the files hold what is in use. An error names the file and its flag;
  // nothing was published and the previous material stays in use. Safe to
  // call from any thread.
  absl::StatusOr<bool> Reload();

  // The material in use, for logs: "client certificate subject CN = …,
  // issuer …, expires …; CA subject CN = …" (auth::DescribeCertificate; the
  // first certificate of the --tls-ca file).
  std::string Describe() const;

 private:
  explicit ClientTlsReloader(ClientTlsFiles files) : files_(std::move(files)) {}

  const ClientTlsFiles files_;
  mutable absl::Mutex mu_;  // serializes reloads
  std::unique_ptr<auth::TlsPublisher> publisher_ ABSL_PT_GUARDED_BY(mu_);
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider_;
};

}  // namespace skillstore::client

#endif  // SKILLSTORE_COMMON_CLIENT_TLS_RELOADER_H_
