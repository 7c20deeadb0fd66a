// skill-worker against a skillstore-server that demands credentials: real
// processes, a token file with hashed tokens, TLS certificates made by
// openssl at test time (tests/testing/certs.h).
//
// A worker with a valid worker token drains its tasks over plaintext
// loopback, TLS and mutual TLS; a refused token (unknown, or a reader's) is a
// permanent error: exit 1 with one line naming the token, not a retry loop;
// unreadable credential files are usage errors (exit 2).
#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "certs.h"
#include "files.h"
#include "common/auth/token.h"
#include "gtest/gtest.h"
#include "process.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace skillstore::worker {
namespace {

namespace v1 = skillstore::v1;
using skillstore::testing::BinaryPath;
using skillstore::testing::ChildProcess;
using skillstore::testing::CountOccurrences;
using skillstore::testing::ReadFile;
using skillstore::testing::ServerProcess;
using skillstore::testing::TempDir;
using skillstore::testing::TestCertificates;

constexpr char kSkill[] = R"(---
name: security-test
description: A small skill used by the worker security tests.
---
# Security test

## Instructions
- Read the input file named by the user.
- Never delete files outside the working directory.
)";

class WorkerSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("SKILLSTORE_TOKEN");  // only what a test gives the worker counts
    // One token per role, hashed into the server's token file.
    std::ofstream file(dir_.File("tokens"));
    for (const char* role : {"admin", "worker", "reader"}) {
      auto token = auth::GenerateToken();
      ASSERT_TRUE(token.ok()) << token.status();
      tokens_[role] = *token;
      file << role << " " << auth::Sha256Hex(*token) << " test " << role << "\n";
      const std::string path = TokenFile(role);
      std::ofstream(path) << *token << "\n";
      chmod(path.c_str(), 0600);
    }
    // A worker token bound to the worker ids pool-a-*.
    auto bound = auth::GenerateToken();
    ASSERT_TRUE(bound.ok()) << bound.status();
    tokens_["bound"] = *bound;
    file << "worker:pool-a-* " << auth::Sha256Hex(*bound) << " pool a\n";
    std::ofstream(TokenFile("bound")) << *bound << "\n";
    chmod(TokenFile("bound").c_str(), 0600);
  }

  std::string TokenFile(const std::string& role) const { return dir_.File(role + ".token"); }

  void MakeCertificates() {
    auto certs = testing::MakeTestCertificates(dir_.path());
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = *certs;
  }

  // Starts the server with the token file plus `extra_args`; the test's own
  // channel uses TLS with the test CA when `tls`.
  void StartServer(std::vector<std::string> extra_args, bool tls) {
    extra_args.insert(extra_args.end(), {"--auth-token-file", dir_.File("tokens")});
    auto server =
        ServerProcess::Start(dir_.File("skillstore.db"), dir_.File("server.log"), extra_args);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
    if (tls) {
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = ReadFile(certs_.ca_cert);
      // A server demanding client certificates gets one.
      ssl.pem_cert_chain = ReadFile(certs_.client_cert);
      ssl.pem_private_key = ReadFile(certs_.client_key);
      credentials = grpc::SslCredentials(ssl);
    }
    stub_ = v1::SkillStore::NewStub(grpc::CreateChannel(server_->address(), credentials));
  }

  // A context carrying the admin token, as grpcurl -H would send it.
  std::unique_ptr<grpc::ClientContext> AdminContext() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + tokens_["admin"]);
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return context;
  }

  void Enqueue(int n) {
    v1::EnqueueRequest request;
    for (int i = 0; i < n; ++i) {
      v1::TaskSpec* task = request.add_tasks();
      task->set_type(v1::TASK_TYPE_PARSE);
      task->set_skill_path(absl::StrCat("security-test/", i, "/SKILL.md"));
      task->set_content(kSkill);
    }
    v1::EnqueueResponse response;
    grpc::Status status = stub_->Enqueue(AdminContext().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.task_ids_size(), n);
  }

  v1::Progress Progress() {
    v1::Progress progress;
    grpc::Status status =
        stub_->GetProgress(AdminContext().get(), v1::GetProgressRequest(), &progress);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return progress;
  }

  // Runs skill-worker to its exit with `args` (plus --server and an id) and
  // returns its exit code; its log is dir/<id>.log.
  int RunWorker(const std::string& id, std::vector<std::string> args,
                std::string address = "") {
    std::vector<std::string> argv = {BinaryPath("skill-worker"), "--server",
                                     address.empty() ? server_->address() : address,
                                     "--worker-id", id, "--concurrency", "2"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto worker = ChildProcess::Start(argv, dir_.File(id + ".log"));
    EXPECT_TRUE(worker.ok()) << worker.status();
    if (!worker.ok()) return -1;
    absl::StatusOr<int> code = (*worker)->Wait(absl::Seconds(60));
    EXPECT_TRUE(code.ok()) << "worker " << id << " still running:\n" << (*worker)->ReadLog();
    return code.ok() ? *code : -1;
  }

  std::string WorkerLog(const std::string& id) const { return ReadFile(dir_.File(id + ".log")); }

  TempDir dir_;
  TestCertificates certs_;
  std::map<std::string, std::string> tokens_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::SkillStore::Stub> stub_;
};

TEST_F(WorkerSecurityTest, WorkerTokenDrainsOverPlaintextLoopback) {
  StartServer({}, /*tls=*/false);
  Enqueue(20);
  EXPECT_EQ(RunWorker("w", {"--token-file", TokenFile("worker"), "--exit-when-idle", "2"}), 0)
      << WorkerLog("w");
  EXPECT_EQ(Progress().completed(), 20);
  EXPECT_NE(WorkerLog("w").find("token from --token-file"), std::string::npos);
  // The secret itself is in neither log.
  EXPECT_EQ(WorkerLog("w").find(tokens_["worker"]), std::string::npos);
  EXPECT_EQ(server_->process().ReadLog().find(tokens_["worker"]), std::string::npos);
}

// A token bound to worker ids (worker:pool-a-*) serves a worker whose
// --worker-id matches and stops, with one clear line, one whose id does not.
TEST_F(WorkerSecurityTest, ATokenBoundToWorkerIdsServesOnlyThoseIds) {
  StartServer({}, /*tls=*/false);
  Enqueue(10);
  EXPECT_EQ(RunWorker("pool-b-1", {"--token-file", TokenFile("bound"), "--exit-when-idle", "30"}),
            1)
      << WorkerLog("pool-b-1");
  EXPECT_NE(WorkerLog("pool-b-1").find("PERMISSION_DENIED: the server refused our token"),
            std::string::npos)
      << WorkerLog("pool-b-1");
  EXPECT_NE(WorkerLog("pool-b-1").find("worker ids matching 'pool-a-*'"), std::string::npos);
  EXPECT_EQ(Progress().queued(), 10);

  EXPECT_EQ(RunWorker("pool-a-1", {"--token-file", TokenFile("bound"), "--exit-when-idle", "2"}),
            0)
      << WorkerLog("pool-a-1");
  EXPECT_EQ(Progress().completed(), 10);
}

TEST_F(WorkerSecurityTest, RefusedTokenExitsOneWithOneClearLine) {
  StartServer({}, /*tls=*/false);
  Enqueue(3);
  // Unknown token (from the environment): UNAUTHENTICATED.
  std::vector<std::string> env_args = {"--exit-when-idle", "30"};
  setenv("SKILLSTORE_TOKEN", "sks_this-token-is-not-in-the-file", 1);
  const absl::Time start = absl::Now();
  const int unknown = RunWorker("unknown", env_args);
  unsetenv("SKILLSTORE_TOKEN");
  EXPECT_EQ(unknown, 1) << WorkerLog("unknown");
  // Permanent: no waiting out --exit-when-idle, no retry loop.
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
  EXPECT_NE(WorkerLog("unknown").find("exiting with an error: UNAUTHENTICATED: the server "
                                      "refused our token"),
            std::string::npos)
      << WorkerLog("unknown");
  // One line says it, not one per RPC that was refused.
  EXPECT_EQ(CountOccurrences(WorkerLog("unknown"), "refused our token"), 1) << WorkerLog("unknown");

  // No token at all.
  EXPECT_EQ(RunWorker("none", {"--exit-when-idle", "30"}), 1) << WorkerLog("none");
  EXPECT_NE(WorkerLog("none").find("refused our token"), std::string::npos);

  // A reader's token: PERMISSION_DENIED, naming the role a worker needs.
  EXPECT_EQ(RunWorker("reader", {"--token-file", TokenFile("reader"), "--exit-when-idle", "30"}),
            1)
      << WorkerLog("reader");
  EXPECT_NE(WorkerLog("reader").find("PERMISSION_DENIED: the server refused our token"),
            std::string::npos)
      << WorkerLog("reader");
  EXPECT_NE(WorkerLog("reader").find("worker or admin role"), std::string::npos);
  EXPECT_EQ(Progress().completed(), 0);
  EXPECT_EQ(Progress().queued(), 3);
}

TEST_F(WorkerSecurityTest, UnreadableCredentialFilesAreUsageErrors) {
  StartServer({}, /*tls=*/false);
  EXPECT_EQ(RunWorker("missing", {"--token-file", dir_.File("nope")}), 2);
  EXPECT_NE(WorkerLog("missing").find(dir_.File("nope")), std::string::npos);
  EXPECT_EQ(RunWorker("ca", {"--tls-ca", dir_.File("nope.pem")}), 2);
  EXPECT_NE(WorkerLog("ca").find("--tls-ca"), std::string::npos);
  EXPECT_EQ(RunWorker("half", {"--tls-key", TokenFile("worker")}), 2);
  EXPECT_NE(WorkerLog("half").find("--tls-key needs --tls-cert"), std::string::npos);
}

TEST_F(WorkerSecurityTest, DrainsOverTls) {
  MakeCertificates();
  StartServer({"--tls-cert", certs_.server_cert, "--tls-key", certs_.server_key}, /*tls=*/true);
  Enqueue(20);
  EXPECT_EQ(RunWorker("tls",
                      {"--tls-ca", certs_.ca_cert, "--token-file", TokenFile("worker"),
                       "--exit-when-idle", "2"},
                      absl::StrCat("localhost:", server_->port())),
            0)
      << WorkerLog("tls");
  EXPECT_EQ(Progress().completed(), 20);
  EXPECT_NE(WorkerLog("tls").find("over TLS (CA from --tls-ca)"), std::string::npos);
}

TEST_F(WorkerSecurityTest, TlsHandshakeFailureIsNamedAndRetried) {
  MakeCertificates();
  StartServer({"--tls-cert", certs_.server_cert, "--tls-key", certs_.server_key}, /*tls=*/true);
  // A CA that did not sign the server's certificate: the worker keeps
  // retrying (the operator may fix the server) and says why in its log.
  std::vector<std::string> argv = {BinaryPath("skill-worker"), "--server", server_->address(),
                                   "--worker-id", "wrong-ca", "--tls-ca", certs_.other_ca_cert,
                                   "--token-file", TokenFile("worker")};
  auto worker = ChildProcess::Start(argv, dir_.File("wrong-ca.log"));
  ASSERT_TRUE(worker.ok()) << worker.status();
  auto line = (*worker)->WaitForLogLine("the TLS handshake failed", absl::Seconds(30));
  ASSERT_TRUE(line.ok()) << line.status() << "\n" << (*worker)->ReadLog();
  EXPECT_NE(line->find("--tls-ca"), std::string::npos) << *line;
  EXPECT_TRUE((*worker)->Running());
  // Without TLS, gRPC reports only "Socket closed": the log says what that
  // may mean.
  auto plaintext =
      ChildProcess::Start({BinaryPath("skill-worker"), "--server", server_->address(),
                           "--worker-id", "plaintext", "--token-file", TokenFile("worker")},
                          dir_.File("plaintext.log"));
  ASSERT_TRUE(plaintext.ok()) << plaintext.status();
  auto closed =
      (*plaintext)->WaitForLogLine("if it uses TLS, connect with --tls", absl::Seconds(30));
  ASSERT_TRUE(closed.ok()) << closed.status() << "\n" << (*plaintext)->ReadLog();
  for (auto* child : {&*worker, &*plaintext}) {
    (*child)->Signal(SIGTERM);
    absl::StatusOr<int> code = (*child)->Wait(absl::Seconds(30));
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(*code, 0);
  }
}

TEST_F(WorkerSecurityTest, DrainsOverMutualTls) {
  MakeCertificates();
  StartServer({"--tls-cert", certs_.server_cert, "--tls-key", certs_.server_key,
               "--tls-client-ca", certs_.ca_cert},
              /*tls=*/true);
  Enqueue(10);
  EXPECT_EQ(RunWorker("mtls",
                      {"--tls-ca", certs_.ca_cert, "--tls-cert", certs_.client_cert, "--tls-key",
                       certs_.client_key, "--token-file", TokenFile("worker"),
                       "--exit-when-idle", "2"}),
            0)
      << WorkerLog("mtls");
  EXPECT_EQ(Progress().completed(), 10);
}

// A rotated worker token, with the overlap the README describes: the server
// accepts both, the worker's file gets the new one and SIGHUP, the server
// drops the old one; the running worker keeps working throughout. A broken
// token file is refused and the token in use stays.
TEST_F(WorkerSecurityTest, SighupRereadsTheTokenFile) {
  StartServer({}, /*tls=*/false);
  const std::string live_token = dir_.File("live.token");
  ASSERT_TRUE(testing::InstallFile(live_token, tokens_["worker"] + "\n").ok());
  chmod(live_token.c_str(), 0600);
  auto worker = ChildProcess::Start(
      {BinaryPath("skill-worker"), "--server", server_->address(), "--worker-id", "rotating",
       "--claim-wait", "1", "--token-file", live_token},
      dir_.File("rotating.log"));
  ASSERT_TRUE(worker.ok()) << worker.status();
  Enqueue(2);
  auto wait_completed = [&](int64_t n) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (Progress().completed() < n && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(100));
    }
    return Progress().completed();
  };
  ASSERT_EQ(wait_completed(2), 2) << (*worker)->ReadLog();
  auto sighup = [](ChildProcess& process, const std::string& expected) {
    const size_t offset = process.ReadLog().size();
    process.Signal(SIGHUP);
    auto line = process.WaitForLogLine(expected, absl::Seconds(10), offset);
    EXPECT_TRUE(line.ok()) << line.status() << "\n" << process.ReadLog();
    return line.ok() ? *line : "";
  };

  auto fresh = auth::GenerateToken();
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  const std::string old_line =
      absl::StrCat("worker ", auth::Sha256Hex(tokens_["worker"]), " old worker\n");
  const std::string new_line = absl::StrCat("worker ", auth::Sha256Hex(*fresh), " new worker\n");
  const std::string others = absl::StrCat("admin ", auth::Sha256Hex(tokens_["admin"]), " admin\n");
  ASSERT_TRUE(testing::InstallFile(dir_.File("tokens"), others + old_line + new_line).ok());
  sighup(server_->process(), "token authentication: reloaded");

  // Refused: an empty file. The worker keeps sending the old token.
  ASSERT_TRUE(testing::InstallFile(live_token, "\n").ok());
  const std::string refused = sighup(**worker, "token file not reloaded");
  EXPECT_NE(refused.find(live_token), std::string::npos) << refused;

  ASSERT_TRUE(testing::InstallFile(live_token, *fresh + "\n").ok());
  sighup(**worker, "token reloaded from --token-file");
  ASSERT_TRUE(testing::InstallFile(dir_.File("tokens"), others + new_line).ok());
  sighup(server_->process(), "token authentication: reloaded");

  Enqueue(3);
  EXPECT_EQ(wait_completed(5), 5) << (*worker)->ReadLog();
  ASSERT_TRUE((*worker)->Running()) << (*worker)->ReadLog();
  const std::string log = (*worker)->ReadLog();
  EXPECT_EQ(log.find("refused our token"), std::string::npos) << log;
  EXPECT_EQ(log.find(*fresh), std::string::npos) << "the token is never logged";
  (*worker)->Signal(SIGTERM);
  absl::StatusOr<int> code = (*worker)->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << (*worker)->ReadLog();
  EXPECT_EQ(*code, 0) << (*worker)->ReadLog();
}

}  // namespace
}  // namespace skillstore::worker
