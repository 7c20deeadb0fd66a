#include "common/auth/tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/read_file.h"

namespace skillstore::auth {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

BioPtr MemoryBio(absl::string_view pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

X509Ptr FirstCertificate(absl::string_view pem) {
  BioPtr bio = MemoryBio(pem);
  if (bio == nullptr) return nullptr;
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

PkeyPtr PrivateKey(absl::string_view pem) {
  BioPtr bio = MemoryBio(pem);
  if (bio == nullptr) return nullptr;
  // An empty passphrase callback: an encrypted key fails instead of prompting.
  return PkeyPtr(PEM_read_bio_PrivateKey(
      bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr));
}

}  // namespace

absl::StatusOr<std::string> ReadCertificatePem(const std::string& path, absl::string_view what) {
  absl::StatusOr<std::string> pem = ReadWholeFile(path, what);
  if (!pem.ok()) return pem.status();
  if (FirstCertificate(*pem) == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, ": no PEM certificate in the file"));
  }
  return pem;
}

absl::StatusOr<std::string> ReadPrivateKeyPem(const std::string& path, absl::string_view what) {
  absl::StatusOr<std::string> pem = ReadWholeFile(path, what);
  if (!pem.ok()) return pem.status();
  if (PrivateKey(*pem) == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, ": no unencrypted PEM private key in the file"));
  }
  return pem;
}

absl::Status CheckKeyMatchesCertificate(absl::string_view cert_pem, absl::string_view key_pem,
                                        absl::string_view cert_path, absl::string_view key_path) {
  X509Ptr cert = FirstCertificate(cert_pem);
  PkeyPtr key = PrivateKey(key_pem);
  const bool match =
      cert != nullptr && key != nullptr && X509_check_private_key(cert.get(), key.get()) == 1;
  ERR_clear_error();
  if (!match) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the private key ", key_path, " does not belong to the certificate ", cert_path));
  }
  return absl::OkStatus();
}

std::string DescribeCertificate(absl::string_view cert_pem) {
  X509Ptr cert = FirstCertificate(cert_pem);
  if (cert == nullptr) {
    ERR_clear_error();
    return "no certificate";
  }
  // X509_NAME_print_ex and ASN1_TIME_print write to a BIO; the memory BIO
  // holds the text until it is copied out.
  BioPtr out(BIO_new(BIO_s_mem()));
  if (out == nullptr) return "(out of memory describing the certificate)";
  const ASN1_TIME* not_after = X509_get0_notAfter(cert.get());
  BIO_puts(out.get(), "subject ");
  X509_NAME_print_ex(out.get(), X509_get_subject_name(cert.get()), 0, XN_FLAG_ONELINE);
  BIO_puts(out.get(), ", issuer ");
  X509_NAME_print_ex(out.get(), X509_get_issuer_name(cert.get()), 0, XN_FLAG_ONELINE);
  // X509_cmp_current_time: -1 when the time is in the past, 0 on error.
  BIO_puts(out.get(), X509_cmp_current_time(not_after) < 0 ? ", EXPIRED " : ", expires ");
  ASN1_TIME_print(out.get(), not_after);
  ERR_clear_error();
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

absl::StatusOr<int64_t> CertificateNotAfter(absl::string_view cert_pem) {
  X509Ptr cert = FirstCertificate(cert_pem);
  if (cert == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("no PEM certificate");
  }
  std::tm not_after{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &not_after) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the certificate's notAfter time is unreadable");
  }
  return static_cast<int64_t>(timegm(&not_after));  // ASN1 times are UTC
}

}  // namespace skillstore::auth
