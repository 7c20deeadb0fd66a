// Token authentication against the real skillstore-server binary over real
// gRPC: every role against every SkillStore RPC (a table of who may call
// what), calls without a token, with an unknown token and with malformed
// metadata, the token file re-read on SIGHUP (a token added, a token revoked,
// a broken file keeping the old set), startup errors naming file:line, and
// the health service staying open for probes.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "authorizer.h"
#include "common/auth/token.h"
#include "grpc/health/v1/health.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "process.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace skillstore::server {
namespace {

namespace v1 = ::skillstore::v1;
using skillstore::testing::ChildProcess;
using skillstore::testing::ServerProcess;
using skillstore::testing::TempDir;

std::string NewToken() {
  absl::StatusOr<std::string> token = auth::GenerateToken();
  EXPECT_TRUE(token.ok()) << token.status();
  return *token;
}

std::string Line(const std::string& role, const std::string& token, const std::string& label) {
  return absl::StrCat(role, " ", auth::Sha256Hex(token), " ", label, "\n");
}

void WriteFile(const std::string& path, const std::string& text) {
  // Written aside and renamed: the server never reads half a file.
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp, std::ios::trunc) << text;
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
}

// One call of one RPC with the given authorization metadata ("" = none);
// returns the call's status.
using Call = std::function<grpc::Status(v1::SkillStore::Stub&, grpc::ClientContext&)>;

std::unique_ptr<grpc::ClientContext> ContextWith(const std::string& authorization) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!authorization.empty()) context->AddMetadata("authorization", authorization);
  return context;
}

std::map<std::string, Call> AllRpcs() {
  std::map<std::string, Call> calls;
  calls["Enqueue"] = [](v1::SkillStore::Stub& stub, grpc::ClientContext& context) {
    v1::EnqueueRequest request;
    v1::TaskSpec* spec = request.add_tasks();
    spec->set_type(v1::TASK_TYPE_PARSE);
    spec->set_skill_path("skills/auth");
    spec->set_content("---\nname: auth\n---\n# Skill\n");
    v1::EnqueueResponse response;
    return stub.Enqueue(&context, request, &response);
  };
  calls["ClaimTask"] = [](v1::SkillStore::Stub& stub, grpc::ClientContext& context) {
    v1::ClaimTaskRequest request;
    request.set_worker_id("auth-worker");
    request.set_max_tasks(1);
    v1::ClaimTaskResponse response;
    return stub.ClaimTask(&context, request, &response);
  };
  calls["SubmitResult"] = [](v1::SkillStore::Stub& stub, grpc::ClientContext& context) {
    auto stream = stub.SubmitResult(&context);
    v1::SubmitResultRequest request;
    request.set_task_id("999999");
    request.set_fencing_token(1);
    request.set_worker_id("auth-worker");
    request.set_success(true);
    request.set_result_json("{}");
    stream->Write(request);
    stream->WritesDone();
    v1::SubmitResultResponse response;
    while (stream->Read(&response)) {
    }
    return stream->Finish();
  };
  calls["Heartbeat"] = [](v1::SkillStore::Stub& stub, grpc::ClientContext& context) {
    v1::HeartbeatRequest request;
    request.set_worker_id("auth-worker");
    v1::HeartbeatResponse response;
    return stub.Heartbeat(&context, request, &response);
  };
  calls["GetProgress"] = [](v1::SkillStore::Stub& stub, grpc::ClientContext& context) {
    v1::Progress response;
    return stub.GetProgress(&context, v1::GetProgressRequest(), &response);
  };
  calls["WatchProgress"] = [](v1::SkillStore::Stub& stub, grpc::ClientContext& context) {
    auto reader = stub.WatchProgress(&context, v1::WatchProgressRequest());
    v1::Progress progress;
    if (reader->Read(&progress)) {
      // Allowed: the first snapshot came. End the stream from this side.
      context.TryCancel();
      reader->Finish();
      return grpc::Status::OK;
    }
    return reader->Finish();
  };
  calls["ListTasks"] = [](v1::SkillStore::Stub& stub, grpc::ClientContext& context) {
    v1::ListTasksResponse response;
    return stub.ListTasks(&context, v1::ListTasksRequest(), &response);
  };
  calls["GetTask"] = [](v1::SkillStore::Stub& stub, grpc::ClientContext& context) {
    v1::GetTaskRequest request;
    request.set_task_id("999999");
    v1::GetTaskResponse response;
    return stub.GetTask(&context, request, &response);
  };
  calls["GetResult"] = [](v1::SkillStore::Stub& stub, grpc::ClientContext& context) {
    v1::GetResultRequest request;
    request.set_task_id("999999");
    v1::GetResultResponse response;
    return stub.GetResult(&context, request, &response);
  };
  calls["ListWorkers"] = [](v1::SkillStore::Stub& stub, grpc::ClientContext& context) {
    v1::ListWorkersResponse response;
    return stub.ListWorkers(&context, v1::ListWorkersRequest(), &response);
  };
  calls["CancelTask"] = [](v1::SkillStore::Stub& stub, grpc::ClientContext& context) {
    v1::CancelTaskRequest request;
    request.set_task_id("999999");
    v1::CancelTaskResponse response;
    return stub.CancelTask(&context, request, &response);
  };
  calls["RetryTask"] = [](v1::SkillStore::Stub& stub, grpc::ClientContext& context) {
    v1::RetryTaskRequest request;
    request.set_all_failed(true);
    v1::RetryTaskResponse response;
    return stub.RetryTask(&context, request, &response);
  };
  return calls;
}

// The contract (README): the role each method needs; admin may call
// everything, reader and worker only their own methods.
const std::map<std::string, std::string>& NeededRole() {
  static const auto* needed = new std::map<std::string, std::string>{
      {"Enqueue", "admin"},      {"CancelTask", "admin"},     {"RetryTask", "admin"},
      {"ClaimTask", "worker"},   {"SubmitResult", "worker"},  {"Heartbeat", "worker"},
      {"GetProgress", "reader"}, {"WatchProgress", "reader"}, {"ListTasks", "reader"},
      {"GetTask", "reader"},     {"GetResult", "reader"},     {"ListWorkers", "reader"}};
  return *needed;
}

bool Allowed(const std::string& role, const std::string& needed) {
  return role == "admin" || role == needed;
}

bool IsAuthError(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAUTHENTICATED || code == grpc::StatusCode::PERMISSION_DENIED;
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_["reader"] = NewToken();
    tokens_["worker"] = NewToken();
    tokens_["admin"] = NewToken();
    token_file_ = dir_.File("tokens");
    WriteFile(token_file_, absl::StrCat("# skillstore tokens\n\n",
                                        Line("reader", tokens_["reader"], "dashboards"),
                                        Line("worker", tokens_["worker"], "worker pool a"),
                                        Line("admin", tokens_["admin"], "ops")));
    auto server = ServerProcess::Start(dir_.File("auth.db"), dir_.File("server.log"),
                                       {"--auth-token-file", token_file_});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    stub_ = v1::SkillStore::NewStub(channel_);
  }

  grpc::Status CallWith(const std::string& method, const std::string& authorization) {
    auto context = ContextWith(authorization);
    return AllRpcs().at(method)(*stub_, *context);
  }

  TempDir dir_;
  std::map<std::string, std::string> tokens_;
  std::string token_file_;
  std::unique_ptr<ServerProcess> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SkillStore::Stub> stub_;
};

TEST_F(AuthTest, EachRoleAgainstEachRpc) {
  const std::map<std::string, Call> calls = AllRpcs();
  ASSERT_EQ(calls.size(), NeededRole().size());
  // Every SkillStore method is in the table: a new RPC must be given a role.
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          v1::SkillStore::service_full_name());
  ASSERT_NE(service, nullptr);
  ASSERT_EQ(static_cast<size_t>(service->method_count()), calls.size());
  for (const auto& [method, needed] : NeededRole()) {
    for (const std::string role : {"reader", "worker", "admin"}) {
      SCOPED_TRACE(absl::StrCat(method, " with a ", role, " token"));
      const grpc::Status status = CallWith(method, "Bearer " + tokens_[role]);
      if (Allowed(role, needed)) {
        // Past authorization: OK or a request-level error (NOT_FOUND ...).
        EXPECT_FALSE(IsAuthError(status.error_code()))
            << status.error_code() << ": " << status.error_message();
      } else {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << status.error_message();
        EXPECT_NE(status.error_message().find(absl::StrCat("needs a token with role ", needed)),
                  std::string::npos)
            << status.error_message();
      }
    }
  }
}

TEST_F(AuthTest, MissingUnknownAndMalformedTokensAreUnauthenticated) {
  for (const auto& [method, needed] : NeededRole()) {
    SCOPED_TRACE(method);
    grpc::Status none = CallWith(method, "");
    EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_NE(none.error_message().find("authorization: Bearer"), std::string::npos)
        << none.error_message();

    grpc::Status unknown = CallWith(method, "Bearer " + NewToken());
    EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_NE(unknown.error_message().find("unknown or revoked token"), std::string::npos)
        << unknown.error_message();
  }
  // Malformed: another scheme, no token, the hash instead of the token.
  for (const std::string& bad :
       {absl::StrCat("Basic ", tokens_["admin"]), std::string("Bearer"), std::string("Bearer   "),
        tokens_["admin"], absl::StrCat("Bearer ", auth::Sha256Hex(tokens_["admin"]))}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(CallWith("GetProgress", bad).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  // The scheme is case-insensitive (RFC 7235).
  EXPECT_TRUE(CallWith("GetProgress", "bearer " + tokens_["reader"]).ok());
  // No token, nor its hash, ever reaches the log; the label does.
  const std::string log = server_->process().ReadLog();
  for (const auto& [role, token] : tokens_) {
    EXPECT_EQ(log.find(token), std::string::npos) << role << " token in the log";
  }
}

TEST_F(AuthTest, PermissionDeniedIsLoggedWithTheLabel) {
  ASSERT_EQ(CallWith("Enqueue", "Bearer " + tokens_["worker"]).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto line = server_->process().WaitForLogLine("Enqueue refused", absl::Seconds(10));
  ASSERT_TRUE(line.ok()) << server_->process().ReadLog();
  EXPECT_NE(line->find("worker pool a"), std::string::npos) << *line;
  EXPECT_EQ(line->find(tokens_["worker"]), std::string::npos) << *line;
}

TEST_F(AuthTest, HealthStaysOpenWithoutAToken) {
  grpc::GenericStub generic(channel_);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(v1::SkillStore::service_full_name());
  const std::string serialized = request.SerializeAsString();
  grpc::Slice request_slice(serialized);
  grpc::ByteBuffer request_bytes(&request_slice, 1);
  grpc::CompletionQueue cq;
  auto context = ContextWith("");
  auto call =
      generic.PrepareUnaryCall(context.get(), "/grpc.health.v1.Health/Check", request_bytes, &cq);
  call->StartCall();
  grpc::ByteBuffer response_bytes;
  grpc::Status status;
  call->Finish(&response_bytes, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  grpc::health::v1::HealthCheckResponse response;
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response_bytes.Dump(&slices).ok());
  std::string received;
  for (const grpc::Slice& slice : slices) {
    received.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  ASSERT_TRUE(response.ParseFromString(received));
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

TEST_F(AuthTest, ReflectionStaysOpenWithoutAToken) {
  auto reflection = grpc::reflection::v1::ServerReflection::NewStub(channel_);
  auto context = ContextWith("");
  auto stream = reflection->ServerReflectionInfo(context.get());
  grpc::reflection::v1::ServerReflectionRequest request;
  request.set_file_containing_symbol("skillstore.v1.SkillStore");
  ASSERT_TRUE(stream->Write(request));
  grpc::reflection::v1::ServerReflectionResponse answer;
  ASSERT_TRUE(stream->Read(&answer));
  EXPECT_TRUE(answer.has_file_descriptor_response()) << answer.DebugString();
  stream->WritesDone();
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
}

TEST_F(AuthTest, SighupAddsAndRevokesTokens) {
  const std::string added = NewToken();
  ASSERT_EQ(CallWith("GetProgress", "Bearer " + added).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // Add a token, revoke the reader's.
  WriteFile(token_file_, absl::StrCat(Line("worker", tokens_["worker"], "worker pool a"),
                                      Line("admin", tokens_["admin"], "ops"),
                                      Line("reader", added, "new dashboard")));
  server_->process().Signal(SIGHUP);
  ASSERT_TRUE(server_->process().WaitForLogLine("reloaded 3 tokens", absl::Seconds(20)).ok())
      << server_->process().ReadLog();
  EXPECT_TRUE(CallWith("GetProgress", "Bearer " + added).ok());
  EXPECT_EQ(CallWith("GetProgress", "Bearer " + tokens_["reader"]).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // A broken file on reload: logged, and the tokens in force stay.
  const size_t log_size = server_->process().ReadLog().size();
  WriteFile(token_file_, "admin not-a-hash\n");
  server_->process().Signal(SIGHUP);
  auto refused =
      server_->process().WaitForLogLine("token file not reloaded", absl::Seconds(20), log_size);
  ASSERT_TRUE(refused.ok()) << server_->process().ReadLog();
  EXPECT_NE(refused->find(absl::StrCat(token_file_, ":1:")), std::string::npos) << *refused;
  EXPECT_TRUE(CallWith("GetProgress", "Bearer " + added).ok());
  EXPECT_TRUE(CallWith("Enqueue", "Bearer " + tokens_["admin"]).ok());
  EXPECT_TRUE(server_->process().Running());
}

TEST_F(AuthTest, WritableTokenFileIsWarnedAboutOnReload) {
  const size_t log_size = server_->process().ReadLog().size();
  ASSERT_EQ(chmod(token_file_.c_str(), 0666), 0);
  server_->process().Signal(SIGHUP);
  auto warning = server_->process().WaitForLogLine("is writable by group or others",
                                                   absl::Seconds(20), log_size);
  ASSERT_TRUE(warning.ok()) << server_->process().ReadLog();
  EXPECT_NE(warning->find("mode 666"), std::string::npos) << *warning;
  EXPECT_TRUE(CallWith("GetProgress", "Bearer " + tokens_["reader"]).ok());
}

// A worker token bound to worker ids (`worker:<pattern>` in the token file)
// claims, heartbeats and submits only as those ids: otherwise any worker
// token could claim under another worker's id, and a claim with a new
// instance id ends that worker's leases.
TEST_F(AuthTest, AWorkerTokenBoundToWorkerIdsActsOnlyAsThem) {
  const std::string bound = NewToken();
  WriteFile(token_file_, absl::StrCat(Line("admin", tokens_["admin"], "ops"),
                                      Line("worker:pool-a-*", bound, "pool a")));
  server_->process().Signal(SIGHUP);
  ASSERT_TRUE(server_->process().WaitForLogLine("reloaded 2 tokens", absl::Seconds(20)).ok())
      << server_->process().ReadLog();
  ASSERT_TRUE(CallWith("Enqueue", "Bearer " + tokens_["admin"]).ok());

  auto claim_as = [&](const std::string& worker_id, v1::ClaimTaskResponse* response) {
    auto context = ContextWith("Bearer " + bound);
    v1::ClaimTaskRequest request;
    request.set_worker_id(worker_id);
    request.set_max_tasks(1);
    return stub_->ClaimTask(context.get(), request, response);
  };
  v1::ClaimTaskResponse refused_claim;
  const grpc::Status other = claim_as("pool-b-1", &refused_claim);
  EXPECT_EQ(other.error_code(), grpc::StatusCode::PERMISSION_DENIED) << other.error_message();
  EXPECT_NE(other.error_message().find("worker ids matching 'pool-a-*'"), std::string::npos)
      << other.error_message();
  EXPECT_NE(other.error_message().find("'pool-b-1'"), std::string::npos) << other.error_message();
  {
    auto context = ContextWith("Bearer " + bound);
    v1::HeartbeatRequest request;
    request.set_worker_id("pool-b-1");
    v1::HeartbeatResponse response;
    EXPECT_EQ(stub_->Heartbeat(context.get(), request, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }

  v1::ClaimTaskResponse claimed;
  const grpc::Status own = claim_as("pool-a-1", &claimed);
  ASSERT_TRUE(own.ok()) << own.error_message();
  ASSERT_EQ(claimed.tasks_size(), 1);
  const v1::ClaimedTask& task = claimed.tasks(0);

  // The result under another id (twice) is refused, the one under its own id stored.
  auto context = ContextWith("Bearer " + bound);
  auto stream = stub_->SubmitResult(context.get());
  v1::SubmitResultRequest result;
  result.set_task_id(task.task_id());
  result.set_fencing_token(task.lease().fencing_token());
  result.set_success(true);
  result.set_result_json("{}");
  for (const std::string worker_id : {"pool-b-1", "pool-b-2", "pool-a-1"}) {
    result.set_worker_id(worker_id);
    ASSERT_TRUE(stream->Write(result));
    v1::SubmitResultResponse ack;
    ASSERT_TRUE(stream->Read(&ack));
    SCOPED_TRACE(worker_id);
    if (worker_id == "pool-a-1") {
      EXPECT_TRUE(ack.accepted()) << ack.message();
    } else {
      EXPECT_FALSE(ack.accepted());
      EXPECT_EQ(ack.reject_reason(), v1::REJECT_REASON_WRONG_WORKER);
      EXPECT_NE(ack.message().find("worker ids matching 'pool-a-*'"), std::string::npos)
          << ack.message();
    }
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());

  auto get = ContextWith("Bearer " + tokens_["admin"]);
  v1::GetTaskRequest request;
  request.set_task_id(task.task_id());
  v1::GetTaskResponse info;
  ASSERT_TRUE(stub_->GetTask(get.get(), request, &info).ok());
  EXPECT_EQ(info.task().status(), v1::TASK_STATUS_COMPLETED);
  // Refusals are logged with the label: one line per refused call, and one
  // per stream however many of its results were refused.
  const std::string log = server_->process().ReadLog();
  size_t lines = 0;
  for (size_t at = log.find("SubmitResult refused for token 'pool a'"); at != std::string::npos;
       at = log.find("SubmitResult refused for token 'pool a'", at + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 1u) << log;
  EXPECT_NE(log.find("ClaimTask refused for token 'pool a'"), std::string::npos) << log;
}

// skillstore-loadgen measures a secured server with an admin token (it
// enqueues, claims and submits), and without one stops saying why.
TEST_F(AuthTest, LoadgenSendsItsToken) {
  const std::string admin_token_file = dir_.File("admin.token");
  WriteFile(admin_token_file, tokens_["admin"] + "\n");
  ASSERT_EQ(chmod(admin_token_file.c_str(), 0600), 0);
  const std::vector<std::string> loadgen = {
      skillstore::testing::BinaryPath("skillstore-loadgen"), "--server", server_->address(),
      "--clients", "1", "--batch1-tasks", "3", "--batch-tasks", "6", "--batch", "3",
      "--claim-batch", "5"};

  std::vector<std::string> with_token = loadgen;
  with_token.insert(with_token.end(), {"--token-file", admin_token_file});
  auto run = ChildProcess::Start(with_token, dir_.File("loadgen.log"));
  ASSERT_TRUE(run.ok()) << run.status();
  absl::StatusOr<int> code = (*run)->Wait(absl::Seconds(60));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << (*run)->ReadLog();
  EXPECT_NE((*run)->ReadLog().find("claim(5)+submit, 1 clients"), std::string::npos)
      << (*run)->ReadLog();

  auto refused = ChildProcess::Start(loadgen, dir_.File("loadgen-no-token.log"));
  ASSERT_TRUE(refused.ok()) << refused.status();
  code = (*refused)->Wait(absl::Seconds(60));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 1) << (*refused)->ReadLog();
  EXPECT_NE((*refused)->ReadLog().find("authorization: Bearer"), std::string::npos)
      << (*refused)->ReadLog();
}

// A server with a bad token file does not start, and says where the problem is.
TEST(AuthStartupTest, MalformedTokenFileStopsTheServerNamingFileAndLine) {
  TempDir dir;
  const std::string good = NewToken();
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {absl::StrCat("# ok\n", Line("admin", good, "ops"), "root ", auth::Sha256Hex("x"), "\n"),
       ":3: unknown role \"root\""},
      {absl::StrCat("admin ", good, "\n"), ":1: the second field must be the 64-hex-digit SHA-256"},
      {"worker\n", ":1: expected '<role> <sha256-hex of the token> [label]'"},
      {absl::StrCat(Line("admin", good, "a"), Line("reader", good, "b")),
       ":2: the same token hash is on line 1"},
      {"# only comments\n\n", "has no tokens"},
  };
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    const std::string file = dir.File(absl::StrCat("tokens", ++n));
    WriteFile(file, c.text);
    const std::string log = dir.File(absl::StrCat("server", n, ".log"));
    auto server =
        ChildProcess::Start({skillstore::testing::BinaryPath("skillstore-server"), "--listen",
                             "127.0.0.1:0", "--db", dir.File("db"), "--auth-token-file", file},
                            log);
    ASSERT_TRUE(server.ok()) << server.status();
    absl::StatusOr<int> code = (*server)->Wait(absl::Seconds(30));
    ASSERT_TRUE(code.ok()) << "server started with a bad token file:\n" << (*server)->ReadLog();
    EXPECT_NE(*code, 0);
    EXPECT_NE((*server)->ReadLog().find(c.expected), std::string::npos) << (*server)->ReadLog();
  }
  // A missing file names the file.
  auto server = ChildProcess::Start(
      {skillstore::testing::BinaryPath("skillstore-server"), "--listen", "127.0.0.1:0", "--db",
       dir.File("db"), "--auth-token-file", dir.File("missing")},
      dir.File("missing.log"));
  ASSERT_TRUE(server.ok());
  absl::StatusOr<int> code = (*server)->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok());
  EXPECT_NE(*code, 0);
  EXPECT_NE((*server)->ReadLog().find(dir.File("missing") + ": cannot read"), std::string::npos)
      << (*server)->ReadLog();
}

TEST(TokenFileTest, ParsesRolesHashesLabelsAndComments) {
  const std::string hash = auth::Sha256Hex("t1");
  const std::string upper = absl::AsciiStrToUpper(auth::Sha256Hex("t2"));
  absl::StatusOr<std::vector<TokenEntry>> entries =
      ParseTokenFile(absl::StrCat("# comment\n  \n\tadmin ", hash,
                                  "   ops team (rotated 2026)  \r\nreader\t", upper, "\n"),
                     "f");
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].role, auth::Role::kAdmin);
  EXPECT_EQ((*entries)[0].sha256_hex, hash);
  EXPECT_EQ((*entries)[0].label, "ops team (rotated 2026)");
  EXPECT_EQ((*entries)[0].line, 3);
  EXPECT_EQ((*entries)[1].role, auth::Role::kReader);
  EXPECT_EQ((*entries)[1].sha256_hex, auth::Sha256Hex("t2"));  // hex case folded
  EXPECT_EQ((*entries)[1].label, "");
}

TEST(TokenFileTest, WorkerTokensMayBeBoundToWorkerIds) {
  const std::string hash = auth::Sha256Hex("t1");
  absl::StatusOr<std::vector<TokenEntry>> entries = ParseTokenFile(
      absl::StrCat("worker:build-* ", hash, " ci\nworker ", auth::Sha256Hex("t2")), "f");
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].role, auth::Role::kWorker);
  EXPECT_EQ((*entries)[0].worker_ids, "build-*");
  EXPECT_EQ((*entries)[0].label, "ci");
  EXPECT_EQ((*entries)[1].worker_ids, "");

  const Grant grant{"build-*", "ci"};
  EXPECT_TRUE(grant.CheckWorkerId("build-7").ok());
  EXPECT_TRUE(grant.CheckWorkerId("build-a/b").ok());  // `*` spans any character
  EXPECT_EQ(grant.CheckWorkerId("deploy-1").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Grant{}.CheckWorkerId("anything").ok());

  for (const std::string& bad : {absl::StrCat("admin:x ", hash), absl::StrCat("reader:x ", hash),
                                 absl::StrCat("worker: ", hash), absl::StrCat("worker:x")}) {
    SCOPED_TRACE(bad);
    absl::StatusOr<std::vector<TokenEntry>> parsed = ParseTokenFile(bad, "f");
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("f:1: "), std::string::npos) << parsed.status();
  }
  EXPECT_NE(ParseTokenFile(absl::StrCat("admin:x ", hash), "f")
                .status()
                .message()
                .find("only a worker token can be bound"),
            std::string::npos);
}

}  // namespace
}  // namespace skillstore::server
