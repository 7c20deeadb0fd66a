// How skillstore's clients (skill-worker, skillctl, skillstore-loadgen) authenticate to
// skillstore-server: one implementation of the client security flags, the
// loading of token and certificate files, and the channel that carries them.
//
//   --token-file PATH      the bearer token (else $SKILLSTORE_TOKEN)
//   --tls                  TLS, trusting the system's root CAs
//   --tls-ca FILE          TLS, trusting this CA (implies --tls)
//   --tls-cert/--tls-key   client certificate for mutual TLS (implies --tls)
//   --tls-server-name N    name checked in the server certificate
//
// TLS goes through gRPC's TLS credentials (grpc::experimental::TlsCredentials)
// with an explicit hostname verifier: the server's certificate must chain to
// the trusted CAs and name the host dialled (or --tls-server-name). The
// certificates come from a certificate provider: fixed PEM text for skillctl,
// or skill-worker's ClientTlsReloader (client_tls_reloader.h), which
// publishes renewed files while the worker runs.
//
// The token travels as `authorization: Bearer <token>` metadata on every call
// (what grpcurl -H sends, and what the server's authorizer reads). It is added
// by a client interceptor rather than by grpc::CallCredentials because gRPC
// refuses to send CallCredentials over a plaintext channel, and plaintext with
// a token is the normal loopback deployment: one mechanism for both.
//
// These clients and bench/'s skillstore-loadgen (which may measure a
// secured deployment) use this module; tests and the rest of bench/ keep
// their own insecure channels.
#ifndef SKILLSTORE_COMMON_CLIENT_CREDENTIALS_H_
#define SKILLSTORE_COMMON_CLIENT_CREDENTIALS_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/support/channel_arguments.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/auth/tls_files.h"

namespace CLI {
class App;
}  // namespace CLI

namespace skillstore::client {

// The environment variable read when --token-file is not given.
inline constexpr char kTokenEnvVar[] = "SKILLSTORE_TOKEN";

// The flags as given on the command line (paths, not contents).
struct ClientSecurityFlags {
  std::string token_file;
  bool tls = false;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_server_name;
};

// Registers the flags above on `app` (skill-worker's app, skillctl's global
// options). `flags` must outlive parsing.
void AddClientSecurityFlags(CLI::App& app, ClientSecurityFlags* flags);

// The bearer token a channel sends, replaceable while the channel is in use
// (skill-worker re-reads --token-file on SIGHUP). Calls started after Set
// send the new token. Thread-safe.
class TokenHolder {
 public:
  explicit TokenHolder(const std::string& token) { Set(token); }

  void Set(const std::string& token);
  // "Bearer <token>", shared with the calls that send it.
  std::shared_ptr<const std::string> header() const;

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const std::string> header_ ABSL_GUARDED_BY(mu_);
};

// The TLS files the flags name; empty: not given.
struct ClientTlsFiles {
  std::string ca;    // --tls-ca
  std::string cert;  // --tls-cert
  std::string key;   // --tls-key
};

// Reads the files and checks them: each one given readable and PEM, the key
// belonging to the certificate. INVALID_ARGUMENT naming the flag and the file
// otherwise. The result's ca is empty without --tls-ca (the system's root
// CAs), its cert and key without --tls-cert. Checked here, not at the first
// handshake, so a wrong file is an error naming it instead of an endless
// "handshake failed" retry loop; skill-worker runs the same checks on every
// reload.
absl::StatusOr<auth::TlsPem> LoadClientTlsPem(const ClientTlsFiles& files);

// What the flags resolved to: file contents, ready to build a channel.
struct ClientSecurity {
  std::string token;  // empty: send no authorization header
  std::string token_source;  // "--token-file /x/y", "$SKILLSTORE_TOKEN" or ""
  std::string token_file;    // --token-file; empty: none given
  // When set, the channel sends the token this holds instead of `token`,
  // and follows its changes (skill-worker's SIGHUP).
  std::shared_ptr<TokenHolder> token_holder;
  bool tls = false;
  std::string root_certs_pem;  // empty with tls: the system roots
  std::string cert_chain_pem;  // client certificate (mTLS); empty: none
  std::string private_key_pem;
  std::string server_name;  // empty: the host part of the address
  ClientTlsFiles tls_files;  // where the PEM text above came from
  // When set, the channel takes its certificates from here instead of the
  // PEM text above and follows what it publishes (skill-worker's
  // ClientTlsReloader). It provides a CA when root_certs_pem is set and an
  // identity when cert_chain_pem is; the PEM text then tells what to watch.
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> certificate_provider;
  // Things a person should fix but that do not stop the client (a token file
  // other users can read). The caller prints them.
  std::vector<std::string> warnings;

  // One line for a startup log: "TLS (CA ca.pem, client certificate), token
  // from --token-file /etc/skillstore/worker.token". Never the token itself.
  std::string Describe() const;
};

// Reads the files the flags name and checks the combination. `env_token` is
// the value of $SKILLSTORE_TOKEN (nullptr: unset); it is used only when no
// --token-file is given. INVALID_ARGUMENT (a usage error: exit 2) names the
// flag and the file when a file is missing, unreadable or empty, when a token
// holds characters that cannot travel in a header, or when --tls-cert comes
// without --tls-key (or the other way round).
absl::StatusOr<ClientSecurity> LoadClientSecurity(const ClientSecurityFlags& flags,
                                                  const char* env_token);

// The token in `path` with surrounding whitespace (the trailing newline an
// editor or `echo` adds) removed. Appends a warning to *warnings when other
// users may read the file. Exposed for tests.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path,
                                          std::vector<std::string>* warnings);

// The TLS channel credentials for `security`: its CA (or the system's root
// CAs), its client certificate if any, chain and hostname checks of the
// server's certificate. The name checked is the host of the channel's
// target, or --tls-server-name (set as GRPC_SSL_TARGET_NAME_OVERRIDE_ARG on
// the channel, which CreateClientChannel does).
std::shared_ptr<grpc::ChannelCredentials> TlsChannelCredentials(const ClientSecurity& security);

// A channel to `address` with TLS or plaintext as `security` says, sending
// its token (if any) on every call. `args` carries the caller's own channel
// settings (message sizes, reconnect backoff).
std::shared_ptr<grpc::Channel> CreateClientChannel(const std::string& address,
                                                   const ClientSecurity& security,
                                                   grpc::ChannelArguments args);

// A warning when `security` sends a token without TLS to `address` and the
// host is not loopback (localhost, 127.0.0.0/8, ::1, unix:): anyone on the
// path could read and reuse the token. Empty otherwise.
std::string PlaintextTokenWarning(absl::string_view address, const ClientSecurity& security);

// A hint for an UNAVAILABLE error whose message shows a TLS problem (failed
// handshake, bad certificate, plaintext against TLS); empty when the message
// does not look like one. gRPC reports these as plain UNAVAILABLE, which
// otherwise reads like "the server is down". A plaintext client of a TLS
// server, and a TLS client without a certificate of a mutual-TLS server,
// see nothing but "Socket closed": that gets a hint too, worded as a
// possibility (a server going down closes sockets as well).
std::string TlsFailureHint(absl::string_view grpc_message, bool tls);

}  // namespace skillstore::client

#endif  // SKILLSTORE_COMMON_CLIENT_CREDENTIALS_H_
