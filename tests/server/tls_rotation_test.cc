// Certificate rotation in a running skillstore-server: the real binary on a
// loopback port, certificates made by openssl at test time
// (tests/testing/certs.h). The server is given "live" files that the tests
// replace the way renewal tools do (write aside, rename over), switching from
// a certificate of CA 1 to one of CA 2:
// - after SIGHUP (or the periodic check), new handshakes get the new
//   certificate: a client trusting CA 2 connects, one trusting only CA 1 no
//   longer does, while connections opened before keep working (a channel, an
//   open WatchProgress stream, and a running skill-worker that trust only
//   CA 1);
// - a broken renewal (key of another certificate, not PEM, missing file) is
//   refused with a log line naming the file, and the old certificate serves on;
// - clients trusting a bundle of both CAs connect throughout (how the README
//   moves clients to a new CA first);
// - with mutual TLS, the client CA rotates the same way, through a bundle.
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "certs.h"
#include "files.h"
#include "process.h"
#include "server.h"
#include "server_test_util.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace skillstore::server {
namespace {

namespace v1 = ::skillstore::v1;
using skillstore::server::testing::Channel;
using skillstore::server::testing::ClientCert;
using skillstore::server::testing::Enqueue;
using skillstore::server::testing::Spec;
using skillstore::server::testing::WaitForCompleted;
using skillstore::testing::BinaryPath;
using skillstore::testing::ChildProcess;
using skillstore::testing::InstallFile;
using skillstore::testing::MakeTestCertificates;
using skillstore::testing::ReadFile;
using skillstore::testing::ServerProcess;
using skillstore::testing::TempDir;
using skillstore::testing::TestCertificates;

grpc::Status Probe(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::SkillStore::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::Progress progress;
  return stub->GetProgress(&context, v1::GetProgressRequest(), &progress);
}

// A GetProgress over a fresh connection (a new TLS handshake).
grpc::Status ProbeNew(const std::string& address, const std::string& ca_file,
                      const ClientCert* client = nullptr) {
  return Probe(Channel(address, ca_file, client));
}

// Waits until a fresh connection trusting `ca_file` works: gRPC picks up a
// published reload within TlsReloader::kPublishIntervalSeconds.
grpc::Status EventuallyConnects(const std::string& address, const std::string& ca_file,
                                const ClientCert* client = nullptr,
                                absl::Duration timeout = absl::Seconds(15)) {
  const absl::Time deadline = absl::Now() + timeout;
  grpc::Status status;
  while (absl::Now() < deadline) {
    status = ProbeNew(address, ca_file, client);
    if (status.ok()) return status;
    absl::SleepFor(absl::Milliseconds(200));
  }
  return status;
}

// Longer than the publish interval: what a reload publishes has reached
// gRPC's watcher by then, so a check after it sees the outcome for sure.
void WaitPastPublishInterval() {
  absl::SleepFor(absl::Seconds(TlsReloader::kPublishIntervalSeconds) + absl::Milliseconds(1500));
}

class TlsRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestCertificates> certs = MakeTestCertificates(dir_.path());
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = *certs;
    live_cert_ = dir_.File("live-server.pem");
    live_key_ = dir_.File("live-server.key");
    live_client_ca_ = dir_.File("live-client-ca.pem");
    ASSERT_TRUE(InstallFile(live_cert_, ReadFile(certs_.server_cert)).ok());
    ASSERT_TRUE(InstallFile(live_key_, ReadFile(certs_.server_key)).ok());
    ASSERT_TRUE(InstallFile(live_client_ca_, ReadFile(certs_.ca_cert)).ok());
  }

  // Starts the binary on the live files; `extra` adds flags.
  void StartServer(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--tls-cert", live_cert_, "--tls-key", live_key_};
    args.insert(args.end(), extra.begin(), extra.end());
    auto server = ServerProcess::Start(dir_.File("rotation.db"), dir_.File("server.log"), args);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    address_ = server_->address();
  }

  size_t LogSize() const { return ReadFile(server_->process().log_path()).size(); }

  // Sends SIGHUP and waits for the log line that says how it went.
  std::string Sighup(const std::string& expected) {
    const size_t offset = LogSize();
    server_->process().Signal(SIGHUP);
    absl::StatusOr<std::string> line =
        server_->process().WaitForLogLine(expected, absl::Seconds(20), offset);
    EXPECT_TRUE(line.ok()) << line.status() << "\n" << server_->process().ReadLog();
    return line.ok() ? *line : "";
  }

  // Puts a certificate and key from CA 2 in place of the live pair.
  void RenewFromOtherCa() {
    ASSERT_TRUE(InstallFile(live_cert_, ReadFile(certs_.other_server_cert)).ok());
    ASSERT_TRUE(InstallFile(live_key_, ReadFile(certs_.other_server_key)).ok());
  }

  TempDir dir_;
  TestCertificates certs_;
  std::string live_cert_, live_key_, live_client_ca_;
  std::unique_ptr<ServerProcess> server_;
  std::string address_;
};

TEST_F(TlsRotationTest, SighupServesTheRenewedCertificateAndKeepsOpenConnections) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--tls-reload-interval", "0"}));
  std::shared_ptr<grpc::Channel> old_channel = Channel(address_, certs_.ca_cert);
  grpc::Status before = Probe(old_channel);
  ASSERT_TRUE(before.ok()) << before.error_message();
  EXPECT_EQ(ProbeNew(address_, certs_.other_ca_cert).error_code(), grpc::StatusCode::UNAVAILABLE);

  // A stream opened before the rotation, on a connection trusting only CA 1.
  auto old_stub = v1::SkillStore::NewStub(old_channel);
  grpc::ClientContext watch_context;
  v1::WatchProgressRequest watch_request;
  watch_request.set_min_interval_ms(1);
  std::unique_ptr<grpc::ClientReader<v1::Progress>> watch =
      old_stub->WatchProgress(&watch_context, watch_request);
  v1::Progress update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.total(), 0);

  // A client that trusts both CAs (how the README moves clients to a new CA
  // ahead of the server) connects before and after.
  const std::string both_cas = dir_.File("both-cas.pem");
  ASSERT_TRUE(
      InstallFile(both_cas, ReadFile(certs_.ca_cert) + ReadFile(certs_.other_ca_cert)).ok());
  EXPECT_TRUE(ProbeNew(address_, both_cas).ok());

  RenewFromOtherCa();
  // With --tls-reload-interval 0 nothing happens until the signal.
  WaitPastPublishInterval();
  EXPECT_TRUE(ProbeNew(address_, certs_.ca_cert).ok()) << "reloaded without SIGHUP";

  const std::string line = Sighup("TLS files reloaded");
  EXPECT_NE(line.find("issuer CN = skillstore test other-ca"), std::string::npos) << line;
  grpc::Status renewed = EventuallyConnects(address_, certs_.other_ca_cert);
  EXPECT_TRUE(renewed.ok()) << renewed.error_code() << ": " << renewed.error_message();
  // New handshakes present CA 2's certificate: a client trusting only CA 1
  // refuses it.
  EXPECT_EQ(ProbeNew(address_, certs_.ca_cert).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(ProbeNew(address_, both_cas).ok());

  // The connection opened before still works (a new handshake on it would
  // fail, as the line above shows)...
  grpc::Status old_call = Probe(old_channel);
  EXPECT_TRUE(old_call.ok()) << old_call.error_code() << ": " << old_call.error_message();
  // ... and so does the stream: a task enqueued over a CA 2 connection
  // reaches it as a progress update.
  auto new_stub = v1::SkillStore::NewStub(Channel(address_, certs_.other_ca_cert));
  Enqueue(*new_stub, {Spec(v1::TASK_TYPE_PARSE, "rotation/SKILL.md")});
  do {
    ASSERT_TRUE(watch->Read(&update)) << "the stream opened before the rotation ended";
  } while (update.total() < 1);
  EXPECT_EQ(update.total(), 1);
  watch_context.TryCancel();
  watch->Finish();

  // Signalling again without a change keeps the certificate and says so.
  const std::string unchanged = Sighup("TLS files unchanged");
  EXPECT_NE(unchanged.find("issuer CN = skillstore test other-ca"), std::string::npos) << unchanged;
  EXPECT_TRUE(server_->process().Running());
}

// The case rotation is for: a skill-worker that trusts only CA 1 and is
// connected when the server moves to CA 2 keeps claiming and submitting over
// its connection, without a failed handshake or a reconnect.
TEST_F(TlsRotationTest, RunningWorkerKeepsWorkingThroughARotation) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--tls-reload-interval", "0"}));
  auto worker = ChildProcess::Start(
      {BinaryPath("skill-worker"), "--server", address_, "--tls-ca", certs_.ca_cert, "--worker-id",
       "rotating", "--concurrency", "1", "--claim-wait", "1"},
      dir_.File("worker.log"));
  ASSERT_TRUE(worker.ok()) << worker.status();
  auto ca1_stub = v1::SkillStore::NewStub(Channel(address_, certs_.ca_cert));
  Enqueue(*ca1_stub,
          {Spec(v1::TASK_TYPE_PARSE, "before-one"), Spec(v1::TASK_TYPE_PARSE, "before-two")});
  v1::Progress progress = WaitForCompleted(*ca1_stub, 2);
  ASSERT_EQ(progress.completed(), 2) << progress.DebugString() << (*worker)->ReadLog();

  RenewFromOtherCa();
  Sighup("TLS files reloaded");
  grpc::Status renewed = EventuallyConnects(address_, certs_.other_ca_cert);
  ASSERT_TRUE(renewed.ok()) << renewed.error_code() << ": " << renewed.error_message();
  ASSERT_EQ(ProbeNew(address_, certs_.ca_cert).error_code(), grpc::StatusCode::UNAVAILABLE);

  auto ca2_stub = v1::SkillStore::NewStub(Channel(address_, certs_.other_ca_cert));
  Enqueue(*ca2_stub,
          {Spec(v1::TASK_TYPE_PARSE, "after-one"), Spec(v1::TASK_TYPE_PARSE, "after-two"),
           Spec(v1::TASK_TYPE_PARSE, "after-three")});
  progress = WaitForCompleted(*ca2_stub, 5);
  EXPECT_EQ(progress.completed(), 5) << progress.DebugString() << (*worker)->ReadLog();
  // Its connection never dropped: a new one would have failed the handshake,
  // and the worker would have said it cannot claim.
  const std::string worker_log = absl::AsciiStrToLower((*worker)->ReadLog());
  EXPECT_EQ(worker_log.find("handshake"), std::string::npos) << worker_log;
  EXPECT_EQ(worker_log.find("cannot claim"), std::string::npos) << worker_log;
  EXPECT_TRUE((*worker)->Running());
  (*worker)->Signal(SIGTERM);
  absl::StatusOr<int> code = (*worker)->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << (*worker)->ReadLog();
  EXPECT_EQ(*code, 0) << (*worker)->ReadLog();
}

TEST_F(TlsRotationTest, BrokenRenewalsAreRefusedAndTheOldCertificateServesOn) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--tls-reload-interval", "0"}));
  ASSERT_TRUE(ProbeNew(address_, certs_.ca_cert).ok());
  const std::string server_key = ReadFile(certs_.server_key);
  const std::string server_cert = ReadFile(certs_.server_cert);

  struct Case {
    std::string name;
    std::function<void()> break_files;
    std::string expected;  // in the error line
  };
  const std::vector<Case> cases = {
      {"the renewed certificate with the old key",
       [&] { ASSERT_TRUE(InstallFile(live_cert_, ReadFile(certs_.other_server_cert)).ok()); },
       absl::StrCat("the private key ", live_key_, " does not belong to the certificate ",
                    live_cert_)},
      {"a certificate file that is not PEM",
       [&] {
         ASSERT_TRUE(InstallFile(live_cert_, "-----BEGIN CERTIFICATE-----\nnot base64\n").ok());
       },
       absl::StrCat("--tls-cert ", live_cert_, ": no PEM certificate in the file")},
      {"a key file that is a certificate",
       [&] {
         ASSERT_TRUE(InstallFile(live_cert_, server_cert).ok());
         ASSERT_TRUE(InstallFile(live_key_, server_cert).ok());
       },
       absl::StrCat("--tls-key ", live_key_, ": no unencrypted PEM private key")},
      {"a missing key file", [&] { ASSERT_EQ(std::remove(live_key_.c_str()), 0); },
       absl::StrCat("--tls-key ", live_key_, ": cannot read")},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    c.break_files();
    const std::string line = Sighup("SIGHUP: TLS files not reloaded");
    EXPECT_NE(line.find(c.expected), std::string::npos) << line;
    // The line says which certificate still serves.
    EXPECT_NE(line.find("still serving the previous certificate (subject CN = localhost, "
                        "issuer CN = skillstore test ca,"),
              std::string::npos)
        << line;
    // Nothing was published: after the watcher's interval, CA 1's
    // certificate still serves new connections.
    WaitPastPublishInterval();
    grpc::Status status = ProbeNew(address_, certs_.ca_cert);
    EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
    EXPECT_EQ(ProbeNew(address_, certs_.other_ca_cert).error_code(), grpc::StatusCode::UNAVAILABLE);
    ASSERT_TRUE(server_->process().Running()) << server_->process().ReadLog();
    ASSERT_TRUE(InstallFile(live_cert_, server_cert).ok());
    ASSERT_TRUE(InstallFile(live_key_, server_key).ok());
  }

  // A good renewal after the broken ones goes through.
  RenewFromOtherCa();
  Sighup("TLS files reloaded");
  grpc::Status renewed = EventuallyConnects(address_, certs_.other_ca_cert);
  EXPECT_TRUE(renewed.ok()) << renewed.error_code() << ": " << renewed.error_message();
}

TEST_F(TlsRotationTest, PeriodicCheckFindsRenewalsWithoutASignalAndReportsAFailureOnce) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"--tls-reload-interval", "1"}));
  ASSERT_TRUE(ProbeNew(address_, certs_.ca_cert).ok());
  EXPECT_NE(server_->process().ReadLog().find("files are re-read on SIGHUP and every 1s"),
            std::string::npos)
      << server_->process().ReadLog();

  // A broken renewal: the key of another certificate. Checked every second,
  // reported once.
  const size_t offset = LogSize();
  ASSERT_TRUE(InstallFile(live_key_, ReadFile(certs_.other_server_key)).ok());
  ASSERT_TRUE(
      server_->process().WaitForLogLine("TLS files not reloaded", absl::Seconds(20), offset).ok())
      << server_->process().ReadLog();
  absl::SleepFor(absl::Milliseconds(3500));  // three more checks
  const std::string log = ReadFile(server_->process().log_path()).substr(offset);
  size_t reports = 0;
  for (size_t at = log.find("TLS files not reloaded"); at != std::string::npos;
       at = log.find("TLS files not reloaded", at + 1)) {
    ++reports;
  }
  EXPECT_EQ(reports, 1u) << log;
  EXPECT_NE(log.find("does not belong to the certificate"), std::string::npos) << log;
  EXPECT_TRUE(ProbeNew(address_, certs_.ca_cert).ok());

  // The matching certificate arrives: the next check publishes the pair.
  ASSERT_TRUE(InstallFile(live_cert_, ReadFile(certs_.other_server_cert)).ok());
  grpc::Status renewed = EventuallyConnects(address_, certs_.other_ca_cert);
  EXPECT_TRUE(renewed.ok()) << renewed.error_code() << ": " << renewed.error_message();
  EXPECT_EQ(ProbeNew(address_, certs_.ca_cert).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(server_->process().ReadLog().find("TLS files reloaded"), std::string::npos);
}

TEST_F(TlsRotationTest, MutualTlsClientCaRotates) {
  ASSERT_NO_FATAL_FAILURE(
      StartServer({"--tls-client-ca", live_client_ca_, "--tls-reload-interval", "0"}));
  const ClientCert ca1_client{certs_.client_cert, certs_.client_key};
  const ClientCert ca2_client{certs_.other_client_cert, certs_.other_client_key};
  std::shared_ptr<grpc::Channel> old_channel = Channel(address_, certs_.ca_cert, &ca1_client);
  ASSERT_TRUE(Probe(old_channel).ok());
  EXPECT_EQ(ProbeNew(address_, certs_.ca_cert, &ca2_client).error_code(),
            grpc::StatusCode::UNAVAILABLE);

  // A broken client CA file is refused; CA 1's clients still get in.
  ASSERT_TRUE(InstallFile(live_client_ca_, "not a certificate\n").ok());
  const std::string refused = Sighup("SIGHUP: TLS files not reloaded");
  EXPECT_NE(refused.find(absl::StrCat("--tls-client-ca ", live_client_ca_,
                                      ": no PEM certificate in the file")),
            std::string::npos)
      << refused;
  WaitPastPublishInterval();
  EXPECT_TRUE(ProbeNew(address_, certs_.ca_cert, &ca1_client).ok());

  // During the move, the client CA file holds both CAs: both clients get in.
  ASSERT_TRUE(
      InstallFile(live_client_ca_, ReadFile(certs_.ca_cert) + ReadFile(certs_.other_ca_cert)).ok());
  Sighup("TLS files reloaded");
  grpc::Status transition = EventuallyConnects(address_, certs_.ca_cert, &ca2_client);
  EXPECT_TRUE(transition.ok()) << transition.error_code() << ": " << transition.error_message();
  EXPECT_TRUE(ProbeNew(address_, certs_.ca_cert, &ca1_client).ok());

  // Client certificates now come from CA 2 only (the server keeps its own).
  ASSERT_TRUE(InstallFile(live_client_ca_, ReadFile(certs_.other_ca_cert)).ok());
  Sighup("TLS files reloaded");
  WaitPastPublishInterval();
  grpc::Status renewed = ProbeNew(address_, certs_.ca_cert, &ca2_client);
  EXPECT_TRUE(renewed.ok()) << renewed.error_code() << ": " << renewed.error_message();
  EXPECT_EQ(ProbeNew(address_, certs_.ca_cert, &ca1_client).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // The connection CA 1's client opened before keeps working.
  grpc::Status old_call = Probe(old_channel);
  EXPECT_TRUE(old_call.ok()) << old_call.error_code() << ": " << old_call.error_message();
}

// The same through the library API main() calls on SIGHUP.
TEST_F(TlsRotationTest, ReloadTlsSaysWhetherAnythingChanged) {
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  options.db_path = dir_.File("in-process.db");
  options.tls_cert_file = live_cert_;
  options.tls_key_file = live_key_;
  options.tls_reload_interval = absl::ZeroDuration();
  auto server = SkillStoreServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_NE((*server)->DescribeTls().find("issuer CN = skillstore test ca,"), std::string::npos)
      << (*server)->DescribeTls();

  absl::StatusOr<bool> unchanged = (*server)->ReloadTls();
  ASSERT_TRUE(unchanged.ok()) << unchanged.status();
  EXPECT_FALSE(*unchanged);

  ASSERT_TRUE(InstallFile(live_key_, ReadFile(certs_.client_key)).ok());
  absl::StatusOr<bool> broken = (*server)->ReloadTls();
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE((*server)->DescribeTls().find("issuer CN = skillstore test ca,"), std::string::npos);

  RenewFromOtherCa();
  absl::StatusOr<bool> changed = (*server)->ReloadTls();
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  EXPECT_NE((*server)->DescribeTls().find("issuer CN = skillstore test other-ca,"),
            std::string::npos)
      << (*server)->DescribeTls();
  grpc::Status renewed = EventuallyConnects((*server)->address(), certs_.other_ca_cert);
  EXPECT_TRUE(renewed.ok()) << renewed.error_code() << ": " << renewed.error_message();

  // Without TLS there is nothing to reload.
  ServerOptions plain;
  plain.listen = "127.0.0.1:0";
  plain.db_path = dir_.File("plain.db");
  auto plain_server = SkillStoreServer::Start(plain);
  ASSERT_TRUE(plain_server.ok()) << plain_server.status();
  absl::StatusOr<bool> nothing = (*plain_server)->ReloadTls();
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(*nothing);
  EXPECT_EQ((*plain_server)->DescribeTls(), "");
}

}  // namespace
}  // namespace skillstore::server
