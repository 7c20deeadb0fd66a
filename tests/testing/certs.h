// Certificates for TLS tests, made at test time with the openssl command
// line (Debian's openssl package): a throwaway CA, a server certificate for
// 127.0.0.1 and localhost (subjectAltName), a client certificate for mutual
// TLS, and a second, unrelated CA whose certificates nobody should trust
// (or that a rotation moves to).
// Keys are P-256 (fast to generate); everything is valid for two days.
//
// Nothing is checked in: a certificate in the repository would expire, and
// its private key would be public.
#ifndef SKILLSTORE_TESTS_TESTING_CERTS_H_
#define SKILLSTORE_TESTS_TESTING_CERTS_H_

#include <string>

#include "absl/status/statusor.h"

namespace skillstore::testing {

// PEM file paths, all inside the directory given to MakeTestCertificates.
struct TestCertificates {
  std::string ca_cert;  // the CA that signed server_cert and client_cert
  std::string ca_key;
  std::string server_cert;  // CN=localhost, SAN DNS:localhost, IP:127.0.0.1
  std::string server_key;
  std::string client_cert;  // CN=test-client, extendedKeyUsage clientAuth
  std::string client_key;
  std::string other_ca_cert;  // an unrelated CA (for "wrong CA" tests)
  std::string other_client_cert;  // signed by other_ca_cert
  std::string other_client_key;
  // Like server_cert (same names) but signed by other_ca_cert: the renewal
  // from another CA that certificate rotation tests switch to.
  std::string other_server_cert;
  std::string other_server_key;
};

// Writes the files into `dir` (which must exist). Fails with the openssl
// command and its output when a step fails.
absl::StatusOr<TestCertificates> MakeTestCertificates(const std::string& dir);

}  // namespace skillstore::testing

#endif  // SKILLSTORE_TESTS_TESTING_CERTS_H_
