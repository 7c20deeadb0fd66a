// skillctl's security: the client flags (--token-file, SKILLSTORE_TOKEN,
// --tls, --tls-ca, --tls-cert/--tls-key, --tls-server-name), `skillctl token
// new|hash`, and the exit code 7 for a refused token, against real
// skillstore-server processes started with --auth-token-file and TLS
// certificates made by openssl at test time (tests/testing/certs.h).
//
// The first tests check the shared loader (common/client_credentials.h) on
// its own: file errors are usage errors naming the flag and the file.
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "certs.h"
#include "cli/client.h"
#include "cli/exit_codes.h"
#include "common/auth/token.h"
#include "common/client_credentials.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "process.h"
#include "run_command.h"

namespace skillstore::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

void WriteFile(const std::string& path, const std::string& text, mode_t mode = 0600) {
  std::ofstream(path) << text;
  chmod(path.c_str(), mode);
}

// ---------------------------------------------------------------------------
// The loader, without a server.

TEST(ClientSecurityLoad, TokenFileIsStrippedOfSurroundingWhitespace) {
  TempDir dir;
  WriteFile(dir.File("t"), "  sks_abc-DEF_123\n\n");
  client::ClientSecurityFlags flags;
  flags.token_file = dir.File("t");
  auto security = client::LoadClientSecurity(flags, "sks_from_env");
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_EQ(security->token, "sks_abc-DEF_123");  // the file wins over the environment
  EXPECT_FALSE(security->tls);
  EXPECT_TRUE(security->warnings.empty());
  EXPECT_THAT(security->Describe(), HasSubstr("token from --token-file"));
  EXPECT_THAT(security->Describe(), Not(HasSubstr("sks_abc")));  // never the secret
}

TEST(ClientSecurityLoad, EnvironmentTokenWhenNoFile) {
  auto security = client::LoadClientSecurity({}, "sks_env\n");
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_EQ(security->token, "sks_env");
  auto none = client::LoadClientSecurity({}, nullptr);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->token, "");
}

TEST(ClientSecurityLoad, WorldReadableTokenFileWarns) {
  TempDir dir;
  WriteFile(dir.File("t"), "sks_abc\n", 0644);
  client::ClientSecurityFlags flags;
  flags.token_file = dir.File("t");
  auto security = client::LoadClientSecurity(flags, nullptr);
  ASSERT_TRUE(security.ok()) << security.status();
  ASSERT_EQ(security->warnings.size(), 1u);
  EXPECT_THAT(security->warnings[0], HasSubstr("readable by every user"));
  EXPECT_THAT(security->warnings[0], HasSubstr("chmod 600"));
}

TEST(ClientSecurityLoad, BadFilesAreUsageErrorsNamingFlagAndFile) {
  TempDir dir;
  WriteFile(dir.File("empty"), "\n \n");
  WriteFile(dir.File("two-lines"), "sks_a\nsks_b\n");
  WriteFile(dir.File("not-pem"), "hello\n");
  struct Case {
    client::ClientSecurityFlags flags;
    std::string expected;
  };
  std::vector<Case> cases(8);
  cases[0].flags.token_file = dir.File("missing");
  cases[0].expected = "--token-file " + dir.File("missing") + ": cannot read: No such file";
  cases[1].flags.token_file = dir.File("empty");
  cases[1].expected = "holds no token";
  cases[2].flags.token_file = dir.File("two-lines");
  cases[2].expected = "one word on one line";
  cases[3].flags.tls_ca = dir.File("missing");
  cases[3].expected = "--tls-ca";
  cases[4].flags.tls_ca = dir.File("not-pem");
  cases[4].expected = "no PEM certificate";
  cases[5].flags.tls_cert = dir.File("x");
  cases[5].expected = "--tls-cert needs --tls-key";
  cases[6].flags.tls_key = dir.File("x");
  cases[6].expected = "--tls-key needs --tls-cert";
  cases[7].flags.tls_server_name = "localhost";
  cases[7].expected = "--tls-server-name only applies";
  for (const Case& c : cases) {
    auto security = client::LoadClientSecurity(c.flags, nullptr);
    ASSERT_FALSE(security.ok()) << c.expected;
    EXPECT_EQ(security.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(security.status().message()), HasSubstr(c.expected));
    EXPECT_EQ(cli::ExitCodeFor(security.status()), cli::kExitUsage);
  }
  auto env = client::LoadClientSecurity({}, "two words");
  ASSERT_FALSE(env.ok());
  EXPECT_THAT(std::string(env.status().message()), HasSubstr("$SKILLSTORE_TOKEN"));
}

TEST(ClientSecurityLoad, TlsFilesAreCheckedUpFront) {
  TempDir dir;
  auto certs = MakeTestCertificates(dir.path());
  ASSERT_TRUE(certs.ok()) << certs.status();
  client::ClientSecurityFlags flags;
  flags.tls_ca = certs->ca_cert;
  flags.tls_cert = certs->client_cert;
  flags.tls_key = certs->client_key;
  auto security = client::LoadClientSecurity(flags, nullptr);
  ASSERT_TRUE(security.ok()) << security.status();
  EXPECT_TRUE(security->tls);  // --tls-ca implies --tls
  EXPECT_THAT(security->root_certs_pem, HasSubstr("BEGIN CERTIFICATE"));
  EXPECT_THAT(security->Describe(), HasSubstr("client certificate"));

  flags.tls_key = certs->server_key;  // a key of another certificate
  auto mismatch = client::LoadClientSecurity(flags, nullptr);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_THAT(std::string(mismatch.status().message()), HasSubstr("does not belong"));
}

TEST(ClientSecurityLoad, WarnsOfATokenSentInPlaintextOffLoopback) {
  client::ClientSecurity security;
  security.token = "sks_x";
  for (const char* local : {"127.0.0.1:50051", "localhost:50051", "[::1]:50051",
                            "dns:///localhost:1", "unix:/run/skillstore.sock"}) {
    EXPECT_EQ(client::PlaintextTokenWarning(local, security), "") << local;
  }
  for (const char* remote : {"10.0.0.5:50051", "coordinator.example.net:50051",
                             "[2001:db8::1]:50051", "server:50051"}) {
    EXPECT_THAT(client::PlaintextTokenWarning(remote, security), HasSubstr("unencrypted"))
        << remote;
  }
  security.tls = true;
  EXPECT_EQ(client::PlaintextTokenWarning("10.0.0.5:50051", security), "");
  security.tls = false;
  security.token.clear();
  EXPECT_EQ(client::PlaintextTokenWarning("10.0.0.5:50051", security), "");
}

TEST(ClientSecurityLoad, RefusalsMapToExitCodeSeven) {
  const grpc::Status unauthenticated(grpc::StatusCode::UNAUTHENTICATED, "unknown token");
  absl::Status status = cli::FromGrpcStatus(unauthenticated, "get progress", "h:1");
  EXPECT_EQ(cli::ExitCodeFor(status), 7);
  EXPECT_THAT(std::string(status.message()), HasSubstr("--token-file or SKILLSTORE_TOKEN"));
  const grpc::Status denied(grpc::StatusCode::PERMISSION_DENIED, "needs admin");
  status = cli::FromGrpcStatus(denied, "enqueue", "h:1");
  EXPECT_EQ(cli::ExitCodeFor(status), cli::kExitNotAuthorized);
  EXPECT_THAT(std::string(status.message()), HasSubstr("admin token"));
  // A failed handshake is still "unreachable" (3), but says it is TLS.
  const grpc::Status handshake(grpc::StatusCode::UNAVAILABLE,
                               "failed to connect to all addresses; last error: UNKNOWN: "
                               "Ssl handshake failed: CERTIFICATE_VERIFY_FAILED");
  status = cli::FromGrpcStatus(handshake, "x", "h:1", /*tls=*/true);
  EXPECT_EQ(cli::ExitCodeFor(status), cli::kExitUnreachable);
  EXPECT_THAT(std::string(status.message()), HasSubstr("TLS handshake failed"));
}

// ---------------------------------------------------------------------------
// The real binaries.

struct NewToken {
  std::string token;
  std::string line;  // for the server's token file
};

class SkillctlSecurityTest : public ::testing::Test {
 protected:
  // skillctl token new --role R --label L: two stdout lines.
  NewToken MakeToken(const std::string& role, const std::string& label) {
    CommandResult r =
        RunCommand({BinaryPath("skillctl"), "token", "new", "--role", role, "--label", label});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
    EXPECT_EQ(lines.size(), 2u) << r.out;
    if (lines.size() != 2) return {};
    return {lines[0], lines[1]};
  }

  // Tokens for each role from `skillctl token new`, their lines in the
  // server's token file, and each token in a 0600 file of its own.
  void MakeTokens() {
    std::ofstream file(dir_.File("tokens"));
    file << "# made by skillctl token new\n";
    for (const char* role : {"admin", "worker", "reader"}) {
      NewToken t = MakeToken(role, absl::StrCat("test ", role));
      file << t.line << "\n";
      WriteFile(TokenFile(role), t.token + "\n");
      tokens_[role] = t.token;
    }
  }
  std::string TokenFile(const std::string& role) const { return dir_.File(role + ".token"); }

  void StartServer(std::vector<std::string> extra_args) {
    auto server =
        ServerProcess::Start(dir_.File("skillstore.db"), dir_.File("server.log"), extra_args);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  std::vector<std::string> TlsServerArgs() const {
    return {"--tls-cert", certs_.server_cert, "--tls-key", certs_.server_key};
  }

  void MakeCertificates() {
    auto certs = MakeTestCertificates(dir_.path());
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = *certs;
  }

  // skillctl --server <server> args..., with extra environment entries.
  CommandResult Ctl(std::vector<std::string> args, std::vector<std::string> env = {},
                    std::string address = "") {
    std::vector<std::string> argv = {BinaryPath("skillctl"), "--server",
                                     address.empty() ? server_->address() : address,
                                     "--rpc-timeout", "20"};
    argv.insert(argv.end(), args.begin(), args.end());
    // No SKILLSTORE_TOKEN from the environment running the tests.
    env.insert(env.begin(), "SKILLSTORE_TOKEN=");
    return RunCommand(argv, env);
  }

  void WriteSkill() {
    fs::create_directories(dir_.File("skills/one"));
    std::ofstream(dir_.File("skills/one/SKILL.md"))
        << "---\nname: one\ndescription: A test skill.\n---\n\n# One\n\n1. Run `make`.\n";
  }

  TempDir dir_;
  TestCertificates certs_;
  std::map<std::string, std::string> tokens_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(SkillctlSecurityTest, TokenNewPrintsTokenAndItsLine) {
  NewToken t = MakeToken("worker", "build farm 3");
  EXPECT_TRUE(std::regex_match(t.token, std::regex("sks_[A-Za-z0-9_-]{43}"))) << t.token;
  EXPECT_EQ(t.line, absl::StrCat("worker ", auth::Sha256Hex(t.token), " build farm 3"));
  EXPECT_NE(MakeToken("worker", "x").token, t.token);  // fresh each time

  CommandResult json =
      RunCommand({BinaryPath("skillctl"), "-o", "json", "token", "new", "--role", "reader"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  Json j = Json::parse(json.out);
  EXPECT_EQ(j["role"], "reader");
  EXPECT_EQ(j["sha256"], auth::Sha256Hex(j["token"].get<std::string>()));
  EXPECT_EQ(j["token_file_line"], absl::StrCat("reader ", j["sha256"].get<std::string>()));

  // token hash: the same line for a token read from stdin.
  WriteFile(dir_.File("t"), t.token + "\n");
  CommandResult hash = RunCommand({"/bin/sh", "-c",
                                   absl::StrCat(BinaryPath("skillctl"),
                                                " token hash --role worker --label 'build farm 3' < ",
                                                dir_.File("t"))});
  ASSERT_EQ(hash.exit_code, 0) << hash.err;
  EXPECT_EQ(hash.out, t.line + "\n");

  CommandResult bad_role = RunCommand({BinaryPath("skillctl"), "token", "new", "--role", "root"});
  EXPECT_EQ(bad_role.exit_code, 2);
  EXPECT_THAT(bad_role.err, HasSubstr("--role"));

  // --worker-ids binds a worker token: `worker:<pattern>` starts the line.
  CommandResult bound = RunCommand({BinaryPath("skillctl"), "-o", "json", "token", "new", "--role",
                                    "worker", "--worker-ids", "build-*", "--label", "ci"});
  ASSERT_EQ(bound.exit_code, 0) << bound.err;
  Json b = Json::parse(bound.out);
  EXPECT_EQ(b["worker_ids"], "build-*");
  EXPECT_EQ(b["token_file_line"],
            absl::StrCat("worker:build-* ", b["sha256"].get<std::string>(), " ci"));
  CommandResult bound_admin = RunCommand(
      {BinaryPath("skillctl"), "token", "new", "--role", "admin", "--worker-ids", "build-*"});
  EXPECT_EQ(bound_admin.exit_code, 2);
  EXPECT_THAT(bound_admin.err, HasSubstr("use it with --role worker"));
  EXPECT_TRUE(bound_admin.out.empty()) << bound_admin.out;  // no token made
}

TEST_F(SkillctlSecurityTest, TokensOverPlaintextLoopback) {
  MakeTokens();
  StartServer({"--auth-token-file", dir_.File("tokens")});
  WriteSkill();

  CommandResult none = Ctl({"progress"});
  EXPECT_EQ(none.exit_code, 7) << none.err;
  EXPECT_THAT(none.err, HasSubstr("refused our token"));
  EXPECT_THAT(none.err, HasSubstr("SKILLSTORE_TOKEN"));

  CommandResult wrong = Ctl({"progress"}, {"SKILLSTORE_TOKEN=sks_not-a-known-token"});
  EXPECT_EQ(wrong.exit_code, 7) << wrong.err;

  CommandResult reader = Ctl({"--token-file", TokenFile("reader"), "progress"});
  EXPECT_EQ(reader.exit_code, 0) << reader.err;
  CommandResult reader_env = Ctl({"progress"}, {"SKILLSTORE_TOKEN=" + tokens_["reader"]});
  EXPECT_EQ(reader_env.exit_code, 0) << reader_env.err;

  // A reader may not enqueue; an admin may.
  CommandResult denied =
      Ctl({"--token-file", TokenFile("reader"), "enqueue", "--type", "parse", dir_.File("skills")});
  EXPECT_EQ(denied.exit_code, 7) << denied.err;
  EXPECT_THAT(denied.err, HasSubstr("admin token"));
  CommandResult admin =
      Ctl({"--token-file", TokenFile("admin"), "enqueue", "--type", "parse", dir_.File("skills")});
  EXPECT_EQ(admin.exit_code, 0) << admin.err;
  CommandResult tasks = Ctl({"-o", "json", "tasks"}, {"SKILLSTORE_TOKEN=" + tokens_["reader"]});
  ASSERT_EQ(tasks.exit_code, 0) << tasks.err;
  EXPECT_EQ(Json::parse(tasks.out)["tasks"].size(), 1u);

  // The token never shows in the server's log; the label does.
  const std::string log = server_->process().ReadLog();
  for (const auto& [role, token] : tokens_) EXPECT_THAT(log, Not(HasSubstr(token)));
  EXPECT_THAT(log, HasSubstr("test reader"));
}

TEST_F(SkillctlSecurityTest, UnreadableFilesAreUsageErrors) {
  MakeTokens();
  StartServer({"--auth-token-file", dir_.File("tokens")});
  CommandResult missing = Ctl({"--token-file", dir_.File("nope"), "progress"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr(dir_.File("nope")));
  CommandResult half = Ctl({"--tls-cert", TokenFile("admin"), "progress"});
  EXPECT_EQ(half.exit_code, 2);
  EXPECT_THAT(half.err, HasSubstr("--tls-key"));

  chmod(TokenFile("reader").c_str(), 0644);
  CommandResult readable = Ctl({"--token-file", TokenFile("reader"), "progress"});
  EXPECT_EQ(readable.exit_code, 0) << readable.err;
  EXPECT_THAT(readable.err, HasSubstr("warning: token file"));
}

TEST_F(SkillctlSecurityTest, TlsWithTestCa) {
  MakeCertificates();
  MakeTokens();
  std::vector<std::string> args = TlsServerArgs();
  args.insert(args.end(), {"--auth-token-file", dir_.File("tokens")});
  StartServer(args);
  const std::vector<std::string> reader = {"--token-file", TokenFile("reader")};

  auto with = [&](std::vector<std::string> flags, std::string address = "") {
    flags.insert(flags.end(), reader.begin(), reader.end());
    flags.push_back("progress");
    return Ctl(flags, {}, address);
  };
  CommandResult ok = with({"--tls-ca", certs_.ca_cert});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  // The certificate names localhost too.
  CommandResult by_name =
      with({"--tls-ca", certs_.ca_cert}, absl::StrCat("localhost:", server_->port()));
  EXPECT_EQ(by_name.exit_code, 0) << by_name.err;

  // A plaintext client cannot talk to a TLS server; the hint says --tls.
  CommandResult plain = with({});
  EXPECT_EQ(plain.exit_code, 3);
  EXPECT_THAT(plain.err, HasSubstr("--tls"));

  // The wrong CA, the system roots (which do not hold the test CA) and a
  // name the certificate does not carry all fail the handshake.
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--tls-ca", certs_.other_ca_cert},
        std::vector<std::string>{"--tls"},
        std::vector<std::string>{"--tls-ca", certs_.ca_cert, "--tls-server-name",
                                 "elsewhere.example"}}) {
    CommandResult r = with(flags);
    EXPECT_EQ(r.exit_code, 3) << flags[0];
    EXPECT_THAT(r.err, HasSubstr("TLS handshake failed")) << flags[0];
    EXPECT_THAT(r.err, Not(HasSubstr("ssl_transport_security")));  // gRPC's own log stays quiet
  }
  // The right name override succeeds.
  CommandResult override_name =
      with({"--tls-ca", certs_.ca_cert, "--tls-server-name", "localhost"});
  EXPECT_EQ(override_name.exit_code, 0) << override_name.err;

  // The token is still required over TLS.
  CommandResult no_token = Ctl({"--tls-ca", certs_.ca_cert, "progress"});
  EXPECT_EQ(no_token.exit_code, 7) << no_token.err;
}

TEST_F(SkillctlSecurityTest, MutualTls) {
  MakeCertificates();
  std::vector<std::string> args = TlsServerArgs();
  args.insert(args.end(), {"--tls-client-ca", certs_.ca_cert});
  StartServer(args);  // the client certificate is the credential: no token file

  CommandResult ok = Ctl({"--tls-ca", certs_.ca_cert, "--tls-cert", certs_.client_cert,
                          "--tls-key", certs_.client_key, "progress"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;

  CommandResult no_cert = Ctl({"--tls-ca", certs_.ca_cert, "progress"});
  EXPECT_EQ(no_cert.exit_code, 3) << no_cert.err;
  CommandResult stranger = Ctl({"--tls-ca", certs_.ca_cert, "--tls-cert",
                                certs_.other_client_cert, "--tls-key", certs_.other_client_key,
                                "progress"});
  EXPECT_EQ(stranger.exit_code, 3) << stranger.err;
}

TEST_F(SkillctlSecurityTest, MutualTlsWithTokensNeedsBoth) {
  MakeCertificates();
  MakeTokens();
  WriteSkill();
  std::vector<std::string> args = TlsServerArgs();
  args.insert(args.end(),
              {"--tls-client-ca", certs_.ca_cert, "--auth-token-file", dir_.File("tokens")});
  StartServer(args);
  const std::vector<std::string> tls = {"--tls-ca", certs_.ca_cert, "--tls-cert",
                                        certs_.client_cert, "--tls-key", certs_.client_key};
  auto ctl = [&](std::vector<std::string> extra) {
    std::vector<std::string> all = tls;
    all.insert(all.end(), extra.begin(), extra.end());
    return Ctl(all);
  };
  CommandResult cert_only = ctl({"progress"});
  EXPECT_EQ(cert_only.exit_code, 7) << cert_only.err;
  CommandResult reader = ctl({"--token-file", TokenFile("reader"), "progress"});
  EXPECT_EQ(reader.exit_code, 0) << reader.err;
  CommandResult reader_enqueue =
      ctl({"--token-file", TokenFile("reader"), "enqueue", "--type", "parse", dir_.File("skills")});
  EXPECT_EQ(reader_enqueue.exit_code, 7) << reader_enqueue.err;
  CommandResult admin_enqueue =
      ctl({"--token-file", TokenFile("admin"), "enqueue", "--type", "parse", dir_.File("skills")});
  EXPECT_EQ(admin_enqueue.exit_code, 0) << admin_enqueue.err;
  // The token without the certificate: the handshake fails first.
  CommandResult token_only =
      Ctl({"--tls-ca", certs_.ca_cert, "--token-file", TokenFile("admin"), "progress"});
  EXPECT_EQ(token_only.exit_code, 3) << token_only.err;
}

}  // namespace
}  // namespace skillstore::testing
