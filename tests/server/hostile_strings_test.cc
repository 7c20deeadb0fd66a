// Hostile strings in every text field the API stores — skill_path,
// idempotency_key, metadata keys and values, worker_id, hostname, error text,
// result JSON, content bytes: SQL metacharacters, embedded NULs, quotes,
// format directives, control characters, non-ASCII, 1 MB values. Each is
// stored and returned byte for byte, or refused with INVALID_ARGUMENT where a
// size limit applies; the database stays whole.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server_test_util.h"

namespace skillstore::server::testing {
namespace {

std::vector<std::string> HostileStrings() {
  using namespace std::string_literals;
  return {
      "'); DROP TABLE tasks;--",
      "\" OR 1=1 --",
      "x'; DELETE FROM workers WHERE '1'='1",
      "a\0b"s,
      "\0"s,
      "trailing nul\0"s,
      "héllo wörld — 日本語 🙂 \u202e gnp.exe",
      "%s%n%x {} {0} {:>99999}",
      "line1\nline2\r\n\ttab \x1b[31mred\x1b[0m \x7f",
      "\\\\server\\share ../../etc/passwd",
      "{\"json\": [1, 2, \"3\"]}",
      "<script>alert(1)</script>",
      std::string(100, '\''),
  };
}

TEST(HostileStringsTest, EveryTextFieldRoundTripsByteForByte) {
  TestServer server;
  const std::vector<std::string> strings = HostileStrings();
  int index = 0;
  for (const std::string& s : strings) {
    SCOPED_TRACE(absl::StrCat("string #", index, " (", s.size(), " bytes)"));
    const std::string key = absl::StrCat(s, "#", index);  // idempotency keys must differ
    v1::TaskSpec spec = Spec(v1::TASK_TYPE_PARSE, s);
    spec.set_content(s.empty() ? std::string("x") : s);
    spec.set_idempotency_key(key);
    (*spec.mutable_metadata())[s] = s;
    (*spec.mutable_metadata())["other"] = s + s;
    std::vector<std::string> ids = Enqueue(server.stub(), {spec});
    ASSERT_EQ(ids.size(), 1u);

    // Enqueueing the same key again finds the same task.
    std::vector<std::string> again = Enqueue(server.stub(), {spec});
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0], ids[0]);

    v1::GetTaskRequest get;
    get.set_task_id(ids[0]);
    get.set_include_content(true);
    v1::GetTaskResponse task;
    ASSERT_TRUE(server.stub().GetTask(Context().get(), get, &task).ok());
    EXPECT_EQ(task.task().skill_path(), s);
    EXPECT_EQ(task.task().idempotency_key(), key);
    EXPECT_EQ(task.content(), spec.content());
    ASSERT_EQ(task.task().metadata().count(s), 1u);
    EXPECT_EQ(task.task().metadata().at(s), s);
    EXPECT_EQ(task.task().metadata().at("other"), s + s);

    // A worker with a hostile id and hostname claims it and gets it intact.
    v1::ClaimTaskRequest claim;
    claim.set_worker_id(s.empty() ? std::string("w") : s);
    claim.set_hostname(s);
    claim.set_max_tasks(1);
    v1::ClaimTaskResponse claimed;
    ASSERT_TRUE(server.stub().ClaimTask(Context().get(), claim, &claimed).ok());
    ASSERT_EQ(claimed.tasks_size(), 1);
    const v1::ClaimedTask& leased = claimed.tasks(0);
    EXPECT_EQ(leased.task_id(), ids[0]);
    EXPECT_EQ(leased.skill_path(), s);
    EXPECT_EQ(leased.content(), spec.content());
    EXPECT_EQ(leased.metadata().at(s), s);

    // Odd ones fail with the string as their error, even ones succeed with it
    // inside their result JSON.
    const bool fail = index % 2 == 1;
    const std::string result_json = nlohmann::json({{"value", s}}).dump();
    v1::SubmitResultResponse ack =
        Submit(server.stub(), fail ? Failure(leased, claim.worker_id(), s + "!", false)
                                   : Success(leased, claim.worker_id(), result_json));
    ASSERT_TRUE(ack.accepted()) << ack.message();

    v1::GetResultRequest result_request;
    result_request.set_task_id(ids[0]);
    v1::GetResultResponse result;
    ASSERT_TRUE(server.stub().GetResult(Context().get(), result_request, &result).ok());
    EXPECT_EQ(result.skill_path(), s);
    if (fail) {
      EXPECT_EQ(result.error(), s + "!");
    } else {
      EXPECT_EQ(result.result_json(), result_json);
    }
    v1::GetTaskResponse done = GetTask(server.stub(), ids[0]);
    EXPECT_EQ(done.task().worker_id(), claim.worker_id());
    ASSERT_EQ(done.attempts_size(), 1);
    EXPECT_EQ(done.attempts(0).worker_id(), claim.worker_id());
    if (fail) {
      EXPECT_EQ(done.task().last_error(), s + "!");
      EXPECT_EQ(done.attempts(0).error(), s + "!");
    }
    ++index;
  }

  // Every worker id is listed as sent.
  v1::ListWorkersResponse workers;
  ASSERT_TRUE(server.stub().ListWorkers(Context().get(), v1::ListWorkersRequest(), &workers).ok());
  for (const std::string& s : strings) {
    if (s.empty()) continue;
    bool found = false;
    for (const v1::WorkerInfo& worker : workers.workers()) {
      if (worker.worker_id() == s) {
        found = true;
        EXPECT_EQ(worker.hostname(), s);
      }
    }
    EXPECT_TRUE(found) << "worker id of " << s.size() << " bytes not listed";
  }
  // The tables are all still there and counted right.
  v1::Progress progress = GetProgress(server.stub());
  EXPECT_EQ(progress.total(), static_cast<int64_t>(strings.size()));
  EXPECT_EQ(progress.completed() + progress.failed(), static_cast<int64_t>(strings.size()));
  // And survive a restart (read back from SQLite, not from memory).
  server.Restart();
  EXPECT_EQ(GetProgress(server.stub()).total(), static_cast<int64_t>(strings.size()));
}

TEST(HostileStringsTest, MegabyteValues) {
  TestServer server;
  const std::string mb(1 << 20, 'Z');
  std::string binary(1 << 20, '\0');
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i * 7919 % 256);

  // Fields with a size limit refuse it with the limit named.
  struct Case {
    std::string name;
    std::function<void(v1::TaskSpec&)> set;
    std::string expected;
  };
  const std::vector<Case> refused = {
      {"skill_path", [&](v1::TaskSpec& t) { t.set_skill_path(mb); }, "skill_path is longer than"},
      {"idempotency_key", [&](v1::TaskSpec& t) { t.set_idempotency_key(mb); },
       "idempotency_key is longer than"},
      {"metadata value", [&](v1::TaskSpec& t) { (*t.mutable_metadata())["k"] = mb; },
       "metadata is"},
      {"metadata key", [&](v1::TaskSpec& t) { (*t.mutable_metadata())[mb] = "v"; }, "metadata is"},
  };
  for (const Case& c : refused) {
    SCOPED_TRACE(c.name);
    v1::EnqueueRequest request;
    v1::TaskSpec* spec = request.add_tasks();
    *spec = Spec(v1::TASK_TYPE_PARSE, "mb");
    c.set(*spec);
    v1::EnqueueResponse response;
    grpc::Status status = server.stub().Enqueue(Context().get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find(c.expected), std::string::npos)
        << status.error_message().substr(0, 300);
  }
  // A refusal names the task by its skill_path, escaped and cut short: the
  // status travels in a header, and its reader may be a terminal.
  {
    v1::EnqueueRequest request;
    *request.add_tasks() = Spec(v1::TASK_TYPE_UNSPECIFIED, std::string(4000, '\x1b'));
    v1::EnqueueResponse response;
    grpc::Status status = server.stub().Enqueue(Context().get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_LT(status.error_message().size(), 512u) << status.error_message().substr(0, 600);
    EXPECT_NE(status.error_message().find("'\\x1b\\x1b"), std::string::npos)
        << status.error_message().substr(0, 600);
    EXPECT_NE(status.error_message().find("(4000 bytes)"), std::string::npos)
        << status.error_message();
    EXPECT_EQ(status.error_message().find('\x1b'), std::string::npos);
  }
  v1::ClaimTaskRequest claim;
  claim.set_worker_id(mb);
  v1::ClaimTaskResponse claimed;
  EXPECT_EQ(server.stub().ClaimTask(Context().get(), claim, &claimed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(GetProgress(server.stub()).total(), 0);

  // Content (any bytes) is stored whole; an error text is cut at 16 KiB, at
  // a character boundary, with its full length noted.
  v1::TaskSpec spec = Spec(v1::TASK_TYPE_PARSE, "binary");
  spec.set_content(binary);
  std::vector<std::string> ids = Enqueue(server.stub(), {spec});
  ASSERT_EQ(ids.size(), 1u);
  claimed = Claim(server.stub(), "w");
  ASSERT_EQ(claimed.tasks_size(), 1);
  EXPECT_EQ(claimed.tasks(0).content(), binary);
  std::string error = "E";
  while (error.size() < (1 << 20)) error += "\xC3\xA9";  // é: byte 16384 is inside one
  ASSERT_TRUE(Submit(server.stub(), Failure(claimed.tasks(0), "w", error, false)).accepted());
  v1::GetResultRequest get;
  get.set_task_id(ids[0]);
  v1::GetResultResponse result;
  ASSERT_TRUE(server.stub().GetResult(Context().get(), get, &result).ok());
  const std::string kept = error.substr(0, 16383) + "... (cut: 1048577 bytes)";
  EXPECT_TRUE(result.error() == kept) << result.error().substr(16300);
  EXPECT_TRUE(GetTask(server.stub(), ids[0]).task().last_error() == kept);
}

// ListWorkers comes in pages of at most 1000 workers, so a fleet whose
// restarts left thousands of ids behind still fits a default client; the
// page token carries any bytes a worker id holds.
TEST(HostileStringsTest, ListWorkersPagesListEveryWorkerOnce) {
  TestServer server;
  constexpr int kWorkers = 2100;
  std::set<std::string> ids;
  for (int i = 0; i < kWorkers; ++i) {
    v1::HeartbeatRequest heartbeat;
    std::string id = absl::StrCat("w\x01'\xc3\xa9", i, std::string(200, 'x'));
    if (i % 3 == 0) id += '\0';
    heartbeat.set_worker_id(id);
    v1::HeartbeatResponse beat;
    ASSERT_TRUE(server.stub().Heartbeat(Context().get(), heartbeat, &beat).ok());
    ids.insert(id);
  }
  auto default_client = v1::SkillStore::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  for (int page_size : {0, 7}) {
    SCOPED_TRACE(page_size);
    std::set<std::string> listed;
    std::string previous;
    v1::ListWorkersRequest list;
    list.set_page_size(page_size);
    int pages = 0;
    do {
      v1::ListWorkersResponse page;
      const grpc::Status status = default_client->ListWorkers(Context().get(), list, &page);
      ASSERT_TRUE(status.ok()) << status.error_message();
      EXPECT_LE(page.workers_size(), page_size == 0 ? 1000 : page_size);
      for (const v1::WorkerInfo& worker : page.workers()) {
        EXPECT_GT(worker.worker_id(), previous);
        previous = worker.worker_id();
        EXPECT_TRUE(listed.insert(worker.worker_id()).second);
      }
      list.set_page_token(page.next_page_token());
      ++pages;
    } while (!list.page_token().empty() && pages < 1000);
    EXPECT_EQ(listed, ids);
    EXPECT_EQ(pages, page_size == 0 ? 3 : (kWorkers + 6) / 7);
  }
  v1::ListWorkersRequest forged;
  forged.set_page_token("not a token");
  v1::ListWorkersResponse none;
  const grpc::Status refused = server.stub().ListWorkers(Context().get(), forged, &none);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(refused.error_message().find("pass next_page_token"), std::string::npos);
}

// A page of ListTasks ends by size too, so a client with gRPC's default
// 4 MiB receive limit can read every page; following next_page_token still
// lists every task once.
TEST(HostileStringsTest, ListTasksPagesStaySmallEnoughToReceive) {
  TestServer server;
  constexpr int kTasks = 150;
  std::vector<v1::TaskSpec> specs;
  for (int i = 0; i < kTasks; ++i) specs.push_back(Spec(v1::TASK_TYPE_PARSE, "big-error"));
  Enqueue(server.stub(), specs);
  const std::string error(20000, 'e');  // cut to 16 KiB: 150 of them are over 2 MiB
  for (int claimed = 0; claimed < kTasks;) {
    v1::ClaimTaskResponse claim = Claim(server.stub(), "w", 50);
    ASSERT_GT(claim.tasks_size(), 0);
    for (const v1::ClaimedTask& task : claim.tasks()) {
      ASSERT_TRUE(Submit(server.stub(), Failure(task, "w", error, false)).accepted());
    }
    claimed += claim.tasks_size();
  }
  std::set<std::string> listed;
  v1::ListTasksRequest list;
  list.set_page_size(1000);
  int pages = 0;
  do {
    v1::ListTasksResponse page;
    ASSERT_TRUE(server.stub().ListTasks(Context().get(), list, &page).ok());
    EXPECT_LT(page.ByteSizeLong(), 4u << 20);
    for (const v1::TaskInfo& task : page.tasks()) EXPECT_TRUE(listed.insert(task.task_id()).second);
    list.set_page_token(page.next_page_token());
    ++pages;
  } while (!list.page_token().empty());
  EXPECT_EQ(listed.size(), static_cast<size_t>(kTasks));
  EXPECT_GE(pages, 2);
}

// result_json is `bytes` on the wire: the server itself refuses a result that
// is not UTF-8 JSON (it could not be returned by GetResult as a string, or
// read as JSON by anyone), keeps the lease, and takes a good result for the
// same lease afterwards.
TEST(HostileStringsTest, ResultThatIsNotUtf8JsonIsRefusedAndTheLeaseKept) {
  TestServer server;
  std::vector<std::string> ids = Enqueue(server.stub(), {Spec(v1::TASK_TYPE_PARSE, "utf8")});
  ASSERT_EQ(ids.size(), 1u);
  v1::ClaimTaskResponse claimed = Claim(server.stub(), "w");
  ASSERT_EQ(claimed.tasks_size(), 1);
  const std::vector<std::string> bad_results = {
      std::string("{\"v\":\"") + "\xC3\x28" + "\"}",      // bad continuation byte
      std::string("{\"v\":\"") + "\xED\xA0\x80" + "\"}",  // a surrogate
      std::string("{\"v\":\"") + "\xC0\xAF" + "\"}",      // overlong '/'
      "[\"" + std::string(5000, 'a') + "\xFF\"]",         // after a long ASCII run
  };
  const std::vector<std::pair<std::string, std::string>> not_json = {
      {"ok", "expected a value (offset 0)"},
      {"{\"meta\":{\"name\":\"half", "a string is never closed (offset 16)"},
      {"{} trailing", "text after the JSON value (offset 3)"},
      {std::string(600, '[') + std::string(600, ']'), "nest deeper than 512 levels"},
  };
  std::vector<std::pair<std::string, std::string>> refused = not_json;
  for (const std::string& bad : bad_results) refused.emplace_back(bad, "invalid UTF-8");
  for (const auto& [bad, problem] : refused) {
    v1::SubmitResultResponse ack = Submit(server.stub(), Success(claimed.tasks(0), "w", bad));
    EXPECT_FALSE(ack.accepted());
    EXPECT_EQ(ack.reject_reason(), v1::REJECT_REASON_INVALID);
    EXPECT_NE(ack.message().find("result_json is not JSON text: "), std::string::npos)
        << ack.message();
    EXPECT_NE(ack.message().find(problem), std::string::npos) << ack.message();
    EXPECT_EQ(GetTask(server.stub(), ids[0]).task().status(), v1::TASK_STATUS_IN_PROGRESS);
  }
  const std::string good = "{\"v\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\"}";
  v1::SubmitResultResponse ack = Submit(server.stub(), Success(claimed.tasks(0), "w", good));
  ASSERT_TRUE(ack.accepted()) << ack.message();
  v1::GetResultRequest get;
  get.set_task_id(ids[0]);
  v1::GetResultResponse result;
  ASSERT_TRUE(server.stub().GetResult(Context().get(), get, &result).ok());
  EXPECT_EQ(result.result_json(), good);
}

// Worker-supplied text reaches the server's log escaped and cut short: an
// error message can neither forge log lines nor reorder one, and a 1 MB one
// is one short line.
TEST(HostileStringsTest, ErrorTextCannotForgeLogLines) {
  skillstore::testing::TempDir dir;
  auto server =
      skillstore::testing::ServerProcess::Start(dir.File("log.db"), dir.File("server.log"));
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials());
  auto stub = v1::SkillStore::NewStub(channel);
  const std::string forged = "[2026-01-01 00:00:00.000] [critical] forged line";
  // U+202E, RIGHT-TO-LEFT OVERRIDE, would show the rest of the line reversed.
  const std::string error =
      "bad skill\n" + forged + "\r\n\x1b[2J\xE2\x80\xAE" + std::string(1 << 20, 'E');
  std::vector<std::string> ids = Enqueue(*stub, {Spec(v1::TASK_TYPE_PARSE, "log")});
  ASSERT_EQ(ids.size(), 1u);
  v1::ClaimTaskResponse claimed = Claim(*stub, "w");
  ASSERT_EQ(claimed.tasks_size(), 1);
  ASSERT_TRUE(Submit(*stub, Failure(claimed.tasks(0), "w", error, false)).accepted());
  auto line = (*server)->process().WaitForLogLine("failed after attempt", absl::Seconds(20));
  ASSERT_TRUE(line.ok()) << (*server)->process().ReadLog().substr(0, 4000);
  EXPECT_NE(line->find("bad skill\\x0a[2026-01-01"), std::string::npos) << line->substr(0, 300);
  EXPECT_NE(line->find("\\x1b[2J\\u{202e}"), std::string::npos) << line->substr(0, 300);
  EXPECT_NE(line->find("E... ("), std::string::npos) << line->substr(0, 1000);
  EXPECT_LT(line->size(), 2000u);
  const std::string log = (*server)->process().ReadLog();
  EXPECT_EQ(log.find("\n" + forged), std::string::npos) << "a forged line starts a log line";
  EXPECT_LT(log.size(), 100000u);
  // The stored error keeps its first 16 KiB.
  v1::GetResultRequest get;
  get.set_task_id(ids[0]);
  v1::GetResultResponse result;
  ASSERT_TRUE(stub->GetResult(Context().get(), get, &result).ok());
  EXPECT_TRUE(result.error() ==
              error.substr(0, 16384) + "... (cut: " + std::to_string(error.size()) + " bytes)");
}

}  // namespace
}  // namespace skillstore::server::testing
