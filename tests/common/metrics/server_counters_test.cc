// The server's task counters on an in-process SkillStoreServer, driven by
// hand over real gRPC so that every path is taken on purpose: completion,
// retryable failure (retried), lease expiry (reaper), stale result
// (rejected), cancel, idempotent duplicate. After each step the counters are
// compared with what happened and skillstore_tasks{status} with GetProgress.
#include <memory>
#include <string>

#include <filesystem>
#include <fstream>

#include "absl/time/clock.h"
#include "certs.h"
#include "exposition_parser.h"
#include "gtest/gtest.h"
#include "http_client.h"
#include "process.h"
#include "server.h"
#include "server_test_util.h"

namespace skillstore::server {
namespace {

namespace st = ::skillstore::server::testing;
using metrics::testing::Exposition;
using metrics::testing::HttpGet;
using metrics::testing::Labels;
using metrics::testing::ParseExposition;

double Get(const Exposition& e, std::string_view name, const Labels& labels = {}) {
  absl::StatusOr<double> value = e.Value(name, labels);
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? *value : -1;
}

class ServerCountersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options = st::TestServer::DefaultOptions();
    options.listen = "127.0.0.1:0";
    options.db_path = dir_.File("skillstore.db");
    options.metrics_listen = "127.0.0.1:0";
    options.store.lease_seconds = 1;
    options.write_loop.tick_ms = 50;
    auto server = SkillStoreServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_GT(server_->metrics_port(), 0);
    stub_ = v1::SkillStore::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }

  Exposition Scrape() {
    auto response = HttpGet(server_->metrics_port(), "/metrics");
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok()) return {};
    auto parsed = ParseExposition(response->body);
    EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << response->body;
    return parsed.ok() ? *std::move(parsed) : Exposition{};
  }

  // skillstore_tasks{status} is exactly GetProgress.
  void ExpectStatusGaugesMatchProgress(const Exposition& e) {
    const v1::Progress p = st::GetProgress(*stub_);
    EXPECT_EQ(Get(e, "skillstore_tasks", {{"status", "queued"}}), p.queued());
    EXPECT_EQ(Get(e, "skillstore_tasks", {{"status", "in_progress"}}), p.in_progress());
    EXPECT_EQ(Get(e, "skillstore_tasks", {{"status", "completed"}}), p.completed());
    EXPECT_EQ(Get(e, "skillstore_tasks", {{"status", "failed"}}), p.failed());
    EXPECT_EQ(Get(e, "skillstore_tasks", {{"status", "cancelled"}}), p.cancelled());
    EXPECT_EQ(Get(e, "skillstore_queue_depth"), p.queued());
  }

  skillstore::testing::TempDir dir_;
  std::unique_ptr<SkillStoreServer> server_;
  std::unique_ptr<v1::SkillStore::Stub> stub_;
};

TEST_F(ServerCountersTest, EveryTransitionIsCounted) {
  v1::TaskSpec first = st::Spec(v1::TASK_TYPE_PARSE, "a/SKILL.md");
  first.set_idempotency_key("once");
  st::Enqueue(*stub_, {first, st::Spec(v1::TASK_TYPE_PARSE, "b/SKILL.md"),
                       st::Spec(v1::TASK_TYPE_ANALYZE, "c/SKILL.md")});
  st::Enqueue(*stub_, {first});  // duplicate: not counted
  Exposition e = Scrape();
  EXPECT_EQ(Get(e, "skillstore_tasks_enqueued_total", {{"type", "parse"}}), 2);
  EXPECT_EQ(Get(e, "skillstore_tasks_enqueued_total", {{"type", "analyze"}}), 1);
  EXPECT_EQ(Get(e, "skillstore_tasks_enqueued_total", {{"type", "validate"}}), 0);
  EXPECT_GE(Get(e, "skillstore_queue_oldest_age_seconds"), 0);
  EXPECT_LT(Get(e, "skillstore_queue_oldest_age_seconds"), 60);
  ExpectStatusGaugesMatchProgress(e);

  // Completed, with its reported duration.
  v1::ClaimTaskResponse claim = st::Claim(*stub_, "w1", 1, 0, {v1::TASK_TYPE_PARSE});
  ASSERT_EQ(claim.tasks_size(), 1);
  v1::SubmitResultRequest success = st::Success(claim.tasks(0), "w1");
  success.mutable_metrics()->set_duration_seconds(0.75);
  ASSERT_TRUE(st::Submit(*stub_, success).accepted());
  e = Scrape();
  EXPECT_EQ(Get(e, "skillstore_tasks_claimed_total", {{"type", "parse"}}), 1);
  EXPECT_EQ(Get(e, "skillstore_tasks_completed_total", {{"type", "parse"}}), 1);
  EXPECT_EQ(Get(e, "skillstore_task_duration_seconds_count",
                {{"type", "parse"}, {"outcome", "succeeded"}}),
            1);
  EXPECT_EQ(Get(e, "skillstore_task_duration_seconds_sum",
                {{"type", "parse"}, {"outcome", "succeeded"}}),
            0.75);
  ExpectStatusGaugesMatchProgress(e);

  // A retryable failure: re-queued (retried), not failed.
  claim = st::Claim(*stub_, "w1", 1, 0, {v1::TASK_TYPE_PARSE});
  ASSERT_EQ(claim.tasks_size(), 1);
  ASSERT_TRUE(st::Submit(*stub_, st::Failure(claim.tasks(0), "w1", "flaky", true)).accepted());
  e = Scrape();
  EXPECT_EQ(Get(e, "skillstore_tasks_retried_total", {{"type", "parse"}}), 1);
  EXPECT_EQ(Get(e, "skillstore_tasks_failed_total", {{"type", "parse"}}), 0);
  EXPECT_EQ(Get(e, "skillstore_task_duration_seconds_count",
                {{"type", "parse"}, {"outcome", "failed"}}),
            1);

  // A lease left to expire: the reaper takes it back.
  v1::ClaimTaskResponse held;
  ASSERT_TRUE(st::WaitFor([&] {
    held = st::Claim(*stub_, "w2", 1, 0, {v1::TASK_TYPE_PARSE});  // after the backoff
    return held.tasks_size() == 1;
  }));
  ASSERT_TRUE(st::WaitFor(
      [&] { return Get(Scrape(), "skillstore_tasks_lease_expired_total", {{"type", "parse"}}) == 1; },
      absl::Seconds(30)));
  e = Scrape();
  EXPECT_EQ(Get(e, "skillstore_tasks_retried_total", {{"type", "parse"}}), 2);

  // Its late result is rejected as stale.
  const v1::SubmitResultResponse late = st::Submit(*stub_, st::Success(held.tasks(0), "w2"));
  EXPECT_FALSE(late.accepted());
  e = Scrape();
  EXPECT_EQ(Get(e, "skillstore_results_rejected_total", {{"reason", "stale_lease"}}), 1);

  // Cancel the analyze task.
  v1::ListTasksRequest list;
  list.set_type(v1::TASK_TYPE_ANALYZE);
  v1::ListTasksResponse tasks;
  ASSERT_TRUE(stub_->ListTasks(st::Context().get(), list, &tasks).ok());
  ASSERT_EQ(tasks.tasks_size(), 1);
  v1::CancelTaskRequest cancel;
  cancel.set_task_id(tasks.tasks(0).task_id());
  v1::CancelTaskResponse cancelled;
  ASSERT_TRUE(stub_->CancelTask(st::Context().get(), cancel, &cancelled).ok());

  e = Scrape();
  EXPECT_EQ(Get(e, "skillstore_tasks_cancelled_total", {{"type", "analyze"}}), 1);
  EXPECT_EQ(e.Sum("skillstore_tasks_claimed_total"), 3);
  ExpectStatusGaugesMatchProgress(e);
  // RPCs by method and code, from the interceptor.
  EXPECT_EQ(Get(e, "skillstore_rpc_handled_total",
                {{"service", "skillstore.v1.SkillStore"}, {"method", "Enqueue"}, {"code", "OK"}}),
            2);
  EXPECT_EQ(Get(e, "skillstore_rpc_handled_total",
                {{"service", "skillstore.v1.SkillStore"}, {"method", "CancelTask"}, {"code", "OK"}}),
            1);
  EXPECT_GT(Get(e, "skillstore_commit_batch_size_count"), 0);
  EXPECT_GT(e.Sum("skillstore_claim_wait_seconds_count"), 0);

  // A request the service refuses is counted with its code.
  v1::CancelTaskRequest missing;
  missing.set_task_id("999999");
  EXPECT_EQ(stub_->CancelTask(st::Context().get(), missing, &cancelled).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Get(Scrape(), "skillstore_rpc_handled_total",
                {{"service", "skillstore.v1.SkillStore"},
                 {"method", "CancelTask"},
                 {"code", "NOT_FOUND"}}),
            1);
}

TEST(ServerMetricsOffTest, NoEndpointByDefault) {
  skillstore::testing::TempDir dir;
  ServerOptions options = st::TestServer::DefaultOptions();
  options.listen = "127.0.0.1:0";
  options.db_path = dir.File("skillstore.db");
  auto server = SkillStoreServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->metrics_port(), 0);
}

TEST(ServerMetricsOffTest, UnusableMetricsAddressFailsTheStart) {
  skillstore::testing::TempDir dir;
  ServerOptions options = st::TestServer::DefaultOptions();
  options.listen = "127.0.0.1:0";
  options.db_path = dir.File("skillstore.db");
  options.metrics_listen = "127.0.0.1";  // no port
  auto server = SkillStoreServer::Start(options);
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << server.status();
}

// With TLS: the served certificate's expiry (what an alert on a renewal that
// never happened watches) and every check of the files by outcome; without
// TLS neither exists.
TEST(ServerTlsMetricsTest, ExpiryAndReloadsAreExposed) {
  skillstore::testing::TempDir dir;
  absl::StatusOr<skillstore::testing::TestCertificates> certs =
      skillstore::testing::MakeTestCertificates(dir.path());
  ASSERT_TRUE(certs.ok()) << certs.status();
  const std::string cert = dir.File("live.pem");
  const std::string key = dir.File("live.key");
  auto install = [&](const std::string& from_cert, const std::string& from_key) {
    std::filesystem::copy_file(from_cert, cert, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(from_key, key, std::filesystem::copy_options::overwrite_existing);
  };
  install(certs->server_cert, certs->server_key);

  ServerOptions options = st::TestServer::DefaultOptions();
  options.listen = "127.0.0.1:0";
  options.db_path = dir.File("skillstore.db");
  options.metrics_listen = "127.0.0.1:0";
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  options.tls_reload_interval = absl::ZeroDuration();  // only ReloadTls below
  auto server = SkillStoreServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto scrape = [&] {
    auto response = HttpGet((*server)->metrics_port(), "/metrics");
    EXPECT_TRUE(response.ok()) << response.status();
    auto parsed = ParseExposition(response.ok() ? response->body : "");
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return parsed.ok() ? *std::move(parsed) : Exposition{};
  };

  // The test certificates are valid for two days from their making.
  const double in_two_days = absl::ToUnixSeconds(absl::Now() + absl::Hours(48));
  Exposition e = scrape();
  EXPECT_NEAR(Get(e, "skillstore_tls_certificate_expiry_timestamp_seconds"), in_two_days, 3600);
  for (const char* result : {"changed", "unchanged", "failed"}) {
    EXPECT_EQ(Get(e, "skillstore_tls_reloads_total", {{"result", result}}), 0) << result;
  }

  ASSERT_TRUE((*server)->ReloadTls().ok());  // nothing new
  install(certs->other_server_cert, certs->other_server_key);
  absl::StatusOr<bool> renewed = (*server)->ReloadTls();
  ASSERT_TRUE(renewed.ok() && *renewed) << renewed.status();
  std::ofstream(key, std::ios::trunc) << "not a key\n";
  EXPECT_FALSE((*server)->ReloadTls().ok());
  e = scrape();
  EXPECT_EQ(Get(e, "skillstore_tls_reloads_total", {{"result", "changed"}}), 1);
  EXPECT_EQ(Get(e, "skillstore_tls_reloads_total", {{"result", "unchanged"}}), 1);
  EXPECT_EQ(Get(e, "skillstore_tls_reloads_total", {{"result", "failed"}}), 1);
  EXPECT_NEAR(Get(e, "skillstore_tls_certificate_expiry_timestamp_seconds"), in_two_days, 3600);
  e = scrape();  // counted once, not again at every scrape
  EXPECT_EQ(Get(e, "skillstore_tls_reloads_total", {{"result", "failed"}}), 1);

  // Plaintext: no TLS series at all.
  ServerOptions plain = st::TestServer::DefaultOptions();
  plain.listen = "127.0.0.1:0";
  plain.db_path = dir.File("plain.db");
  plain.metrics_listen = "127.0.0.1:0";
  auto plain_server = SkillStoreServer::Start(plain);
  ASSERT_TRUE(plain_server.ok()) << plain_server.status();
  auto response = HttpGet((*plain_server)->metrics_port(), "/metrics");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body.find("skillstore_tls_"), std::string::npos);
}

}  // namespace
}  // namespace skillstore::server
