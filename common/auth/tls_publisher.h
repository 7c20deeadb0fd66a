// TlsPublisher: TLS material that can change while gRPC uses it, for the
// server's credentials (server/tls_reloader.h) and the worker's
// (common/client_tls_reloader.h).
//
// gRPC binds credentials once (to a listening port, or to a channel). The
// only public way in gRPC 1.51 to change them afterwards is a certificate
// provider, and the only provider that ever changes is
// grpc::experimental::FileWatcherCertificateProvider: it re-reads its files
// every refresh interval and takes whatever it finds. An unreadable file
// empties the credentials (every new handshake fails until it is fixed), and
// a key that does not belong to its certificate, or a file that is not PEM,
// is used as is. A renewal that goes wrong would take the process off the
// network.
//
// So gRPC never watches the operator's files. The caller reads them and runs
// its checks (tls_files.h: readable, PEM, the key belongs to the
// certificate); only material that passes is published here, into in-memory
// files (memory_file.h) that the file watcher polls every
// kPublishIntervalSeconds. Material that fails a check is never published,
// and the copies in use stay. Handshakes after a publication use it;
// established connections keep the session they negotiated.
#ifndef SKILLSTORE_COMMON_AUTH_TLS_PUBLISHER_H_
#define SKILLSTORE_COMMON_AUTH_TLS_PUBLISHER_H_

#include <grpcpp/security/tls_certificate_provider.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/auth/memory_file.h"
#include "common/auth/tls_files.h"

namespace skillstore::auth {

class TlsPublisher {
 public:
  // How often gRPC's file watcher re-reads the published copies: a
  // publication reaches new handshakes at most this long after it is made.
  // Reading two small in-memory files once a second costs nothing measurable.
  static constexpr unsigned kPublishIntervalSeconds = 1;

  // Publishes `initial` and starts the provider over it; the provider has
  // read the copies before this returns, so credentials built on it hold the
  // material from their first handshake on. What `initial` holds (an
  // identity, a CA) is fixed for the publisher's life: gRPC is told once
  // what to watch. `name` prefixes the memfd names seen in /proc/PID/fd.
  static absl::StatusOr<std::unique_ptr<TlsPublisher>> Create(const std::string& name,
                                                              TlsPem initial);

  TlsPublisher(const TlsPublisher&) = delete;
  TlsPublisher& operator=(const TlsPublisher&) = delete;

  // For TlsCredentialsOptions::set_certificate_provider. Credentials built
  // on it read the copies this object owns: keep it alive as long as they
  // may make handshakes.
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider() const {
    return provider_;
  }
  // Whether gRPC should watch_identity_key_cert_pairs / watch_root_certs.
  bool has_identity() const { return identity_ != nullptr; }
  bool has_ca() const { return ca_ != nullptr; }

  // Replaces the copies whose content differs from `fresh`. true: something
  // changed, new handshakes use it within kPublishIntervalSeconds; false:
  // `fresh` is what is published. INVALID_ARGUMENT when `fresh` adds or
  // drops an identity or a CA (see Create); nothing is published then. Not
  // thread-safe: callers serialize Publish.
  absl::StatusOr<bool> Publish(const TlsPem& fresh);

  // What was published last.
  const TlsPem& published() const { return published_; }

 private:
  TlsPublisher() = default;

  // Declared before the provider so they outlive gRPC's watcher thread that
  // reads them.
  std::unique_ptr<MemoryFile> identity_;  // certificate chain + key, one file
  std::unique_ptr<MemoryFile> ca_;
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider_;
  TlsPem published_;
};

}  // namespace skillstore::auth

#endif  // SKILLSTORE_COMMON_AUTH_TLS_PUBLISHER_H_
