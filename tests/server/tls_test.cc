// Transport security of skillstore-server: TLS and mutual TLS with
// certificates the openssl CLI makes at test time (a CA, a server certificate
// for localhost / 127.0.0.1, a client certificate from that CA and one from a
// stranger CA), plaintext clients refused by a TLS server, clear startup
// errors for bad TLS files, and the loopback-only default: without
// authentication the real binary refuses a non-loopback --listen unless
// --insecure is given, and prints its "listening on" line at any log level.
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/auth/token.h"
#include "process.h"
#include "server.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace skillstore::server {
namespace {

namespace v1 = ::skillstore::v1;
using skillstore::testing::BinaryPath;
using skillstore::testing::ChildProcess;
using skillstore::testing::TempDir;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Makes ca.{key,crt}, server.{key,crt}, client.{key,crt} (signed by ca),
// other-ca.{key,crt} and stranger.{key,crt} (signed by other-ca) in `dir`.
// EC P-256 keys: quick to generate.
void MakeCertificates(const std::string& dir) {
  const std::string script = absl::StrCat(R"(set -e
cd ')",
                                          dir, R"('
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
ca() {
  key "$1"
  openssl req -x509 -new -key "$1.key" -out "$1.crt" -days 2 -subj "/CN=$1" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() {  # name ca cn extensions
  key "$1"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$3"
  printf '%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days 2 \
    -out "$1.crt" -extfile "$1.ext" 2>/dev/null
}
ca ca
ca other-ca
leaf server ca localhost "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
leaf client ca skill-worker-1 "extendedKeyUsage=clientAuth"
leaf stranger other-ca intruder "extendedKeyUsage=clientAuth"
)");
  const std::string path = dir + "/make-certs.sh";
  std::ofstream(path) << script;
  ASSERT_EQ(std::system(absl::StrCat("bash '", path, "' > '", dir, "/openssl.log' 2>&1").c_str()),
            0)
      << ReadFile(dir + "/openssl.log");
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeCertificates(dir_.path()); }

  std::string Pem(const std::string& name) { return ReadFile(dir_.File(name)); }

  ServerOptions Options(bool mutual) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.db_path = dir_.File(mutual ? "mtls.db" : "tls.db");
    options.tls_cert_file = dir_.File("server.crt");
    options.tls_key_file = dir_.File("server.key");
    if (mutual) options.tls_client_ca_file = dir_.File("ca.crt");
    return options;
  }

  // GetProgress over a channel with `credentials`; the status says whether
  // the connection (and the call) worked.
  static grpc::Status Probe(const std::string& address,
                            std::shared_ptr<grpc::ChannelCredentials> credentials) {
    auto channel = grpc::CreateChannel(address, credentials);
    auto stub = v1::SkillStore::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::Progress progress;
    return stub->GetProgress(&context, v1::GetProgressRequest(), &progress);
  }

  std::shared_ptr<grpc::ChannelCredentials> Tls(const std::string& client = "") {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = Pem("ca.crt");
    if (!client.empty()) {
      ssl.pem_private_key = Pem(client + ".key");
      ssl.pem_cert_chain = Pem(client + ".crt");
    }
    return grpc::SslCredentials(ssl);
  }

  TempDir dir_;
};

TEST_F(TlsTest, TlsClientsConnectPlaintextClientsAreRefused) {
  auto server = SkillStoreServer::Start(Options(/*mutual=*/false));
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = (*server)->address();  // 127.0.0.1:port, in the certificate

  grpc::Status tls = Probe(address, Tls());
  EXPECT_TRUE(tls.ok()) << tls.error_code() << ": " << tls.error_message();
  // Also by name (the certificate carries DNS:localhost).
  EXPECT_TRUE(Probe(absl::StrCat("localhost:", (*server)->port()), Tls()).ok());

  grpc::Status plain = Probe(address, grpc::InsecureChannelCredentials());
  EXPECT_FALSE(plain.ok());
  EXPECT_EQ(plain.error_code(), grpc::StatusCode::UNAVAILABLE) << plain.error_message();

  // A client that does not trust the server's CA refuses the server.
  grpc::SslCredentialsOptions wrong_root;
  wrong_root.pem_root_certs = Pem("other-ca.crt");
  EXPECT_EQ(Probe(address, grpc::SslCredentials(wrong_root)).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, MutualTlsNeedsAClientCertificateFromTheCa) {
  auto server = SkillStoreServer::Start(Options(/*mutual=*/true));
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = (*server)->address();

  grpc::Status with_cert = Probe(address, Tls("client"));
  EXPECT_TRUE(with_cert.ok()) << with_cert.error_code() << ": " << with_cert.error_message();
  EXPECT_EQ(Probe(address, Tls()).error_code(), grpc::StatusCode::UNAVAILABLE)
      << "a TLS client without a certificate got in";
  EXPECT_EQ(Probe(address, Tls("stranger")).error_code(), grpc::StatusCode::UNAVAILABLE)
      << "a certificate from another CA got in";
  EXPECT_EQ(Probe(address, grpc::InsecureChannelCredentials()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, TlsAndTokensTogether) {
  const std::string token = *auth::GenerateToken();
  std::ofstream(dir_.File("tokens")) << "reader " << auth::Sha256Hex(token) << " probe\n";
  ServerOptions options = Options(/*mutual=*/false);
  options.auth_token_file = dir_.File("tokens");
  auto server = SkillStoreServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(Probe((*server)->address(), Tls()).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  auto with_token = grpc::CompositeChannelCredentials(
      Tls(), grpc::AccessTokenCredentials(token));  // sends "authorization: Bearer <token>"
  grpc::Status status = Probe((*server)->address(), with_token);
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
}

TEST_F(TlsTest, BadTlsFilesStopTheStartWithTheirNames) {
  struct Case {
    std::string cert, key, client_ca, expected;
  };
  const std::vector<Case> cases = {
      {dir_.File("server.crt"), dir_.File("client.key"), "",
       absl::StrCat("the private key ", dir_.File("client.key"),
                    " does not belong to the certificate ", dir_.File("server.crt"))},
      {dir_.File("missing.crt"), dir_.File("server.key"), "",
       absl::StrCat("--tls-cert ", dir_.File("missing.crt"), ": cannot read")},
      {dir_.File("server.key"), dir_.File("server.key"), "",
       absl::StrCat("--tls-cert ", dir_.File("server.key"), ": no PEM certificate")},
      {dir_.File("server.crt"), dir_.File("server.crt"), "",
       absl::StrCat("--tls-key ", dir_.File("server.crt"), ": no unencrypted PEM private key")},
      {dir_.File("server.crt"), "", "", "--tls-cert and --tls-key go together"},
      {"", "", dir_.File("ca.crt"), "--tls-client-ca needs --tls-cert and --tls-key"},
      {dir_.File("server.crt"), dir_.File("server.key"), dir_.File("nope.crt"),
       absl::StrCat("--tls-client-ca ", dir_.File("nope.crt"), ": cannot read")},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.expected);
    ServerOptions options = Options(false);
    options.tls_cert_file = c.cert;
    options.tls_key_file = c.key;
    options.tls_client_ca_file = c.client_ca;
    auto server = SkillStoreServer::Start(options);
    ASSERT_FALSE(server.ok());
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(server.status().message().find(c.expected), std::string::npos) << server.status();
  }
  // The binary exits non-zero with that line.
  auto process = ChildProcess::Start(
      {BinaryPath("skillstore-server"), "--listen", "127.0.0.1:0", "--db", dir_.File("x.db"),
       "--tls-cert", dir_.File("server.crt"), "--tls-key", dir_.File("client.key")},
      dir_.File("bad-key.log"));
  ASSERT_TRUE(process.ok());
  absl::StatusOr<int> code = (*process)->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << (*process)->ReadLog();
  EXPECT_EQ(*code, 1);
  EXPECT_NE((*process)->ReadLog().find("does not belong to the certificate"), std::string::npos)
      << (*process)->ReadLog();
}

TEST(ListenTest, LoopbackAddresses) {
  for (const char* listen : {"127.0.0.1:50051", "127.1.2.3:0", "localhost:50051", "LOCALHOST:1",
                             "[::1]:50051", "unix:/tmp/s.sock"}) {
    EXPECT_TRUE(IsLoopbackListen(listen)) << listen;
  }
  for (const char* listen :
       {"0.0.0.0:50051", "[::]:50051", ":50051", "10.0.0.5:50051", "coordinator:50051",
        "[::ffff:10.0.0.1]:1", "128.0.0.1:1", "localhost.evil.example:1"}) {
    EXPECT_FALSE(IsLoopbackListen(listen)) << listen;
  }
}

TEST(ListenTest, AddressesThatAreNotHostAndPortAreRefused) {
  for (const char* listen : {"127.0.0.1:50051", "0.0.0.0:0", ":50051", "[::1]:65535",
                             "coordinator:1", "unix:/tmp/s.sock", "unix-abstract:skillstore"}) {
    EXPECT_TRUE(CheckListenAddress(listen).ok()) << listen;
  }
  for (const char* listen :
       {"foo", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:65536", "127.0.0.1:-1",
        "127.0.0.1:5005x", "::1:50051", "[::1]50051", "127.0.0.1:0000050051"}) {
    const absl::Status status = CheckListenAddress(listen);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << listen;
    EXPECT_NE(status.message().find("expected HOST:PORT with a port from 0 to 65535"),
              std::string::npos)
        << status;
  }
}

// Runs the binary with `args`; returns its log once it listens (or exits).
struct Outcome {
  bool listening = false;
  int exit_code = -1;
  std::string log;
};

Outcome RunServer(const TempDir& dir, const std::string& name, std::vector<std::string> args) {
  std::vector<std::string> argv = {BinaryPath("skillstore-server"), "--db", dir.File(name + ".db")};
  argv.insert(argv.end(), args.begin(), args.end());
  Outcome outcome;
  auto process = ChildProcess::Start(argv, dir.File(name + ".log"));
  EXPECT_TRUE(process.ok()) << process.status();
  if (!process.ok()) return outcome;
  outcome.listening =
      (*process)->WaitForLogLine("skillstore-server listening on", absl::Seconds(30)).ok();
  if (outcome.listening) {
    (*process)->Signal(SIGTERM);
  }
  absl::StatusOr<int> code = (*process)->Wait(absl::Seconds(30));
  if (code.ok()) outcome.exit_code = *code;
  outcome.log = (*process)->ReadLog();
  return outcome;
}

TEST(ListenTest, NonLoopbackNeedsAuthenticationOrInsecure) {
  TempDir dir;
  Outcome refused = RunServer(dir, "refused", {"--listen", "0.0.0.0:0"});
  EXPECT_FALSE(refused.listening);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.log.find("refusing to listen on 0.0.0.0:0 without authentication: pass "
                             "--auth-token-file FILE (or --tls-client-ca for mutual TLS), or "
                             "--insecure"),
            std::string::npos)
      << refused.log;
  // One line says it all.
  EXPECT_EQ(std::count(refused.log.begin(), refused.log.end(), '\n'), 1) << refused.log;
  EXPECT_FALSE(std::ifstream(dir.File("refused.db")).good()) << "a refused start made a database";

  Outcome insecure = RunServer(dir, "insecure", {"--listen", "0.0.0.0:0", "--insecure"});
  EXPECT_TRUE(insecure.listening) << insecure.log;
  EXPECT_EQ(insecure.exit_code, 0) << insecure.log;

  std::ofstream(dir.File("tokens")) << "admin " << auth::Sha256Hex("t") << "\n";
  Outcome with_tokens =
      RunServer(dir, "tokens", {"--listen", "0.0.0.0:0", "--auth-token-file", dir.File("tokens")});
  EXPECT_TRUE(with_tokens.listening) << with_tokens.log;
  EXPECT_EQ(with_tokens.exit_code, 0) << with_tokens.log;
}

// A second server on a port in use does not start: with gRPC's default
// SO_REUSEPORT it did, and clients reached either database at random. A bad
// address or flag is a usage error, exit 2, before anything is created.
TEST(ListenTest, APortInUseOrABadAddressStopsTheServer) {
  TempDir dir;
  auto first = ChildProcess::Start(
      {BinaryPath("skillstore-server"), "--db", dir.File("first.db"), "--listen", "127.0.0.1:0"},
      dir.File("first.log"));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE((*first)->WaitForLogLine("skillstore-server listening on", absl::Seconds(30)).ok())
      << (*first)->ReadLog();
  const std::string log = (*first)->ReadLog();
  const size_t at = log.find("listening on 127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << log;
  const std::string address = log.substr(at + 13, log.find_first_of(" \n", at + 13) - at - 13);

  Outcome second = RunServer(dir, "second", {"--listen", address});
  EXPECT_FALSE(second.listening) << second.log;
  EXPECT_EQ(second.exit_code, 1) << second.log;
  EXPECT_NE(second.log.find("cannot listen on " + address), std::string::npos) << second.log;
  (*first)->Signal(SIGTERM);
  EXPECT_TRUE((*first)->Wait(absl::Seconds(30)).ok());

  Outcome bad_port = RunServer(dir, "bad-port", {"--listen", "127.0.0.1:99999"});
  EXPECT_FALSE(bad_port.listening) << bad_port.log;
  EXPECT_EQ(bad_port.exit_code, 2) << bad_port.log;
  EXPECT_NE(bad_port.log.find("expected HOST:PORT"), std::string::npos) << bad_port.log;
  EXPECT_FALSE(std::ifstream(dir.File("bad-port.db")).good());

  Outcome bad_flag = RunServer(dir, "bad-flag", {"--lease-seconds", "0"});
  EXPECT_FALSE(bad_flag.listening) << bad_flag.log;
  EXPECT_EQ(bad_flag.exit_code, 2) << bad_flag.log;
}

TEST(ListenTest, ListeningLineAtEveryLogLevel) {
  TempDir dir;
  for (const char* level : {"info", "warn", "error", "off"}) {
    Outcome outcome = RunServer(dir, level, {"--listen", "127.0.0.1:0", "--log-level", level});
    EXPECT_TRUE(outcome.listening) << level << ":\n" << outcome.log;
    EXPECT_NE(outcome.log.find("skillstore-server listening on 127.0.0.1:"), std::string::npos)
        << level;
  }
}

}  // namespace
}  // namespace skillstore::server
