// skillstore::auth — reading TLS material for gRPC credentials.
//
// gRPC takes certificates and keys as PEM strings and, for a server, only
// notices a bad or mismatched pair during the first handshake. These helpers
// check the files up front so a misconfigured server or client fails at
// startup with a message naming the file, instead of failing every connection.
#ifndef SKILLSTORE_COMMON_AUTH_TLS_FILES_H_
#define SKILLSTORE_COMMON_AUTH_TLS_FILES_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skillstore::auth {

// TLS material read from files that passed the checks below, as PEM text:
// what the server serves and a client presents and trusts.
struct TlsPem {
  std::string cert;  // own certificate chain, leaf first; empty: no identity
  std::string key;   // its private key
  std::string ca;    // CA certificates to trust in the peer; empty: none given
};

// Reads a PEM file holding at least one certificate. `what` names the flag
// in errors ("--tls-cert"). INVALID_ARGUMENT when unreadable or not a
// certificate.
absl::StatusOr<std::string> ReadCertificatePem(const std::string& path, absl::string_view what);

// Reads a PEM private key (any type OpenSSL reads, unencrypted).
absl::StatusOr<std::string> ReadPrivateKeyPem(const std::string& path, absl::string_view what);

// OK when the first certificate in `cert_pem` carries the public half of
// `key_pem`; INVALID_ARGUMENT naming both files otherwise.
absl::Status CheckKeyMatchesCertificate(absl::string_view cert_pem, absl::string_view key_pem,
                                        absl::string_view cert_path, absl::string_view key_path);

// One line naming the first certificate in `cert_pem`, for logs that tell an
// operator which certificate is being served: "subject CN=x, issuer CN=y,
// expires Jan 31 12:00:00 2027 GMT" ("EXPIRED ..." once past). A string
// without a certificate gives "no certificate".
std::string DescribeCertificate(absl::string_view cert_pem);

// When the first certificate in `cert_pem` stops being valid (its notAfter),
// in Unix seconds. INVALID_ARGUMENT without a certificate.
absl::StatusOr<int64_t> CertificateNotAfter(absl::string_view cert_pem);

}  // namespace skillstore::auth

#endif  // SKILLSTORE_COMMON_AUTH_TLS_FILES_H_
