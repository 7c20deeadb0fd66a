#include "common/client_tls_reloader.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace skillstore::client {

bool ClientTlsReloader::HasFiles(const ClientSecurity& security) {
  return security.tls && (!security.tls_files.ca.empty() || !security.tls_files.cert.empty());
}

absl::StatusOr<std::unique_ptr<ClientTlsReloader>> ClientTlsReloader::Create(
    const ClientSecurity& security) {
  if (!HasFiles(security)) {
    return absl::InvalidArgumentError("no TLS files to re-read (neither --tls-ca nor --tls-cert)");
  }
  auto reloader = std::unique_ptr<ClientTlsReloader>(new ClientTlsReloader(security.tls_files));
  absl::MutexLock lock(&reloader->mu_);
  absl::StatusOr<std::unique_ptr<auth::TlsPublisher>> publisher = auth::TlsPublisher::Create(
      "skillstore-client-tls",
      auth::TlsPem{security.cert_chain_pem, security.private_key_pem, security.root_certs_pem});
  if (!publisher.ok()) return publisher.status();
  reloader->publisher_ = std::move(*publisher);
  reloader->provider_ = reloader->publisher_->provider();
  return reloader;
}

absl::StatusOr<bool> ClientTlsReloader::Reload() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<auth::TlsPem> fresh = LoadClientTlsPem(files_);
  if (!fresh.ok()) return fresh.status();
  return publisher_->Publish(*fresh);
}

std::string ClientTlsReloader::Describe() const {
  absl::MutexLock lock(&mu_);
  const auth::TlsPem& pem = publisher_->published();
  std::string out;
  if (!pem.cert.empty()) {
    out = absl::StrCat("client certificate ", auth::DescribeCertificate(pem.cert));
  }
  if (!pem.ca.empty()) {
    absl::StrAppend(&out, out.empty() ? "" : "; ", "CA ", auth::DescribeCertificate(pem.ca));
  }
  return out;
}

}  // namespace skillstore::client
