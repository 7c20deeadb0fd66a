#include "tls_reloader.h"

#include <grpcpp/security/tls_credentials_options.h>

#include <utility>

#include "common/auth/tls_files.h"
#include "spdlog/spdlog.h"
#include "status_macros.h"

namespace skillstore::server {
namespace {

auth::TlsPem ToPem(TlsMaterial material) {
  return auth::TlsPem{std::move(material.cert), std::move(material.key),
                      std::move(material.client_ca)};
}

}  // namespace

absl::StatusOr<TlsMaterial> LoadTlsMaterial(const TlsFiles& files) {
  TlsMaterial material;
  SKS_ASSIGN_OR_RETURN(material.cert, auth::ReadCertificatePem(files.cert, "--tls-cert"));
  SKS_ASSIGN_OR_RETURN(material.key, auth::ReadPrivateKeyPem(files.key, "--tls-key"));
  SKS_RETURN_IF_ERROR(
      auth::CheckKeyMatchesCertificate(material.cert, material.key, files.cert, files.key));
  if (!files.client_ca.empty()) {
    SKS_ASSIGN_OR_RETURN(material.client_ca,
                         auth::ReadCertificatePem(files.client_ca, "--tls-client-ca"));
  }
  return material;
}

absl::StatusOr<std::unique_ptr<TlsReloader>> TlsReloader::Create(TlsFiles files) {
  SKS_ASSIGN_OR_RETURN(TlsMaterial material, LoadTlsMaterial(files));
  auto reloader = std::unique_ptr<TlsReloader>(new TlsReloader(std::move(files)));
  absl::MutexLock lock(&reloader->mu_);
  // Checked by LoadTlsMaterial: the certificate parses.
  reloader->served_not_after_ = auth::CertificateNotAfter(material.cert).value_or(0);
  SKS_ASSIGN_OR_RETURN(reloader->publisher_,
                       auth::TlsPublisher::Create("skillstore-tls", ToPem(std::move(material))));
  const bool mutual = reloader->mutual();
  grpc::experimental::TlsServerCredentialsOptions options(reloader->publisher_->provider());
  options.watch_identity_key_cert_pairs();
  if (mutual) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  reloader->credentials_ = grpc::experimental::TlsServerCredentials(options);
  if (reloader->credentials_ == nullptr) {
    return absl::InternalError("gRPC refused the TLS server credentials options");
  }
  return reloader;
}

TlsReloader::~TlsReloader() { poller_.reset(); }

absl::StatusOr<bool> TlsReloader::Reload() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<bool> changed = ReloadLocked();
  if (!changed.ok()) {
    ++reload_counts_.failed;
  } else if (*changed) {
    ++reload_counts_.changed;
  } else {
    ++reload_counts_.unchanged;
  }
  return changed;
}

absl::StatusOr<bool> TlsReloader::ReloadLocked() {
  SKS_ASSIGN_OR_RETURN(TlsMaterial fresh, LoadTlsMaterial(files_));
  const int64_t not_after = auth::CertificateNotAfter(fresh.cert).value_or(0);
  SKS_ASSIGN_OR_RETURN(bool changed, publisher_->Publish(ToPem(std::move(fresh))));
  served_not_after_ = not_after;
  return changed;
}

int64_t TlsReloader::NotAfter() const {
  absl::MutexLock lock(&mu_);
  return served_not_after_;
}

TlsReloader::ReloadCounts TlsReloader::reload_counts() const {
  absl::MutexLock lock(&mu_);
  return reload_counts_;
}

std::string TlsReloader::Describe() const {
  absl::MutexLock lock(&mu_);
  return auth::DescribeCertificate(publisher_->published().cert);
}

void TlsReloader::StartPolling(absl::Duration interval) {
  if (poller_ != nullptr || interval <= absl::ZeroDuration()) return;
  auth::ReloadPoller::Callbacks callbacks;
  callbacks.reload = [this] { return Reload(); };
  callbacks.on_changed = [this] {
    spdlog::info(
        "TLS files reloaded: new connections use them within {}s (certificate: {}); open "
        "connections keep theirs",
        kPublishIntervalSeconds, Describe());
  };
  callbacks.on_failure = [this, interval](const absl::Status& status) {
    spdlog::error(
        "TLS files not reloaded, still serving the previous certificate ({}): {} (checked "
        "again every {}; fix the file, or SIGHUP once it is fixed)",
        Describe(), std::string(status.message()), absl::FormatDuration(interval));
  };
  poller_ = std::make_unique<auth::ReloadPoller>(interval, std::move(callbacks));
}

}  // namespace skillstore::server
