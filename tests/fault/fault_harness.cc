#include "fault_harness.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"

namespace skillstore::fault {

std::string SmallSkill(int index) {
  const std::string id = std::to_string(index);
  return "---\nname: fault-skill-" + id +
         "\ndescription: A small skill for the fault suite.\n---\n"
         "# Fault skill " + id +
         "\n\n## Instructions\n- Always list the files first.\n"
         "- Never delete files without asking.\n\nRun `ls -la` to see them.\n";
}

Client::Client(const std::string& address) : address_(address) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);
  args.SetMaxReceiveMessageSize(64 << 20);
  // Reconnect quickly after a server restart.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  channel_ = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  stub_ = v1::SkillStore::NewStub(channel_);
}

grpc::Status Client::Enqueue(const std::vector<v1::TaskSpec>& specs,
                             std::vector<std::string>* ids) {
  v1::EnqueueRequest req;
  for (const auto& s : specs) *req.add_tasks() = s;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  v1::EnqueueResponse resp;
  grpc::Status st = stub_->Enqueue(&ctx, req, &resp);
  if (st.ok() && ids != nullptr) ids->assign(resp.task_ids().begin(), resp.task_ids().end());
  return st;
}

absl::StatusOr<std::vector<std::string>> Client::EnqueueWithRetry(
    const std::vector<v1::TaskSpec>& specs, absl::Time deadline) {
  grpc::Status last;
  while (absl::Now() < deadline) {
    std::vector<std::string> ids;
    last = Enqueue(specs, &ids);
    if (last.ok()) return ids;
    if (last.error_code() != grpc::StatusCode::UNAVAILABLE &&
        last.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED &&
        last.error_code() != grpc::StatusCode::CANCELLED) {
      return absl::InternalError(
          absl::StrCat("Enqueue failed with code ", last.error_code(), ": ", last.error_message()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("Enqueue kept failing: ", last.error_code(), " ", last.error_message()));
}

absl::StatusOr<v1::Progress> Client::Progress() {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::Progress p;
  const grpc::Status st = stub_->GetProgress(&ctx, v1::GetProgressRequest(), &p);
  if (!st.ok()) return absl::UnavailableError(st.error_message());
  return p;
}

absl::Status Client::WaitAllFinished(int64_t total, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  v1::Progress last;
  while (absl::Now() < deadline) {
    auto p = Progress();
    if (p.ok()) {
      last = *p;
      if (p->completed() + p->failed() + p->cancelled() >= total) return absl::OkStatus();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "not all ", total, " tasks finished; last progress: ", last.ShortDebugString()));
}

absl::StatusOr<v1::GetTaskResponse> Client::GetTask(const std::string& id) {
  v1::GetTaskRequest req;
  req.set_task_id(id);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::GetTaskResponse resp;
  const grpc::Status st = stub_->GetTask(&ctx, req, &resp);
  if (!st.ok()) return absl::InternalError(absl::StrCat("GetTask ", id, ": ", st.error_message()));
  return resp;
}

std::vector<v1::TaskSpec> TinyParseTasks(const std::string& prefix, int first, int count,
                                         int max_attempts) {
  std::vector<v1::TaskSpec> specs;
  specs.reserve(static_cast<size_t>(count));
  for (int i = first; i < first + count; ++i) {
    v1::TaskSpec s;
    s.set_type(v1::TASK_TYPE_PARSE);
    s.set_skill_path(absl::StrCat(prefix, "/", i, "/SKILL.md"));
    s.set_content(SmallSkill(i));
    s.set_max_attempts(max_attempts);
    s.set_idempotency_key(absl::StrCat(prefix, "-", i));
    specs.push_back(std::move(s));
  }
  return specs;
}

absl::StatusOr<std::unique_ptr<ChildProcess>> StartWorker(const std::string& server,
                                                          const std::string& id,
                                                          const std::string& log,
                                                          std::vector<std::string> extra,
                                                          std::vector<std::string> wrapper) {
  std::vector<std::string> argv = std::move(wrapper);
  argv.push_back(skillstore::testing::BinaryPath("skill-worker"));
  for (const char* a : {"--server"}) argv.push_back(a);
  argv.push_back(server);
  argv.push_back("--worker-id");
  argv.push_back(id);
  for (auto& e : extra) argv.push_back(std::move(e));
  return ChildProcess::Start(std::move(argv), log);
}

namespace {

// Runs `sql` and returns the first column of the first row as int64.
absl::StatusOr<int64_t> QueryInt(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    return absl::InternalError(absl::StrCat(sql, ": ", sqlite3_errmsg(db)));
  }
  int64_t value = 0;
  if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return value;
}

}  // namespace

absl::StatusOr<DbReport> InspectDatabase(const std::string& db_path) {
  sqlite3* db = nullptr;
  // Read-write so a WAL left by a killed server can be recovered on open.
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::InternalError(absl::StrCat("open ", db_path, ": ", msg));
  }
  sqlite3_busy_timeout(db, 10000);
  DbReport r;
  auto fail = [&](const absl::Status& s) {
    sqlite3_close(db);
    return s;
  };
#define FAULT_QUERY(field, sql)                  \
  do {                                           \
    auto v = QueryInt(db, sql);                  \
    if (!v.ok()) return fail(v.status());        \
    r.field = *v;                                \
  } while (0)
  FAULT_QUERY(tasks, "SELECT count(*) FROM tasks");
  FAULT_QUERY(result_rows, "SELECT count(*) FROM results");
  FAULT_QUERY(tasks_with_results, "SELECT count(DISTINCT task_id) FROM results");
  FAULT_QUERY(duplicate_results,
              "SELECT count(*) FROM (SELECT task_id FROM results GROUP BY task_id "
              "HAVING count(*) > 1)");
  FAULT_QUERY(orphan_results,
              "SELECT count(*) FROM results WHERE task_id NOT IN (SELECT task_id FROM tasks)");
  FAULT_QUERY(completed_without_result,
              "SELECT count(*) FROM tasks WHERE status = 'completed' AND task_id NOT IN "
              "(SELECT task_id FROM results)");
#undef FAULT_QUERY
  // Exactly once, from the attempt history (-1 when the server's schema
  // has no attempts table): no task may have succeeded twice. A successful
  // attempt is the completed task row itself (server/task_writer.h); one
  // with a 'succeeded' row as well would be a second success.
  if (auto v = QueryInt(db,
                        "SELECT count(*) FROM tasks AS t WHERE (t.status = 'completed') + "
                        "(SELECT count(*) FROM attempts AS a WHERE a.task_id = t.task_id AND "
                        "a.outcome = 'succeeded') > 1");
      v.ok()) {
    r.multiple_successes = *v;
  } else {
    r.multiple_successes = -1;
  }
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT status, count(*) FROM tasks GROUP BY status", -1, &stmt, nullptr);
  while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
    r.by_status[reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))] =
        sqlite3_column_int64(stmt, 1);
  }
  sqlite3_finalize(stmt);
  sqlite3_prepare_v2(db, "SELECT task_id FROM tasks ORDER BY task_id", -1, &stmt, nullptr);
  while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
    r.task_ids.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr);
  while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
    if (!r.integrity.empty()) r.integrity += "; ";
    r.integrity += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return r;
}

std::string Describe(const DbReport& r) {
  std::ostringstream s;
  s << "tasks=" << r.tasks << " {";
  for (const auto& [status, n] : r.by_status) s << " " << status << "=" << n;
  s << " } result_rows=" << r.result_rows << " tasks_with_results=" << r.tasks_with_results
    << " duplicate_results=" << r.duplicate_results << " orphan_results=" << r.orphan_results
    << " completed_without_result=" << r.completed_without_result
    << " multiple_successes=" << r.multiple_successes
    << " integrity=" << r.integrity;
  return s.str();
}

std::string ExactlyOnceProblems(const DbReport& r, int64_t expected) {
  std::string problems;
  auto check = [&](bool ok, const std::string& what) {
    if (!ok) problems += what + "; ";
  };
  check(r.tasks == expected, absl::StrCat("expected ", expected, " tasks"));
  const auto it = r.by_status.find("completed");
  const int64_t completed = it == r.by_status.end() ? 0 : it->second;
  check(completed == expected, absl::StrCat("expected all ", expected, " completed"));
  check(r.result_rows == expected, "expected one results row per task");
  check(r.tasks_with_results == expected, "expected every task to have its result");
  check(r.duplicate_results == 0, "duplicated results");
  check(r.orphan_results == 0, "results without a task");
  check(r.completed_without_result == 0, "completed tasks without a result (lost results)");
  check(r.multiple_successes <= 0, "tasks that succeeded more than once");
  check(r.integrity == "ok", "PRAGMA integrity_check is not ok");
  return problems;
}

std::string StopAndCheckExactlyOnce(std::vector<std::unique_ptr<ChildProcess>>& workers,
                                    ChildProcess& server, const std::string& db_path,
                                    int64_t expected) {
  std::string problems;
  for (auto& w : workers) {
    if (w == nullptr) continue;
    if (!w->Running()) {
      problems += absl::StrCat("a worker died (log: ", w->log_path(), "); ");
      continue;
    }
    w->Signal(SIGTERM);
    if (!w->Wait(absl::Seconds(60)).ok()) {
      problems += absl::StrCat("a worker did not drain on SIGTERM (log: ", w->log_path(), "); ");
    }
  }
  server.Signal(SIGTERM);
  if (!server.Wait(absl::Seconds(60)).ok()) {
    return problems + absl::StrCat("the server did not stop on SIGTERM (log: ",
                                   server.log_path(), ")");
  }
  auto report = InspectDatabase(db_path);
  if (!report.ok()) return problems + report.status().ToString();
  const std::string db_problems = ExactlyOnceProblems(*report, expected);
  if (!db_problems.empty()) problems += db_problems + "\n" + Describe(*report);
  return problems;
}

int RunCommand(const std::string& command, std::string* output) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[4096];
  size_t n;
  std::string out;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = pclose(p);
  if (output != nullptr) *output = out;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace skillstore::fault
