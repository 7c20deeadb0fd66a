#include "common/auth/tls_publisher.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace skillstore::auth {
namespace {

// The identity file gRPC reads twice, once as the private key and once as the
// certificate chain. OpenSSL's PEM readers skip blocks of other types, so one
// file holding both serves both reads. One file rather than two because the
// watcher reads the key and the certificate one after the other: with two
// files replaced one after the other, it could pair the new key with the old
// certificate; one file is replaced in a single step.
std::string IdentityFile(const TlsPem& pem) {
  std::string file = pem.cert;
  if (!file.empty() && file.back() != '\n') file.push_back('\n');
  file += pem.key;
  return file;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsPublisher>> TlsPublisher::Create(const std::string& name,
                                                                   TlsPem initial) {
  if (initial.cert.empty() != initial.key.empty()) {
    return absl::InvalidArgumentError("a TLS identity needs both a certificate and its key");
  }
  if (initial.cert.empty() && initial.ca.empty()) {
    return absl::InvalidArgumentError("no TLS material to publish");
  }
  auto publisher = std::unique_ptr<TlsPublisher>(new TlsPublisher());
  if (!initial.cert.empty()) {
    absl::StatusOr<std::unique_ptr<MemoryFile>> identity =
        MemoryFile::Create(absl::StrCat(name, "-identity"), IdentityFile(initial));
    if (!identity.ok()) return identity.status();
    publisher->identity_ = std::move(*identity);
  }
  if (!initial.ca.empty()) {
    absl::StatusOr<std::unique_ptr<MemoryFile>> ca =
        MemoryFile::Create(absl::StrCat(name, "-ca"), initial.ca);
    if (!ca.ok()) return ca.status();
    publisher->ca_ = std::move(*ca);
  }
  const std::string identity_path =
      publisher->identity_ != nullptr ? publisher->identity_->path() : std::string();
  // The watcher reads the files once here, before it returns.
  publisher->provider_ = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      identity_path, identity_path,
      publisher->ca_ != nullptr ? publisher->ca_->path() : std::string(), kPublishIntervalSeconds);
  publisher->published_ = std::move(initial);
  return publisher;
}

absl::StatusOr<bool> TlsPublisher::Publish(const TlsPem& fresh) {
  if (fresh.cert.empty() != !has_identity() || fresh.key.empty() != !has_identity() ||
      fresh.ca.empty() != !has_ca()) {
    return absl::InvalidArgumentError(
        "the TLS material changed shape (an identity or a CA was added or dropped): restart to "
        "use it");
  }
  const bool identity_changed = fresh.cert != published_.cert || fresh.key != published_.key;
  const bool ca_changed = fresh.ca != published_.ca;
  if (identity_changed) {
    if (absl::Status status = identity_->Replace(IdentityFile(fresh)); !status.ok()) {
      return status;
    }
    published_.cert = fresh.cert;
    published_.key = fresh.key;
  }
  if (ca_changed) {
    if (absl::Status status = ca_->Replace(fresh.ca); !status.ok()) return status;
    published_.ca = fresh.ca;
  }
  return identity_changed || ca_changed;
}

}  // namespace skillstore::auth
