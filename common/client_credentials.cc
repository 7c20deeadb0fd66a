#include "common/client_credentials.h"

#include <sys/stat.h>

#include <utility>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/support/client_interceptor.h>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/auth/tls_files.h"
#include "common/auth/token.h"

namespace skillstore::client {
namespace {

using grpc::experimental::ClientInterceptorFactoryInterface;
using grpc::experimental::ClientRpcInfo;
using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::Interceptor;
using grpc::experimental::InterceptorBatchMethods;

// Adds the authorization header to each call's initial metadata.
class BearerInterceptor final : public Interceptor {
 public:
  explicit BearerInterceptor(std::shared_ptr<const std::string> header)
      : header_(std::move(header)) {}

  void Intercept(InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->emplace("authorization", *header_);
    }
    methods->Proceed();
  }

 private:
  // Held by the call: a token replaced during the call stays valid.
  std::shared_ptr<const std::string> header_;
};

class BearerInterceptorFactory final : public ClientInterceptorFactoryInterface {
 public:
  explicit BearerInterceptorFactory(std::shared_ptr<TokenHolder> token)
      : token_(std::move(token)) {}

  Interceptor* CreateClientInterceptor(ClientRpcInfo* /*info*/) override {
    return new BearerInterceptor(token_->header());  // gRPC owns and deletes it
  }

 private:
  std::shared_ptr<TokenHolder> token_;
};

}  // namespace

void TokenHolder::Set(const std::string& token) {
  auto header = std::make_shared<const std::string>(absl::StrCat("Bearer ", token));
  absl::MutexLock lock(&mu_);
  header_ = std::move(header);
}

std::shared_ptr<const std::string> TokenHolder::header() const {
  absl::MutexLock lock(&mu_);
  return header_;
}

void AddClientSecurityFlags(CLI::App& app, ClientSecurityFlags* flags) {
  app.add_option("--token-file", flags->token_file,
                 "file holding the bearer token sent to the server (default: env "
                 "SKILLSTORE_TOKEN; keep it mode 0600)");
  app.add_flag("--tls", flags->tls, "connect with TLS, trusting the system's root CAs");
  app.add_option("--tls-ca", flags->tls_ca,
                 "PEM file of the CA that signed the server's certificate (implies --tls)");
  app.add_option("--tls-cert", flags->tls_cert,
                 "PEM client certificate for mutual TLS (with --tls-key; implies --tls)");
  app.add_option("--tls-key", flags->tls_key, "PEM private key of --tls-cert");
  app.add_option("--tls-server-name", flags->tls_server_name,
                 "name to check in the server's certificate instead of the --server host");
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path,
                                          std::vector<std::string>* warnings) {
  absl::StatusOr<std::string> token = auth::ReadTokenFile(path, "--token-file");
  if (!token.ok()) return token.status();
  struct stat st {};
  if (warnings != nullptr && ::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0) {
    warnings->push_back(absl::StrFormat(
        "token file %s is readable by every user (mode %04o); restrict it: chmod 600 %s", path,
        st.st_mode & 07777, path));
  }
  return token;
}

absl::StatusOr<auth::TlsPem> LoadClientTlsPem(const ClientTlsFiles& files) {
  auth::TlsPem pem;
  if (!files.ca.empty()) {
    absl::StatusOr<std::string> ca = auth::ReadCertificatePem(files.ca, "--tls-ca");
    if (!ca.ok()) return ca.status();
    pem.ca = std::move(*ca);
  }
  if (!files.cert.empty()) {
    absl::StatusOr<std::string> cert = auth::ReadCertificatePem(files.cert, "--tls-cert");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = auth::ReadPrivateKeyPem(files.key, "--tls-key");
    if (!key.ok()) return key.status();
    if (absl::Status match = auth::CheckKeyMatchesCertificate(
            *cert, *key, absl::StrCat(files.cert, " (--tls-cert)"),
            absl::StrCat(files.key, " (--tls-key)"));
        !match.ok()) {
      return match;
    }
    pem.cert = std::move(*cert);
    pem.key = std::move(*key);
  }
  return pem;
}

absl::StatusOr<ClientSecurity> LoadClientSecurity(const ClientSecurityFlags& flags,
                                                  const char* env_token) {
  ClientSecurity security;
  if (!flags.token_file.empty()) {
    absl::StatusOr<std::string> token = ReadTokenFile(flags.token_file, &security.warnings);
    if (!token.ok()) return token.status();
    security.token = std::move(*token);
    security.token_source = absl::StrCat("--token-file ", flags.token_file);
    security.token_file = flags.token_file;
  } else if (env_token != nullptr && *env_token != '\0') {
    std::string token(absl::StripAsciiWhitespace(env_token));
    if (absl::Status status = auth::CheckToken(token, absl::StrCat("$", kTokenEnvVar));
        !status.ok()) {
      return status;
    }
    security.token = std::move(token);
    security.token_source = absl::StrCat("$", kTokenEnvVar);
  }

  if (flags.tls_cert.empty() != flags.tls_key.empty()) {
    return absl::InvalidArgumentError(
        flags.tls_cert.empty() ? "--tls-key needs --tls-cert (the client certificate it belongs to)"
                               : "--tls-cert needs --tls-key (the certificate's private key)");
  }
  security.tls = flags.tls || !flags.tls_ca.empty() || !flags.tls_cert.empty();
  if (!flags.tls_server_name.empty() && !security.tls) {
    return absl::InvalidArgumentError(
        "--tls-server-name only applies to TLS connections: add --tls or --tls-ca");
  }
  security.tls_files = ClientTlsFiles{flags.tls_ca, flags.tls_cert, flags.tls_key};
  absl::StatusOr<auth::TlsPem> pem = LoadClientTlsPem(security.tls_files);
  if (!pem.ok()) return pem.status();
  security.root_certs_pem = std::move(pem->ca);
  security.cert_chain_pem = std::move(pem->cert);
  security.private_key_pem = std::move(pem->key);
  security.server_name = flags.tls_server_name;
  return security;
}

std::string ClientSecurity::Describe() const {
  std::string out;
  if (tls) {
    out = absl::StrCat("TLS (", root_certs_pem.empty() ? "system root CAs" : "CA from --tls-ca",
                       cert_chain_pem.empty() ? "" : ", client certificate",
                       server_name.empty() ? "" : absl::StrCat(", server name ", server_name),
                       ")");
  } else {
    out = "plaintext";
  }
  absl::StrAppend(&out, token.empty() ? ", no token" : absl::StrCat(", token from ", token_source));
  return out;
}

std::shared_ptr<grpc::ChannelCredentials> TlsChannelCredentials(const ClientSecurity& security) {
  using grpc::experimental::CertificateProviderInterface;
  const bool own_ca = !security.root_certs_pem.empty();
  const bool identity = !security.cert_chain_pem.empty();
  grpc::experimental::TlsChannelCredentialsOptions options;
  std::shared_ptr<CertificateProviderInterface> provider = security.certificate_provider;
  if (provider == nullptr && (own_ca || identity)) {
    std::vector<grpc::experimental::IdentityKeyCertPair> pairs;
    if (identity) pairs.push_back({security.private_key_pem, security.cert_chain_pem});
    provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
        security.root_certs_pem, pairs);
  }
  // Without a provider, or without watching root certificates, gRPC trusts
  // the system's root CAs (as SslCredentials does).
  if (provider != nullptr) options.set_certificate_provider(provider);
  if (own_ca) options.watch_root_certs();
  if (identity) options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  // TLS credentials check the certificate's chain during the handshake, and
  // the host name only through a certificate verifier. gRPC 1.51 installs a
  // HostNameCertificateVerifier when none is set (logging "No verifier
  // specified on the client side"), but what the default is has changed
  // between gRPC versions, and SslCredentials, which this replaced, always
  // checked the name: set it here, so a certificate for another name is
  // refused whatever the library's default. worker_tls_reload_test
  // (WrongServerNameIsRefused) and skillctl_security_test hold it to that.
  options.set_certificate_verifier(
      std::make_shared<grpc::experimental::HostNameCertificateVerifier>());
  return grpc::experimental::TlsCredentials(options);
}

std::shared_ptr<grpc::Channel> CreateClientChannel(const std::string& address,
                                                   const ClientSecurity& security,
                                                   grpc::ChannelArguments args) {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (security.tls) {
    credentials = TlsChannelCredentials(security);
    if (!security.server_name.empty()) args.SetSslTargetNameOverride(security.server_name);
  } else {
    credentials = grpc::InsecureChannelCredentials();
  }
  if (security.token.empty()) return grpc::CreateCustomChannel(address, credentials, args);
  std::vector<std::unique_ptr<ClientInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<BearerInterceptorFactory>(
      security.token_holder != nullptr ? security.token_holder
                                       : std::make_shared<TokenHolder>(security.token)));
  return grpc::experimental::CreateCustomChannelWithInterceptors(address, credentials, args,
                                                                 std::move(interceptors));
}

std::string PlaintextTokenWarning(absl::string_view address, const ClientSecurity& security) {
  if (security.tls || security.token.empty()) return "";
  absl::string_view target = address;
  if (absl::StartsWith(target, "unix:") || absl::StartsWith(target, "unix-abstract:")) return "";
  for (absl::string_view scheme : {"dns:///", "dns:", "ipv4:", "ipv6:"}) {
    if (absl::ConsumePrefix(&target, scheme)) break;
  }
  // host:port, [v6]:port, or a bare host.
  absl::string_view host = target;
  if (absl::ConsumePrefix(&host, "[")) {
    host = host.substr(0, host.find(']'));
  } else if (const size_t colon = host.rfind(':');
             colon != absl::string_view::npos && host.find(':') == colon) {
    host = host.substr(0, colon);
  }
  const std::string lower = absl::AsciiStrToLower(host);
  if (lower == "localhost" || absl::StartsWith(lower, "127.") || lower == "::1" ||
      absl::EndsWith(lower, ".localhost")) {
    return "";
  }
  return absl::StrCat("the token goes to ", lower,
                      " unencrypted: anyone on the network path can read and reuse it; "
                      "connect with --tls-ca (or --tls) to a server with --tls-cert");
}

std::string TlsFailureHint(absl::string_view grpc_message, bool tls) {
  const std::string lower = absl::AsciiStrToLower(grpc_message);
  const bool tls_error = absl::StrContains(lower, "ssl") || absl::StrContains(lower, "handshake") ||
                         absl::StrContains(lower, "certificate") ||
                         absl::StrContains(lower, "tls") ||
                         // TLS credentials' certificate verifier (the host name check)
                         absl::StrContains(lower, "verification check failed");
  if (tls && tls_error) {
    return "the TLS handshake failed: check that the server uses TLS, that --tls-ca holds the CA "
           "that signed its certificate, that the certificate names the --server host (or set "
           "--tls-server-name), and that a server requiring client certificates gets "
           "--tls-cert/--tls-key";
  }
  if (!tls && tls_error) {
    return "the connection failed during a TLS exchange: if the server uses TLS, connect with "
           "--tls or --tls-ca";
  }
  if (absl::StrContains(lower, "socket closed")) {
    return tls ? "the server closed the connection: if it requires client certificates, add "
                 "--tls-cert and --tls-key"
               : "the server closed the connection: if it uses TLS, connect with --tls or "
                 "--tls-ca";
  }
  return "";
}

}  // namespace skillstore::client
