#include "server_test_util.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "files.h"

namespace skillstore::server::testing {

ServerOptions TestServer::DefaultOptions() {
  ServerOptions options;
  options.store.backoff_base_ms = 50;
  options.store.backoff_max_ms = 200;
  return options;
}

TestServer::TestServer(ServerOptions options) : options_(std::move(options)) {
  options_.listen = "127.0.0.1:0";
  options_.db_path = dir_.File("skillstore.db");
  StartServer();
}

TestServer::~TestServer() {
  stub_.reset();
  channel_.reset();
  if (server_) server_->Shutdown(absl::Seconds(5));
}

void TestServer::StartServer() {
  absl::StatusOr<std::unique_ptr<SkillStoreServer>> server = SkillStoreServer::Start(options_);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
  address_ = server_->address();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  channel_ = grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args);
  stub_ = v1::SkillStore::NewStub(channel_);
}

void TestServer::Restart() {
  stub_.reset();
  channel_.reset();
  server_->Shutdown(absl::Seconds(5));
  server_.reset();
  StartServer();
}

std::unique_ptr<Db> OpenWalDb(const std::string& path) {
  absl::StatusOr<std::unique_ptr<Db>> db = Db::Open(path, Db::Mode::kReadWrite);
  EXPECT_TRUE(db.ok()) << db.status();
  if (!db.ok()) return nullptr;
  EXPECT_TRUE((*db)->Exec("PRAGMA journal_mode = WAL").ok());
  return *std::move(db);
}

int64_t QueryInt(Db& db, const std::string& sql) {
  absl::StatusOr<Statement> stmt = db.Prepare(sql);
  EXPECT_TRUE(stmt.ok()) << stmt.status();
  if (!stmt.ok()) return -1;
  absl::StatusOr<bool> row = stmt->Step();
  EXPECT_TRUE(row.ok() && *row) << sql;
  return stmt->ColumnInt(0);
}

std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(timeout));
  return context;
}

v1::TaskSpec Spec(v1::TaskType type, const std::string& skill_path, int priority) {
  v1::TaskSpec spec;
  spec.set_type(type);
  spec.set_skill_path(skill_path);
  spec.set_content("---\nname: " + skill_path + "\n---\n# Skill\n");
  spec.set_priority(priority);
  return spec;
}

std::vector<std::string> Enqueue(v1::SkillStore::Stub& stub, std::vector<v1::TaskSpec> specs) {
  v1::EnqueueRequest request;
  for (auto& spec : specs) *request.add_tasks() = std::move(spec);
  v1::EnqueueResponse response;
  grpc::Status status = stub.Enqueue(Context().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return {response.task_ids().begin(), response.task_ids().end()};
}

std::vector<std::string> EnqueueN(v1::SkillStore::Stub& stub, int count, v1::TaskType type,
                                  int priority) {
  std::vector<v1::TaskSpec> specs;
  for (int i = 0; i < count; ++i)
    specs.push_back(Spec(type, "skills/" + std::to_string(i), priority));
  return Enqueue(stub, std::move(specs));
}

v1::ClaimTaskResponse Claim(v1::SkillStore::Stub& stub, const std::string& worker_id, int max_tasks,
                            int wait_seconds, std::vector<v1::TaskType> types) {
  v1::ClaimTaskRequest request;
  request.set_worker_id(worker_id);
  request.set_max_tasks(max_tasks);
  request.set_wait_seconds(wait_seconds);
  request.set_hostname("test-host");
  for (v1::TaskType type : types) request.add_types(type);
  v1::ClaimTaskResponse response;
  grpc::Status status = stub.ClaimTask(Context().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

v1::SubmitResultResponse Submit(v1::SkillStore::Stub& stub,
                                const v1::SubmitResultRequest& request) {
  auto context = Context();
  auto stream = stub.SubmitResult(context.get());
  EXPECT_TRUE(stream->Write(request));
  v1::SubmitResultResponse response;
  EXPECT_TRUE(stream->Read(&response));
  stream->WritesDone();
  grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

v1::SubmitResultRequest Success(const v1::ClaimedTask& task, const std::string& worker_id,
                                const std::string& result_json) {
  v1::SubmitResultRequest request;
  request.set_task_id(task.task_id());
  request.set_fencing_token(task.lease().fencing_token());
  request.set_worker_id(worker_id);
  request.set_success(true);
  request.set_result_json(result_json);
  request.mutable_metrics()->set_duration_seconds(0.25);
  request.mutable_metrics()->set_worker_id(worker_id);
  return request;
}

v1::SubmitResultRequest Failure(const v1::ClaimedTask& task, const std::string& worker_id,
                                const std::string& error, bool retryable) {
  v1::SubmitResultRequest request;
  request.set_task_id(task.task_id());
  request.set_fencing_token(task.lease().fencing_token());
  request.set_worker_id(worker_id);
  request.set_success(false);
  request.set_error(error);
  request.set_retryable(retryable);
  return request;
}

v1::GetTaskResponse GetTask(v1::SkillStore::Stub& stub, const std::string& task_id) {
  v1::GetTaskRequest request;
  request.set_task_id(task_id);
  v1::GetTaskResponse response;
  grpc::Status status = stub.GetTask(Context().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

v1::Progress GetProgress(v1::SkillStore::Stub& stub) {
  v1::Progress progress;
  grpc::Status status = stub.GetProgress(Context().get(), v1::GetProgressRequest(), &progress);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return progress;
}

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address, const std::string& ca_file,
                                       const ClientCert* client) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = skillstore::testing::ReadFile(ca_file);
  if (client != nullptr) {
    ssl.pem_cert_chain = skillstore::testing::ReadFile(client->cert);
    ssl.pem_private_key = skillstore::testing::ReadFile(client->key);
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

v1::Progress WaitForCompleted(v1::SkillStore::Stub& stub, int64_t completed,
                              absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  v1::Progress progress;
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (stub.GetProgress(&context, v1::GetProgressRequest(), &progress).ok() &&
        progress.completed() + progress.failed() >= completed) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  return progress;
}

}  // namespace skillstore::server::testing
