// skill-worker re-reading its TLS files (--tls-ca, --tls-cert, --tls-key)
// while it runs: the real binaries on a loopback port, certificates made by
// openssl at test time (tests/testing/certs.h), files replaced the way
// renewal tools do (written aside, renamed over).
//
// Each rotation has the same shape: the worker works with CA 1 material, its
// files are renewed with CA 2 material (SIGHUP or the periodic check), the
// server moves to CA 2 and is restarted on the same port and database, so
// the worker must make a new handshake: tasks enqueued afterwards complete
// only if that handshake used the renewed files. A worker that read its files
// once would present (or trust) CA 1 forever and never get in again.
//
// Also: broken renewals are refused with a log line naming the file and its
// flag and the worker keeps its material across a server restart; SIGHUP
// never drains or stops a worker; the server's host name is still checked
// (--tls-server-name), and --tls alone trusts the system's roots.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "certs.h"
#include "files.h"
#include "process.h"
#include "server_test_util.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace skillstore::worker {
namespace {

namespace v1 = ::skillstore::v1;
using skillstore::server::testing::Channel;
using skillstore::server::testing::ClientCert;
using skillstore::server::testing::Enqueue;
using skillstore::server::testing::GetProgress;
using skillstore::server::testing::Spec;
using skillstore::server::testing::WaitForCompleted;
using skillstore::testing::BinaryPath;
using skillstore::testing::ChildProcess;
using skillstore::testing::CountOccurrences;
using skillstore::testing::InstallFile;
using skillstore::testing::MakeTestCertificates;
using skillstore::testing::ReadFile;
using skillstore::testing::ServerProcess;
using skillstore::testing::TempDir;
using skillstore::testing::TestCertificates;

// Bounds every wait: tasks of a worker that is connected finish in well
// under a second, a restarted server is found again within the worker's
// 3 s reconnect backoff.
constexpr absl::Duration kTaskTimeout = absl::Seconds(20);

class WorkerTlsReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCertificates> certs = MakeTestCertificates(dir_.path());
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = *certs;
    ca1_client_ = {certs_.client_cert, certs_.client_key};
    ca2_client_ = {certs_.other_client_cert, certs_.other_client_key};
    // The server's live files: CA 1's certificate, CA 1's clients.
    ASSERT_TRUE(InstallFile(server_cert_, ReadFile(certs_.server_cert)).ok());
    ASSERT_TRUE(InstallFile(server_key_, ReadFile(certs_.server_key)).ok());
    ASSERT_TRUE(InstallFile(server_client_ca_, ReadFile(certs_.ca_cert)).ok());
    // The worker's live files: trusts CA 1, presents CA 1's client pair.
    ASSERT_TRUE(InstallFile(worker_ca_, ReadFile(certs_.ca_cert)).ok());
    ASSERT_TRUE(InstallFile(worker_cert_, ReadFile(certs_.client_cert)).ok());
    ASSERT_TRUE(InstallFile(worker_key_, ReadFile(certs_.client_key)).ok());
  }

  // Starts the server on the live files (`mutual`: it demands client
  // certificates from --tls-client-ca), on `port` (0: a free one).
  void StartServer(bool mutual, int port = 0) {
    std::vector<std::string> args = {
        "--tls-cert", server_cert_, "--tls-key", server_key_, "--tls-reload-interval", "0"};
    if (mutual) args.insert(args.end(), {"--tls-client-ca", server_client_ca_});
    auto server =
        ServerProcess::Start(dir_.File("skillstore.db"), dir_.File("server.log"), args, port);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    mutual_ = mutual;
  }

  // Kills the server and starts it again on the same port and database, so
  // every client must make a new handshake.
  void RestartServer() {
    const int port = server_->port();
    server_->process().Kill();
    server_.reset();
    ASSERT_NO_FATAL_FAILURE(StartServer(mutual_, port));
  }

  // Sends SIGHUP to the server and waits until it has published its files.
  void ReloadServer() {
    const size_t offset = server_->process().ReadLog().size();
    server_->process().Signal(SIGHUP);
    auto line = server_->process().WaitForLogLine("TLS files reloaded", absl::Seconds(10), offset);
    ASSERT_TRUE(line.ok()) << line.status() << "\n" << server_->process().ReadLog();
    // Past the publish interval: new handshakes get what was published.
    absl::SleepFor(absl::Milliseconds(1500));
  }

  // A worker on the live files (plus `extra` flags); the mutual-TLS pair is
  // passed when `client_cert`.
  void StartWorker(bool client_cert, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {BinaryPath("skill-worker"),
                                     "--server",
                                     server_->address(),
                                     "--worker-id",
                                     "reloading",
                                     "--concurrency",
                                     "1",
                                     "--claim-wait",
                                     "1",
                                     "--tls-ca",
                                     worker_ca_};
    if (client_cert)
      argv.insert(argv.end(), {"--tls-cert", worker_cert_, "--tls-key", worker_key_});
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto worker = ChildProcess::Start(argv, dir_.File("worker.log"));
    ASSERT_TRUE(worker.ok()) << worker.status();
    worker_ = std::move(*worker);
  }

  // Sends SIGHUP to the worker and returns the log line holding `expected`.
  std::string SighupWorker(const std::string& expected) {
    const size_t offset = worker_->ReadLog().size();
    worker_->Signal(SIGHUP);
    auto line = worker_->WaitForLogLine(expected, absl::Seconds(10), offset);
    EXPECT_TRUE(line.ok()) << line.status() << "\n" << worker_->ReadLog();
    return line.ok() ? *line : "";
  }

  // Past the worker's publish interval after a reload: gRPC has taken what
  // was published, so the next handshake uses it. (A renewal happens days
  // before the old material stops working; a test restarts the server at
  // once.)
  static void WaitPastPublishInterval() { absl::SleepFor(absl::Milliseconds(2500)); }

  // Enqueues `n` tasks over a connection trusting `ca` (presenting `client`
  // to a mutual-TLS server), and waits until the worker has finished
  // `total` tasks in all. The test fails unless they completed.
  void RunTasks(int n, int64_t total, const std::string& ca, const ClientCert* client) {
    auto stub = v1::SkillStore::NewStub(Channel(server_->address(), ca, client));
    std::vector<v1::TaskSpec> specs;
    for (int i = 0; i < n; ++i) {
      specs.push_back(Spec(v1::TASK_TYPE_PARSE, absl::StrCat("reload/", total, "/", i)));
    }
    Enqueue(*stub, std::move(specs));
    const v1::Progress progress = WaitForCompleted(*stub, total, kTaskTimeout);
    EXPECT_EQ(progress.completed(), total) << progress.DebugString() << "\nworker:\n"
                                           << worker_->ReadLog() << "\nserver:\n"
                                           << server_->process().ReadLog();
  }

  // SIGTERM drains; the worker exits 0.
  void StopWorker() {
    ASSERT_TRUE(worker_->Running()) << worker_->ReadLog();
    worker_->Signal(SIGTERM);
    absl::StatusOr<int> code = worker_->Wait(absl::Seconds(30));
    ASSERT_TRUE(code.ok()) << worker_->ReadLog();
    EXPECT_EQ(*code, 0) << worker_->ReadLog();
  }

  TempDir dir_;
  TestCertificates certs_;
  ClientCert ca1_client_, ca2_client_;
  const std::string server_cert_ = dir_.File("live-server.pem");
  const std::string server_key_ = dir_.File("live-server.key");
  const std::string server_client_ca_ = dir_.File("live-client-ca.pem");
  const std::string worker_ca_ = dir_.File("live-worker-ca.pem");
  const std::string worker_cert_ = dir_.File("live-worker.pem");
  const std::string worker_key_ = dir_.File("live-worker.key");
  std::unique_ptr<ServerProcess> server_;
  bool mutual_ = false;
  std::unique_ptr<ChildProcess> worker_;
};

TEST_F(WorkerTlsReloadTest, RenewedClientCertificateIsPresentedAfterTheServerRestarts) {
  ASSERT_NO_FATAL_FAILURE(StartServer(/*mutual=*/true));
  ASSERT_NO_FATAL_FAILURE(StartWorker(/*client_cert=*/true, {"--tls-reload-interval", "0"}));
  RunTasks(2, 2, certs_.ca_cert, &ca1_client_);

  // Client certificates now come from CA 2 only; the worker gets a CA 2 pair.
  ASSERT_TRUE(InstallFile(server_client_ca_, ReadFile(certs_.other_ca_cert)).ok());
  ASSERT_NO_FATAL_FAILURE(ReloadServer());
  ASSERT_TRUE(InstallFile(worker_cert_, ReadFile(certs_.other_client_cert)).ok());
  ASSERT_TRUE(InstallFile(worker_key_, ReadFile(certs_.other_client_key)).ok());
  const std::string reloaded = SighupWorker("TLS files reloaded");
  EXPECT_NE(reloaded.find("client certificate subject CN = stranger, issuer CN = skillstore test "
                          "other-ca"),
            std::string::npos)
      << reloaded;

  // The connection the worker has keeps its session: tasks still complete
  // although a new handshake with the CA 1 pair would now be refused.
  RunTasks(1, 3, certs_.ca_cert, &ca2_client_);

  WaitPastPublishInterval();
  ASSERT_NO_FATAL_FAILURE(RestartServer());
  RunTasks(3, 6, certs_.ca_cert, &ca2_client_);
  EXPECT_EQ(CountOccurrences(worker_->ReadLog(), "TLS files not reloaded"), 0)
      << worker_->ReadLog();
  StopWorker();
}

TEST_F(WorkerTlsReloadTest, RotatedCaIsTrustedAfterTheServerRestarts) {
  ASSERT_NO_FATAL_FAILURE(StartServer(/*mutual=*/false));
  ASSERT_NO_FATAL_FAILURE(StartWorker(/*client_cert=*/false, {"--tls-reload-interval", "0"}));
  RunTasks(2, 2, certs_.ca_cert, nullptr);

  // The worker trusts CA 2 only from now on...
  ASSERT_TRUE(InstallFile(worker_ca_, ReadFile(certs_.other_ca_cert)).ok());
  const std::string reloaded = SighupWorker("TLS files reloaded");
  EXPECT_NE(reloaded.find("CA subject CN = skillstore test other-ca"), std::string::npos)
      << reloaded;
  // ... its open connection to the CA 1 server keeps working ...
  RunTasks(1, 3, certs_.ca_cert, nullptr);

  // ... and after the server restarts with a CA 2 certificate, the worker's
  // new handshake trusts it.
  ASSERT_TRUE(InstallFile(server_cert_, ReadFile(certs_.other_server_cert)).ok());
  ASSERT_TRUE(InstallFile(server_key_, ReadFile(certs_.other_server_key)).ok());
  WaitPastPublishInterval();
  ASSERT_NO_FATAL_FAILURE(RestartServer());
  RunTasks(3, 6, certs_.other_ca_cert, nullptr);
  StopWorker();
}

TEST_F(WorkerTlsReloadTest, BrokenRenewalsAreRefusedAndTheWorkerKeepsItsMaterial) {
  ASSERT_NO_FATAL_FAILURE(StartServer(/*mutual=*/true));
  ASSERT_NO_FATAL_FAILURE(StartWorker(/*client_cert=*/true, {"--tls-reload-interval", "0"}));
  RunTasks(1, 1, certs_.ca_cert, &ca1_client_);
  const std::string client_cert = ReadFile(certs_.client_cert);
  const std::string client_key = ReadFile(certs_.client_key);
  const std::string ca = ReadFile(certs_.ca_cert);
  auto restore = [&] {
    ASSERT_TRUE(InstallFile(worker_ca_, ca).ok());
    ASSERT_TRUE(InstallFile(worker_cert_, client_cert).ok());
    ASSERT_TRUE(InstallFile(worker_key_, client_key).ok());
  };

  struct Case {
    std::string name;
    std::function<void()> break_files;
    std::string expected;  // in the refusal line: the file and its flag
  };
  const std::vector<Case> cases = {
      {"a renewed certificate with the old key",
       [&] { ASSERT_TRUE(InstallFile(worker_cert_, ReadFile(certs_.other_client_cert)).ok()); },
       absl::StrCat("the private key ", worker_key_,
                    " (--tls-key) does not belong to the "
                    "certificate ",
                    worker_cert_, " (--tls-cert)")},
      {"a certificate file that is not PEM",
       [&] { ASSERT_TRUE(InstallFile(worker_cert_, "garbage\n").ok()); },
       absl::StrCat("--tls-cert ", worker_cert_, ": no PEM certificate in the file")},
      {"a missing key file", [&] { ASSERT_EQ(std::remove(worker_key_.c_str()), 0); },
       absl::StrCat("--tls-key ", worker_key_, ": cannot read")},
      {"a CA file that is not PEM",
       [&] {
         ASSERT_TRUE(InstallFile(worker_ca_, "-----BEGIN CERTIFICATE-----\nnot base64\n").ok());
       },
       absl::StrCat("--tls-ca ", worker_ca_, ": no PEM certificate in the file")},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_NO_FATAL_FAILURE(c.break_files());
    const std::string line = SighupWorker("TLS files not reloaded");
    EXPECT_NE(line.find(c.expected), std::string::npos) << line;
    // The line says what stays in use.
    EXPECT_NE(line.find("still using the previous ones (client certificate subject CN = "
                        "test-client, issuer CN = skillstore test ca,"),
              std::string::npos)
        << line;
    ASSERT_TRUE(worker_->Running()) << worker_->ReadLog();
    ASSERT_NO_FATAL_FAILURE(restore());
  }

  // Left broken across a server restart: the worker's new handshake uses
  // the material it had, and gets in.
  ASSERT_TRUE(InstallFile(worker_cert_, "garbage\n").ok());
  ASSERT_TRUE(InstallFile(worker_ca_, "garbage\n").ok());
  SighupWorker("TLS files not reloaded");
  ASSERT_NO_FATAL_FAILURE(RestartServer());
  RunTasks(3, 4, certs_.ca_cert, &ca1_client_);
  // Each refusal was one line.
  EXPECT_EQ(CountOccurrences(worker_->ReadLog(), "TLS files not reloaded"), 5)
      << worker_->ReadLog();
  StopWorker();
}

TEST_F(WorkerTlsReloadTest, PeriodicCheckFindsRenewalsWithoutASignalAndReportsAFailureOnce) {
  ASSERT_NO_FATAL_FAILURE(StartServer(/*mutual=*/true));
  ASSERT_NO_FATAL_FAILURE(StartWorker(/*client_cert=*/true, {"--tls-reload-interval", "1"}));
  RunTasks(1, 1, certs_.ca_cert, &ca1_client_);
  EXPECT_NE(worker_->ReadLog().find("the files are re-read on SIGHUP and every 1s"),
            std::string::npos)
      << worker_->ReadLog();

  // Half a renewal (the new certificate, the old key): refused, and said
  // once although the check runs every second.
  size_t offset = worker_->ReadLog().size();
  ASSERT_TRUE(InstallFile(worker_cert_, ReadFile(certs_.other_client_cert)).ok());
  auto refused = worker_->WaitForLogLine("TLS files not reloaded", absl::Seconds(10), offset);
  ASSERT_TRUE(refused.ok()) << refused.status() << "\n" << worker_->ReadLog();
  EXPECT_NE(refused->find("does not belong to the certificate"), std::string::npos) << *refused;
  EXPECT_NE(refused->find("checked again every 1s"), std::string::npos) << *refused;
  absl::SleepFor(absl::Milliseconds(3500));  // three more checks
  EXPECT_EQ(CountOccurrences(worker_->ReadLog().substr(offset), "TLS files not reloaded"), 1)
      << worker_->ReadLog();

  // The key arrives: the next check publishes the pair, without a signal.
  offset = worker_->ReadLog().size();
  ASSERT_TRUE(InstallFile(worker_key_, ReadFile(certs_.other_client_key)).ok());
  auto reloaded = worker_->WaitForLogLine("TLS files reloaded", absl::Seconds(10), offset);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status() << "\n" << worker_->ReadLog();

  ASSERT_TRUE(InstallFile(server_client_ca_, ReadFile(certs_.other_ca_cert)).ok());
  WaitPastPublishInterval();
  ASSERT_NO_FATAL_FAILURE(RestartServer());
  RunTasks(2, 3, certs_.ca_cert, &ca2_client_);
  StopWorker();
}

// SIGHUP re-reads files and nothing else: no drain, no exit, and the first
// SIGTERM afterwards still drains (exit 0), not the "second signal" exit.
TEST_F(WorkerTlsReloadTest, SighupNeitherDrainsNorStopsTheWorker) {
  ASSERT_NO_FATAL_FAILURE(StartServer(/*mutual=*/false));
  ASSERT_NO_FATAL_FAILURE(StartWorker(/*client_cert=*/false));
  RunTasks(1, 1, certs_.ca_cert, nullptr);
  for (int i = 0; i < 3; ++i) SighupWorker("SIGHUP: TLS files unchanged");
  absl::SleepFor(absl::Milliseconds(500));
  ASSERT_TRUE(worker_->Running()) << worker_->ReadLog();
  EXPECT_EQ(worker_->ReadLog().find("draining"), std::string::npos) << worker_->ReadLog();
  RunTasks(2, 3, certs_.ca_cert, nullptr);
  StopWorker();
  EXPECT_NE(worker_->ReadLog().find("draining"), std::string::npos) << worker_->ReadLog();
}

// The same for a worker without TLS files: SIGHUP has nothing to re-read.
TEST_F(WorkerTlsReloadTest, SighupWithoutTlsFilesIsHarmless) {
  auto server = ServerProcess::Start(dir_.File("plain.db"), dir_.File("server.log"));
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = std::move(*server);
  auto worker = ChildProcess::Start({BinaryPath("skill-worker"), "--server", server_->address(),
                                     "--worker-id", "plain", "--claim-wait", "1"},
                                    dir_.File("worker.log"));
  ASSERT_TRUE(worker.ok()) << worker.status();
  worker_ = std::move(*worker);
  // Signals are taken from here on; before, SIGHUP would end the process.
  ASSERT_TRUE(worker_->WaitForLogLine("worker plain starting", absl::Seconds(10)).ok())
      << worker_->ReadLog();
  SighupWorker("SIGHUP: no TLS files to re-read");
  SighupWorker("SIGHUP: no TLS files to re-read");
  auto stub = v1::SkillStore::NewStub(
      grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  Enqueue(*stub, {Spec(v1::TASK_TYPE_PARSE, "plain/one")});
  EXPECT_EQ(WaitForCompleted(*stub, 1, kTaskTimeout).completed(), 1) << worker_->ReadLog();
  StopWorker();
}

// TLS credentials check the server's name: a worker told to expect another
// name is refused at every handshake, while the right name gets in.
TEST_F(WorkerTlsReloadTest, WrongServerNameIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartServer(/*mutual=*/false));
  auto stub = v1::SkillStore::NewStub(Channel(server_->address(), certs_.ca_cert));
  Enqueue(*stub, {Spec(v1::TASK_TYPE_PARSE, "name/one")});

  ASSERT_NO_FATAL_FAILURE(
      StartWorker(/*client_cert=*/false, {"--tls-server-name", "elsewhere.example"}));
  auto failed = worker_->WaitForLogLine("the TLS handshake failed", absl::Seconds(15));
  ASSERT_TRUE(failed.ok()) << failed.status() << "\n" << worker_->ReadLog();
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(GetProgress(*stub).completed(), 0) << worker_->ReadLog();
  StopWorker();

  // The name the certificate carries, dialled by IP address.
  ASSERT_NO_FATAL_FAILURE(StartWorker(/*client_cert=*/false, {"--tls-server-name", "localhost"}));
  EXPECT_EQ(WaitForCompleted(*stub, 1, kTaskTimeout).completed(), 1) << worker_->ReadLog();
  StopWorker();
}

// --tls without --tls-ca trusts the system's root CAs (here: gRPC's
// GRPC_DEFAULT_SSL_ROOTS_FILE_PATH pointed at the test CA) and has no files
// to re-read.
TEST_F(WorkerTlsReloadTest, TlsWithSystemRootsStillWorks) {
  ASSERT_NO_FATAL_FAILURE(StartServer(/*mutual=*/false));
  setenv("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", certs_.ca_cert.c_str(), 1);
  auto worker = ChildProcess::Start({BinaryPath("skill-worker"), "--server", server_->address(),
                                     "--worker-id", "roots", "--claim-wait", "1", "--tls"},
                                    dir_.File("worker.log"));
  unsetenv("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH");
  ASSERT_TRUE(worker.ok()) << worker.status();
  worker_ = std::move(*worker);
  RunTasks(2, 2, certs_.ca_cert, nullptr);
  SighupWorker("SIGHUP: no TLS files to re-read");
  StopWorker();
}

}  // namespace
}  // namespace skillstore::worker
