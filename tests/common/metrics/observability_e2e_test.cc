// Observability end to end, with real processes: a skillstore-server and two
// skill-workers with --metrics-listen and --log-format json drain a mix of
// tasks (good parse and analyze tasks, malformed ones that end failed, a
// duplicate enqueue). Then:
//   * the server's /metrics parses strictly, and its counters agree with
//     GetProgress and with the SQLite file (status counts, completions and
//     failures by type, claims = attempt rows, durations = results);
//   * the workers' /metrics parse and add up to the same completions;
//   * every line the three processes logged is a JSON object with ts, level,
//     component and msg, and task lines carry task_id / worker_id / attempt;
//   * every metric the Grafana dashboard queries exists in a scrape.
#include <signal.h>
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "exposition_parser.h"
#include "gtest/gtest.h"
#include "http_client.h"
#include "nlohmann/json.hpp"
#include "process.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace skillstore::metrics {
namespace {

namespace v1 = ::skillstore::v1;
using skillstore::testing::BinaryPath;
using skillstore::testing::ChildProcess;
using skillstore::testing::ServerProcess;
using skillstore::testing::SourceDir;
using skillstore::testing::TempDir;
using testing::Exposition;
using testing::HttpGet;
using testing::ParseExposition;

constexpr char kSkill[] = R"(---
name: metrics-test
description: A small skill used by the observability test.
---
# Metrics test

## Instructions
- Read the input file named by the user.
- Always validate the output before writing it.
- Never run `rm -rf /` or delete files outside the working directory.
)";

constexpr int kParse = 30;
constexpr int kAnalyze = 15;
constexpr int kBad = 5;  // invalid UTF-8: failed, not retryable

bool WaitUntil(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return condition();
}

// The port from the "metrics at http://127.0.0.1:PORT/metrics" log line.
int MetricsPort(ChildProcess& process) {
  constexpr std::string_view kNeedle = "metrics at http://127.0.0.1:";
  absl::StatusOr<std::string> line = process.WaitForLogLine(kNeedle, absl::Seconds(60));
  if (!line.ok()) {
    ADD_FAILURE() << line.status() << "\n" << process.ReadLog();
    return 0;
  }
  std::string rest = line->substr(line->find(kNeedle) + kNeedle.size());
  size_t digits = 0;
  while (digits < rest.size() && isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
  int port = 0;
  EXPECT_TRUE(absl::SimpleAtoi(rest.substr(0, digits), &port)) << *line;
  return port;
}

// The sample's value; a test failure (and -1) when it is missing.
double Get(const Exposition& e, std::string_view name, const testing::Labels& labels = {}) {
  absl::StatusOr<double> value = e.Value(name, labels);
  if (!value.ok()) {
    std::string text;
    for (const auto& [k, v] : labels) text += k + "=" + v + " ";
    ADD_FAILURE() << "no sample " << name << " {" << text << "}";
    return -1;
  }
  return *value;
}

Exposition Scrape(int port) {
  absl::StatusOr<testing::HttpResponse> response = HttpGet(port, "/metrics");
  if (!response.ok()) {
    ADD_FAILURE() << response.status();
    return {};
  }
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  absl::StatusOr<Exposition> parsed = ParseExposition(response->body);
  if (!parsed.ok()) {
    ADD_FAILURE() << parsed.status() << "\n" << response->body;
    return {};
  }
  return *std::move(parsed);
}

// One integer from a query on the database file (read-only, beside the
// running server thanks to WAL).
int64_t QueryInt(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  int64_t value = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    } else {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return value;
}

// Every non-empty line of `log` parsed as JSON (a failure per bad line).
std::vector<nlohmann::json> JsonLines(const std::string& log, const std::string& what) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_object()) {
      ADD_FAILURE() << what << ": not a JSON object: " << line;
      continue;
    }
    for (const char* key : {"ts", "level", "component", "msg"}) {
      EXPECT_TRUE(parsed.contains(key) && parsed[key].is_string()) << what << ": " << line;
    }
    lines.push_back(std::move(parsed));
  }
  return lines;
}

class ObservabilityTest : public ::testing::Test {
 protected:
  std::string db_path() const { return dir_.File("skillstore.db"); }

  void Enqueue(const std::vector<v1::TaskSpec>& specs) {
    v1::EnqueueRequest request;
    for (const v1::TaskSpec& spec : specs) *request.add_tasks() = spec;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::EnqueueResponse response;
    const grpc::Status status = stub_->Enqueue(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ++enqueue_calls_;
  }

  v1::Progress Progress() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::Progress progress;
    if (!stub_->GetProgress(&context, v1::GetProgressRequest(), &progress).ok()) {
      progress.set_total(-1);
    }
    return progress;
  }

  std::unique_ptr<ChildProcess> StartWorker(const std::string& id) {
    auto worker = ChildProcess::Start(
        {BinaryPath("skill-worker"), "--server", server_->address(), "--worker-id", id,
         // A fixed prefetch: with the auto one, the first worker may claim
         // every task of this short run before the second one asks.
         "--concurrency", "2", "--prefetch", "2", "--metrics-listen", "127.0.0.1:0",
         "--log-format", "json"},
        dir_.File(id + ".log"));
    EXPECT_TRUE(worker.ok()) << worker.status();
    return worker.ok() ? std::move(*worker) : nullptr;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::SkillStore::Stub> stub_;
  int enqueue_calls_ = 0;
};

TEST_F(ObservabilityTest, MetricsAgreeWithProgressAndTheDatabase) {
  auto server = ServerProcess::Start(db_path(), dir_.File("server.log"),
                                     {"--metrics-listen", "127.0.0.1:0", "--log-format", "json"});
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = std::move(*server);
  stub_ = v1::SkillStore::NewStub(
      grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  const int server_port = MetricsPort(server_->process());
  ASSERT_GT(server_port, 0);

  // Before any task: every status series exists, at zero.
  {
    const Exposition empty = Scrape(server_port);
    for (const char* status : {"queued", "in_progress", "completed", "failed", "cancelled"}) {
      EXPECT_EQ(Get(empty, "skillstore_tasks", {{"status", status}}), 0) << status;
    }
    EXPECT_EQ(Get(empty, "skillstore_tasks_completed_total", {{"type", "parse"}}), 0);
  }

  std::vector<v1::TaskSpec> specs;
  for (int i = 0; i < kParse + kAnalyze + kBad; ++i) {
    v1::TaskSpec spec;
    spec.set_type(i < kParse + kBad ? v1::TASK_TYPE_PARSE : v1::TASK_TYPE_ANALYZE);
    spec.set_skill_path(absl::StrCat("metrics-test/", i, "/SKILL.md"));
    if (i >= kParse && i < kParse + kBad) {
      spec.set_content("\xff\xfe not UTF-8 \xc3");
      spec.set_max_attempts(1);
    } else {
      spec.set_content(kSkill);
    }
    if (i == 0) spec.set_idempotency_key("metrics-test-once");
    specs.push_back(std::move(spec));
  }
  Enqueue(specs);
  // The same key again: deduplicated, not counted as enqueued.
  Enqueue({specs[0]});
  constexpr int kTotal = kParse + kAnalyze + kBad;

  auto worker_a = StartWorker("metrics-worker-a");
  auto worker_b = StartWorker("metrics-worker-b");
  ASSERT_NE(worker_a, nullptr);
  ASSERT_NE(worker_b, nullptr);
  const int port_a = MetricsPort(*worker_a);
  const int port_b = MetricsPort(*worker_b);

  // A scrape mid-run parses too.
  Scrape(server_port);

  ASSERT_TRUE(WaitUntil(
      [&] {
        const v1::Progress p = Progress();
        return p.total() == kTotal && p.completed() + p.failed() == kTotal;
      },
      absl::Seconds(120)))
      << Progress().DebugString();
  const v1::Progress progress = Progress();
  EXPECT_EQ(progress.completed(), kParse + kAnalyze);
  EXPECT_EQ(progress.failed(), kBad);

  // --- The server's metrics against GetProgress and the database.
  const Exposition s = Scrape(server_port);
  const std::string db = db_path();
  const std::map<std::string, int64_t> by_status = {
      {"queued", progress.queued()},       {"in_progress", progress.in_progress()},
      {"completed", progress.completed()}, {"failed", progress.failed()},
      {"cancelled", progress.cancelled()}};
  for (const auto& [status, count] : by_status) {
    EXPECT_EQ(Get(s, "skillstore_tasks", {{"status", status}}), count) << status;
    EXPECT_EQ(QueryInt(db, absl::StrCat("SELECT COUNT(*) FROM tasks WHERE status = '", status, "'")),
              count)
        << status;
  }
  for (const char* type : {"parse", "analyze"}) {
    const std::string where = absl::StrCat(" WHERE task_type = '", type, "'");
    EXPECT_EQ(Get(s, "skillstore_tasks_completed_total", {{"type", type}}),
              QueryInt(db, absl::StrCat("SELECT COUNT(*) FROM tasks", where,
                                        " AND status = 'completed'")))
        << type;
    EXPECT_EQ(Get(s, "skillstore_tasks_failed_total", {{"type", type}}),
              QueryInt(db, absl::StrCat("SELECT COUNT(*) FROM tasks", where,
                                        " AND status = 'failed'")))
        << type;
    EXPECT_EQ(Get(s, "skillstore_tasks_enqueued_total", {{"type", type}}),
              QueryInt(db, absl::StrCat("SELECT COUNT(*) FROM tasks", where)))
        << type;
  }
  EXPECT_EQ(s.Sum("skillstore_tasks_completed_total"), progress.completed());
  EXPECT_EQ(s.Sum("skillstore_tasks_failed_total"), progress.failed());
  EXPECT_EQ(s.Sum("skillstore_tasks_enqueued_total"), kTotal);  // the duplicate is not counted
  // One claim per attempt: a row in attempts for each that ended without
  // success, the completed task row for each that succeeded
  // (server/task_writer.h). One duration per stored result.
  const char* const kAttemptsEnded =
      "SELECT (SELECT COUNT(*) FROM attempts) + "
      "(SELECT COUNT(*) FROM tasks WHERE status = 'completed')";
  EXPECT_EQ(s.Sum("skillstore_tasks_claimed_total"), QueryInt(db, kAttemptsEnded));
  EXPECT_EQ(s.Sum("skillstore_task_duration_seconds_count"),
            QueryInt(db, "SELECT COUNT(*) FROM results"));
  EXPECT_EQ(Get(s, "skillstore_task_duration_seconds_count",
                     {{"type", "parse"}, {"outcome", "succeeded"}}),
            kParse);
  EXPECT_EQ(s.Sum("skillstore_tasks_lease_expired_total"), 0);
  EXPECT_EQ(Get(s, "skillstore_queue_depth"), 0);
  EXPECT_EQ(Get(s, "skillstore_queue_oldest_age_seconds"), 0);
  EXPECT_EQ(Get(s, "skillstore_workers_active"), progress.active_workers());
  EXPECT_GT(Get(s, "skillstore_commit_batch_size_count"), 0);
  EXPECT_GT(Get(s, "skillstore_commit_duration_seconds_count"), 0);
  // --synchronous full (the default): the replies waited for WAL syncs.
  EXPECT_GT(Get(s, "skillstore_wal_sync_duration_seconds_count"), 0);
  EXPECT_GT(s.Sum("skillstore_claim_wait_seconds_count", {{"outcome", "task"}}), 0);
  const testing::Labels enqueue_ok = {
      {"service", "skillstore.v1.SkillStore"}, {"method", "Enqueue"}, {"code", "OK"}};
  EXPECT_EQ(Get(s, "skillstore_rpc_handled_total", enqueue_ok), enqueue_calls_);
  EXPECT_GT(s.Sum("skillstore_rpc_handled_total", {{"method", "ClaimTask"}}), 0);
  EXPECT_GT(s.Sum("skillstore_rpc_handled_total", {{"method", "GetProgress"}}), 0);

  // --- The workers' metrics add up to the same completions.
  const Exposition a = Scrape(port_a);
  const Exposition b = Scrape(port_b);
  EXPECT_EQ(a.Sum("skill_worker_tasks_processed_total", {{"outcome", "succeeded"}}) +
                b.Sum("skill_worker_tasks_processed_total", {{"outcome", "succeeded"}}),
            progress.completed());
  EXPECT_EQ(a.Sum("skill_worker_tasks_processed_total") +
                b.Sum("skill_worker_tasks_processed_total"),
            QueryInt(db, kAttemptsEnded));
  EXPECT_EQ(Get(a, "skill_worker_active_tasks") + Get(b, "skill_worker_active_tasks"), 0);
  EXPECT_GT(a.Sum("skill_worker_claims_total", {{"result", "tasks"}}) +
                b.Sum("skill_worker_claims_total", {{"result", "tasks"}}),
            0);
  EXPECT_EQ(a.Sum("skill_worker_results_acked_total", {{"result", "accepted"}}) +
                b.Sum("skill_worker_results_acked_total", {{"result", "accepted"}}),
            QueryInt(db, kAttemptsEnded));

  // --- Every metric the dashboard queries exists.
  std::ifstream file(SourceDir() + "/deploy/grafana/skillstore-dashboard.json");
  ASSERT_TRUE(file.good());
  const nlohmann::json dashboard = nlohmann::json::parse(file);
  std::set<std::string> families;
  for (const Exposition* e : {&s, &a, &b}) {
    for (const auto& [name, family] : e->families) families.insert(name);
  }
  const std::regex metric_name("\\b(skillstore_[a-z_]+|skill_worker_[a-z_]+)");
  int queried = 0;
  for (const nlohmann::json& panel : dashboard["panels"]) {
    if (!panel.contains("targets")) continue;
    for (const nlohmann::json& target : panel["targets"]) {
      const std::string expr = target["expr"];
      for (std::sregex_iterator it(expr.begin(), expr.end(), metric_name), end; it != end; ++it) {
        std::string name = (*it)[1];
        for (const char* suffix : {"_bucket", "_sum", "_count"}) {
          const std::string s_suffix = suffix;
          if (name.size() > s_suffix.size() &&
              name.compare(name.size() - s_suffix.size(), s_suffix.size(), s_suffix) == 0 &&
              families.count(name.substr(0, name.size() - s_suffix.size())) > 0) {
            name = name.substr(0, name.size() - s_suffix.size());
          }
        }
        EXPECT_TRUE(families.count(name) > 0)
            << "the dashboard queries " << name << ", which no scrape has";
        ++queried;
      }
    }
  }
  EXPECT_GT(queried, 20);

  // --- Shut everything down and read the logs.
  worker_a->Signal(SIGTERM);
  worker_b->Signal(SIGTERM);
  for (ChildProcess* process : {worker_a.get(), worker_b.get(), &server_->process()}) {
    if (process == &server_->process()) process->Signal(SIGTERM);  // after the workers
    absl::StatusOr<int> code = process->Wait(absl::Seconds(60));
    ASSERT_TRUE(code.ok()) << code.status();
    EXPECT_EQ(*code, 0) << process->log_path();
  }

  const std::vector<nlohmann::json> server_lines =
      JsonLines(server_->process().ReadLog(), "server log");
  EXPECT_FALSE(server_lines.empty());
  bool dead_letter_line = false;
  for (const nlohmann::json& line : server_lines) {
    EXPECT_EQ(line["component"], "skillstore-server");
    const std::string msg = line["msg"];
    if (msg.find("failed after attempt") != std::string::npos) {
      dead_letter_line = true;
      EXPECT_TRUE(line.contains("task_id") && line.contains("worker_id") &&
                  line.contains("attempt"))
          << line.dump();
    }
  }
  EXPECT_TRUE(dead_letter_line) << "no line for the tasks that ended failed";

  for (const auto* worker : {worker_a.get(), worker_b.get()}) {
    const std::vector<nlohmann::json> lines = JsonLines(worker->ReadLog(), worker->log_path());
    EXPECT_FALSE(lines.empty());
    int task_lines = 0;
    for (const nlohmann::json& line : lines) {
      EXPECT_EQ(line["component"], "skill-worker");
      EXPECT_TRUE(line.contains("worker_id")) << line.dump();
      if (line.contains("task_id")) {
        ++task_lines;
        EXPECT_TRUE(line.contains("attempt")) << line.dump();
      }
    }
    EXPECT_GT(task_lines, 0) << worker->log_path();
  }
}

// --metrics-token-file on both binaries: a scrape without the token gets
// 401, one with it the metrics.
TEST_F(ObservabilityTest, AMetricsTokenFileGuardsBothEndpoints) {
  const std::string token_file = dir_.File("metrics.token");
  std::ofstream(token_file) << "sks_metrics-scrape-token\n";
  const std::vector<std::string> flags = {"--metrics-listen", "127.0.0.1:0", "--metrics-token-file",
                                          token_file};
  auto server = ServerProcess::Start(db_path(), dir_.File("server.log"), flags);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = std::move(*server);
  std::vector<std::string> worker_argv = {BinaryPath("skill-worker"), "--server",
                                          server_->address(), "--worker-id", "scraped"};
  worker_argv.insert(worker_argv.end(), flags.begin(), flags.end());
  auto worker = ChildProcess::Start(worker_argv, dir_.File("scraped.log"));
  ASSERT_TRUE(worker.ok()) << worker.status();

  for (ChildProcess* process : {&server_->process(), worker->get()}) {
    const int port = MetricsPort(*process);
    ASSERT_GT(port, 0) << process->ReadLog();
    absl::StatusOr<testing::HttpResponse> refused = HttpGet(port, "/metrics");
    ASSERT_TRUE(refused.ok()) << refused.status();
    EXPECT_EQ(refused->status, 401);
    absl::StatusOr<testing::HttpResponse> scraped = testing::SendRawRequest(
        port, "GET /metrics HTTP/1.1\r\nAuthorization: Bearer sks_metrics-scrape-token\r\n\r\n");
    ASSERT_TRUE(scraped.ok()) << scraped.status();
    EXPECT_EQ(scraped->status, 200);
    EXPECT_TRUE(ParseExposition(scraped->body).ok()) << scraped->body;
  }

  // A rotated token takes effect on SIGHUP, without a restart.
  std::ofstream(token_file, std::ios::trunc) << "sks_rotated-scrape-token\n";
  auto status_with = [](int port, const std::string& token) {
    absl::StatusOr<testing::HttpResponse> response = testing::SendRawRequest(
        port, "GET /metrics HTTP/1.1\r\nAuthorization: Bearer " + token + "\r\n\r\n");
    return response.ok() ? response->status : -1;
  };
  for (ChildProcess* process : {&server_->process(), worker->get()}) {
    const int port = MetricsPort(*process);
    EXPECT_EQ(status_with(port, "sks_rotated-scrape-token"), 401);  // not before the signal
    process->Signal(SIGHUP);
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (status_with(port, "sks_rotated-scrape-token") != 200 && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    EXPECT_EQ(status_with(port, "sks_rotated-scrape-token"), 200) << process->ReadLog();
    EXPECT_EQ(status_with(port, "sks_metrics-scrape-token"), 401);
    EXPECT_NE(process->ReadLog().find("/metrics: reloaded its token from " + token_file),
              std::string::npos)
        << process->ReadLog();
  }
}

}  // namespace
}  // namespace skillstore::metrics
