// TlsReloader: the server's TLS credentials, with certificate files that can
// be renewed while the server runs (SIGHUP, or a periodic check).
//
// gRPC binds credentials to the listening port once, at BuildAndStart. The
// only public way in gRPC 1.51 to change them afterwards is a certificate
// provider, and the only provider that ever changes is
// grpc::experimental::FileWatcherCertificateProvider: it re-reads its files
// every refresh interval and takes whatever it finds. An unreadable file
// empties the credentials (every new handshake fails until it is fixed), and
// a key that does not belong to its certificate, or a file that is not PEM,
// is served as is. A renewal that goes wrong would take the server off the
// network.
//
// So gRPC never watches the operator's files. TlsReloader reads them and runs
// the startup checks (common/auth: readable, PEM, the key belongs to the
// certificate); only material that passes is published into in-memory files
// (memfd) that the file watcher polls every kPublishIntervalSeconds. A
// renewal that fails a check is reported and the published material — the
// pair being served — stays. Handshakes after the publication use the new
// pair; established connections keep the session they negotiated.
#ifndef SKILLSTORE_SERVER_TLS_RELOADER_H_
#define SKILLSTORE_SERVER_TLS_RELOADER_H_

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

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

// An in-memory file (memfd_create) at a path that never changes,
// /proc/self/fd/N, whose content is replaced as a whole: the new content is
// written into a new memfd that dup3() puts in place of N, so whoever opens
// the path gets the old file or the new one, never a mix of both. Nothing
// touches a disk, and the copy of the private key vanishes with the process
// (even after kill -9), unlike a copy in a temporary directory.
class MemoryFile {
 public:
  // `name` shows in /proc/PID/fd (memfd:<name>) for whoever debugs the process.
  static absl::StatusOr<std::unique_ptr<MemoryFile>> Create(std::string name,
                                                            absl::string_view content);
  ~MemoryFile();
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  absl::Status Replace(absl::string_view content);

  // "/proc/self/fd/N"; valid while this object lives.
  std::string path() const;

 private:
  MemoryFile(std::string name, int fd, int64_t mtime)
      : name_(std::move(name)), fd_(fd), mtime_seconds_(mtime) {}

  // A new memfd holding `content`, its mtime a whole second past the
  // previous one's (see the .cc). Returns the descriptor.
  static absl::StatusOr<int> Write(const std::string& name, absl::string_view content,
                                   int64_t mtime_seconds);

  const std::string name_;
  int fd_;
  int64_t mtime_seconds_;
};

class TlsReloader {
 public:
  // How often gRPC's file watcher re-reads the published copies: a reload
  // reaches new handshakes at most this long after it is published. Reading
  // two small in-memory files once a second costs nothing measurable.
  static constexpr unsigned kPublishIntervalSeconds = 1;

  // Loads and checks `files` (LoadTlsMaterial) and builds the credentials;
  // an error here stops the server at startup.
  static absl::StatusOr<std::unique_ptr<TlsReloader>> Create(TlsFiles files);

  ~TlsReloader();  // stops the polling thread
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

  void PollLoop(absl::Duration interval);
  absl::StatusOr<bool> ReloadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const TlsFiles files_;
  // Published copies; declared before the provider and the credentials so
  // they outlive gRPC's watcher thread that reads them.
  std::unique_ptr<MemoryFile> identity_;   // certificate chain + key, one file
  std::unique_ptr<MemoryFile> client_ca_;  // null without mutual TLS
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider_;
  std::shared_ptr<grpc::ServerCredentials> credentials_;

  mutable absl::Mutex mu_;  // serializes reloads; guards served_
  TlsMaterial served_ ABSL_GUARDED_BY(mu_);
  int64_t served_not_after_ ABSL_GUARDED_BY(mu_) = 0;
  ReloadCounts reload_counts_ ABSL_GUARDED_BY(mu_);

  absl::Mutex poll_mu_;
  bool stopping_ ABSL_GUARDED_BY(poll_mu_) = false;
  std::thread poller_;
};

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_TLS_RELOADER_H_
