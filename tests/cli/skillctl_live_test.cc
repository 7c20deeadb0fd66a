// skillctl against a live skillstore-server: the real binary, run as a
// child process, with its output checked the way a user or a script reads it.
// The test itself plays the worker over the API (claim, submit), so every
// task state is reached deterministically without timing assumptions.
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <signal.h>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "process.h"
#include "run_command.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace skillstore::testing {
namespace {

namespace fs = std::filesystem;
namespace v1 = ::skillstore::v1;
using Json = nlohmann::json;

std::string Skillctl() { return BinaryPath("skillctl"); }

void WriteSkill(const std::string& path, const std::string& name) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << "---\nname: " << name << "\ndescription: A test skill called " << name
                      << ".\n---\n\n# " << name << "\n\n## Steps\n\n1. Run `make test`.\n"
                      << "2. Never push without review.\n";
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class SkillctlLiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ServerProcess::Start(dir_.File("skillstore.db"), dir_.File("server.log"));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = v1::SkillStore::NewStub(
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
    for (const char* name : {"alpha", "beta", "gamma"}) {
      WriteSkill(dir_.File(absl::StrCat("skills/", name, "/SKILL.md")), name);
    }
    WriteSkill(dir_.File("skills/.hidden/SKILL.md"), "hidden");
  }

  // skillctl --server <live server> args...
  CommandResult Ctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {Skillctl(), "--server", server_->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }

  // skillctl ... -o json, parsed; fails the test on a non-zero exit.
  Json CtlJson(std::vector<std::string> args) {
    args.push_back("-o");
    args.push_back("json");
    CommandResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Json j = Json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.out;
    return j;
  }

  // Claims up to n tasks as worker `test-worker`.
  std::vector<v1::ClaimedTask> Claim(int n) {
    grpc::ClientContext context;
    v1::ClaimTaskRequest request;
    request.set_worker_id("test-worker");
    request.set_hostname("test-host");
    request.set_max_tasks(n);
    request.set_wait_seconds(5);
    v1::ClaimTaskResponse response;
    grpc::Status status = stub_->ClaimTask(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return {response.tasks().begin(), response.tasks().end()};
  }

  void Submit(const v1::ClaimedTask& task, bool success, const std::string& body) {
    grpc::ClientContext context;
    auto stream = stub_->SubmitResult(&context);
    v1::SubmitResultRequest request;
    request.set_task_id(task.task_id());
    request.set_fencing_token(task.lease().fencing_token());
    request.set_worker_id("test-worker");
    request.set_success(success);
    if (success) request.set_result_json(body);
    else request.set_error(body);
    request.set_retryable(false);
    request.mutable_metrics()->set_duration_seconds(0.01);
    request.mutable_metrics()->set_worker_id("test-worker");
    request.mutable_metrics()->set_task_type("parse");
    ASSERT_TRUE(stream->Write(request));
    v1::SubmitResultResponse response;
    ASSERT_TRUE(stream->Read(&response));
    EXPECT_TRUE(response.accepted()) << response.message();
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::SkillStore::Stub> stub_;
};

TEST(SkillctlNoServerTest, UnreachableServerIsClearAndExits3) {
  for (const char* command : {"progress", "tasks", "workers", "wait"}) {
    CommandResult r = RunCommand({Skillctl(), "--server", "127.0.0.1:1", command});
    EXPECT_EQ(r.exit_code, 3) << command << ": " << r.err;
    EXPECT_NE(r.err.find("cannot reach server at 127.0.0.1:1"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("skillstore-server running"), std::string::npos) << r.err;
  }
}

TEST(SkillctlNoServerTest, UsageErrorsExit2) {
  EXPECT_EQ(RunCommand({Skillctl()}).exit_code, 2);
  EXPECT_EQ(RunCommand({Skillctl(), "enqueue", "--type", "compile", "x"}).exit_code, 2);
  CommandResult unknown = RunCommand({Skillctl(), "--server", "h:1", "frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown command 'frobnicate'; the commands are enqueue, progress"),
            std::string::npos)
      << unknown.err;
  // Range errors say the rule, not CLI11's 309-digit upper bound.
  CommandResult negative = RunCommand({Skillctl(), "tasks", "--limit", "-1"});
  EXPECT_EQ(negative.exit_code, 2);
  EXPECT_NE(negative.err.find("--limit: must be 0 or more, not -1"), std::string::npos)
      << negative.err;
  EXPECT_LT(negative.err.size(), 200u) << negative.err;
  CommandResult no_server = RunCommand({Skillctl(), "--server", "", "progress"});
  EXPECT_EQ(no_server.exit_code, 2);
  EXPECT_NE(no_server.err.find("--server: must be host:port, not empty"), std::string::npos)
      << no_server.err;
  CommandResult bad_duration = RunCommand({Skillctl(), "wait", "--timeout", "10 parsecs"});
  EXPECT_EQ(bad_duration.exit_code, 2);
  EXPECT_NE(bad_duration.err.find("unknown unit"), std::string::npos) << bad_duration.err;
  CommandResult help = RunCommand({Skillctl(), "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos);
}

// A server that takes fewer tasks per Enqueue than skillctl sends in one
// batch still gets every file: the refused batch is sent again in halves.
TEST(SkillctlSmallBatchTest, EnqueueFitsTheServersBatchLimit) {
  TempDir dir;
  auto server = ServerProcess::Start(dir.File("skillstore.db"), dir.File("server.log"),
                                     {"--max-batch-tasks", "2"});
  ASSERT_TRUE(server.ok()) << server.status();
  CommandResult r = RunCommand({Skillctl(), "--server", (*server)->address(), "-o", "json",
                                "enqueue", SourceDir() + "/examples/skills"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json out = Json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << r.out;
  const size_t skills = std::distance(fs::directory_iterator(SourceDir() + "/examples/skills"),
                                      fs::directory_iterator());
  ASSERT_GT(skills, 2u);
  EXPECT_EQ(out["enqueued"], skills) << r.out;
  CommandResult progress =
      RunCommand({Skillctl(), "--server", (*server)->address(), "-o", "json", "progress"});
  EXPECT_EQ(Json::parse(progress.out, nullptr, false)["total"], skills) << progress.out;
}

TEST(SkillctlNoServerTest, ParseLocalModeWritesNamedFiles) {
  TempDir dir;
  const std::string skills = SourceDir() + "/examples/skills";
  CommandResult r = RunCommand({Skillctl(), "parse", "-o", dir.File("out"), skills});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string out = dir.File("out/git-commit-workflow-skill.json");
  ASSERT_TRUE(fs::exists(out)) << r.out;
  Json decomposition = Json::parse(ReadAll(out), nullptr, false);
  ASSERT_FALSE(decomposition.is_discarded());
  EXPECT_TRUE(decomposition.contains("meta"));

  // One file without -o: the JSON goes to stdout.
  CommandResult one = RunCommand({Skillctl(), "parse", "--type", "analyze",
                                  skills + "/dev-env-bootstrap/SKILL.md"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_FALSE(Json::parse(one.out, nullptr, false).is_discarded()) << one.out;
  // --output json changes nothing there: the document is JSON already.
  CommandResult one_json = RunCommand({Skillctl(), "parse", "--output", "json", "--type", "analyze",
                                       skills + "/dev-env-bootstrap/SKILL.md"});
  ASSERT_EQ(one_json.exit_code, 0) << one_json.err;
  EXPECT_EQ(one_json.out, one.out);

  // Several files without -o is a usage error that says what to do.
  CommandResult many = RunCommand({Skillctl(), "parse", skills});
  EXPECT_EQ(many.exit_code, 2);
  EXPECT_NE(many.err.find("-o DIR"), std::string::npos) << many.err;

  EXPECT_EQ(RunCommand({Skillctl(), "parse", "/no/such/SKILL.md"}).exit_code, 4);
}

TEST_F(SkillctlLiveTest, EnqueueFolderCreatesTasksOfTheRightType) {
  Json enq = CtlJson({"enqueue", "--type", "analyze", "-m", "team=docs", dir_.File("skills")});
  EXPECT_EQ(enq["enqueued"], 3);  // .hidden is skipped
  EXPECT_EQ(enq["deduplicated"], 0);
  ASSERT_EQ(enq["task_ids"].size(), 3u);

  Json tasks = CtlJson({"tasks", "--type", "analyze"});
  ASSERT_EQ(tasks["tasks"].size(), 3u);
  for (const Json& t : tasks["tasks"]) {
    EXPECT_EQ(t["type"], "analyze");
    EXPECT_EQ(t["status"], "queued");
    EXPECT_NE(t["skill_path"].get<std::string>().find("SKILL.md"), std::string::npos);
    EXPECT_GT(t["content_bytes"].get<int64_t>(), 0);
    EXPECT_EQ(t["metadata"]["team"], "docs");
  }
  EXPECT_EQ(CtlJson({"tasks", "--type", "parse"})["tasks"].size(), 0u);

  Json progress = CtlJson({"progress"});
  EXPECT_EQ(progress["total"], 3);
  EXPECT_EQ(progress["queued"], 3);

  CommandResult human = Ctl({"tasks"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_EQ(human.out.rfind("ID  TYPE", 0), 0u) << human.out;
}

TEST_F(SkillctlLiveTest, IdempotentReEnqueueDeduplicates) {
  Json first = CtlJson({"enqueue", "--idempotent", dir_.File("skills")});
  EXPECT_EQ(first["enqueued"], 3);
  Json second = CtlJson({"enqueue", "--idempotent", dir_.File("skills")});
  EXPECT_EQ(second["enqueued"], 0);
  EXPECT_EQ(second["deduplicated"], 3);
  EXPECT_EQ(first["task_ids"], second["task_ids"]);

  CommandResult human = Ctl({"enqueue", "--idempotent", dir_.File("skills")});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_NE(human.out.find("enqueued 0 parse tasks (3 deduplicated)"), std::string::npos)
      << human.out;
  // The same content as another type is a different task.
  EXPECT_EQ(CtlJson({"enqueue", "--idempotent", "-t", "analyze", dir_.File("skills")})["enqueued"],
            3);
}

TEST_F(SkillctlLiveTest, TaskLifeThroughTheCommands) {
  Json enq = CtlJson({"enqueue", dir_.File("skills")});
  ASSERT_EQ(enq["task_ids"].size(), 3u);
  const std::string alpha = enq["task_ids"][0], beta = enq["task_ids"][1],
                    gamma = enq["task_ids"][2];

  // gamma is cancelled while queued; alpha completes; beta fails. An
  // unknown id before it is reported and does not stop the rest.
  CommandResult cancel = Ctl({"cancel", "999999", gamma});
  EXPECT_EQ(cancel.exit_code, 4) << cancel.err;  // not found
  EXPECT_NE(cancel.err.find("task 999999: no task with id '999999'"), std::string::npos)
      << cancel.err;
  EXPECT_NE(cancel.err.find("1 of 2 tasks were not cancelled"), std::string::npos) << cancel.err;
  EXPECT_NE(cancel.out.find("task " + gamma + ": cancelled"), std::string::npos) << cancel.out;

  std::vector<v1::ClaimedTask> claimed = Claim(2);
  ASSERT_EQ(claimed.size(), 2u);
  for (const auto& t : claimed) {
    if (t.task_id() == alpha) Submit(t, true, R"({"meta":{"name":"alpha"},"actions":[]})");
    else Submit(t, false, "broken YAML front matter at line 2");
  }

  Json task = CtlJson({"task", alpha});
  EXPECT_EQ(task["task"]["status"], "completed");
  ASSERT_EQ(task["attempts"].size(), 1u);
  EXPECT_EQ(task["attempts"][0]["outcome"], "succeeded");
  EXPECT_EQ(task["attempts"][0]["worker_id"], "test-worker");
  CommandResult human_task = Ctl({"task", beta});
  EXPECT_EQ(human_task.exit_code, 0);
  EXPECT_NE(human_task.out.find("broken YAML"), std::string::npos) << human_task.out;

  CommandResult result = Ctl({"result", alpha});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(Json::parse(result.out)["meta"]["name"], "alpha");
  Json result_json = CtlJson({"result", alpha});
  EXPECT_EQ(result_json["result"]["meta"]["name"], "alpha");
  EXPECT_EQ(result_json["metrics"]["worker_id"], "test-worker");
  CommandResult failed_result = Ctl({"result", beta});
  EXPECT_NE(failed_result.exit_code, 0);
  EXPECT_NE(failed_result.err.find("broken YAML"), std::string::npos) << failed_result.err;

  CommandResult missing = Ctl({"task", "987654"});
  EXPECT_EQ(missing.exit_code, 4) << missing.err;

  // Nothing is queued or running: wait returns at once, exit 5 (some failed).
  CommandResult wait = Ctl({"wait", "--timeout", "60"});
  EXPECT_EQ(wait.exit_code, 5) << wait.out << wait.err;
  EXPECT_NE(wait.err.find("retry --failed"), std::string::npos) << wait.err;

  // Export writes the one completed result under the skill's folder name.
  Json exported = CtlJson({"export", "--out", dir_.File("out")});
  EXPECT_EQ(exported["written"], 1);
  EXPECT_EQ(Json::parse(ReadAll(dir_.File("out/alpha-skill.json")))["meta"]["name"], "alpha");

  Json workers = CtlJson({"workers"});
  bool seen = false;
  for (const Json& w : workers["workers"]) seen |= w["worker_id"] == "test-worker";
  EXPECT_TRUE(seen) << workers.dump();

  // retry --failed puts beta back; then only beta is queued.
  Json retried = CtlJson({"retry", "--failed"});
  EXPECT_EQ(retried["retried"], 1);
  Json queued = CtlJson({"tasks", "--status", "queued"});
  ASSERT_EQ(queued["tasks"].size(), 1u);
  EXPECT_EQ(queued["tasks"][0]["task_id"], beta);

  // With a task queued and no worker, wait gives up at its timeout: exit 6.
  CommandResult timeout = Ctl({"wait", "--timeout", "1"});
  EXPECT_EQ(timeout.exit_code, 6) << timeout.err;
  // The same with a unit.
  CommandResult timeout_ms = Ctl({"wait", "--timeout", "300ms"});
  EXPECT_EQ(timeout_ms.exit_code, 6) << timeout_ms.err;
  EXPECT_NE(timeout_ms.err.find("timed out after"), std::string::npos) << timeout_ms.err;

  // watch ends on its own once the queue drains.
  std::vector<v1::ClaimedTask> again = Claim(1);
  ASSERT_EQ(again.size(), 1u);
  Submit(again[0], true, R"({"meta":{"name":"beta"}})");
  CommandResult watch = Ctl({"watch"});
  EXPECT_EQ(watch.exit_code, 0) << watch.err;
  EXPECT_NE(watch.out.find("completed 2"), std::string::npos) << watch.out;
}

TEST_F(SkillctlLiveTest, InterruptEndsWatchAndWaitWith130) {
  CtlJson({"enqueue", dir_.File("skills")});  // queued, and no worker: both would block
  auto watch = ChildProcess::Start(
      {Skillctl(), "--server", server_->address(), "watch", "--follow"}, dir_.File("watch.log"));
  ASSERT_TRUE(watch.ok()) << watch.status();
  ASSERT_TRUE((*watch)->WaitForLogLine("queued 3", absl::Seconds(30)).ok()) << (*watch)->ReadLog();
  (*watch)->Signal(SIGINT);
  absl::StatusOr<int> code = (*watch)->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << "watch did not stop on SIGINT";
  EXPECT_EQ(*code, 130) << (*watch)->ReadLog();

  auto wait = ChildProcess::Start({Skillctl(), "--server", server_->address(), "wait"},
                                  dir_.File("wait.log"));
  ASSERT_TRUE(wait.ok());
  // Give it time to connect; a signal before that still ends it with 130.
  absl::SleepFor(absl::Milliseconds(500));
  (*wait)->Signal(SIGINT);
  code = (*wait)->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << "wait did not stop on SIGINT";
  EXPECT_EQ(*code, 130) << (*wait)->ReadLog();
}

}  // namespace
}  // namespace skillstore::testing
