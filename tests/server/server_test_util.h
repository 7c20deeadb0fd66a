// Helpers for server tests: an in-process SkillStoreServer on an ephemeral
// loopback port with its database in a fresh temporary directory, a stub
// connected to it over real gRPC, and small wrappers around the RPCs.
#ifndef SKILLSTORE_TESTS_SERVER_SERVER_TEST_UTIL_H_
#define SKILLSTORE_TESTS_SERVER_SERVER_TEST_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "process.h"
#include "server.h"
#include "sqlite.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace skillstore::server::testing {

namespace v1 = ::skillstore::v1;

class TestServer {
 public:
  // Defaults suited to tests: port 0, database in a temp dir, 50 ms backoff.
  static ServerOptions DefaultOptions();

  // Starts a server with `options` (listen and db_path are filled in).
  explicit TestServer(ServerOptions options = DefaultOptions());
  ~TestServer();

  v1::SkillStore::Stub& stub() { return *stub_; }
  const std::string& address() const { return address_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  const std::string& db_path() const { return options_.db_path; }

  // Shuts the server down cleanly and starts it again on the same database.
  void Restart();

 private:
  void StartServer();

  skillstore::testing::TempDir dir_;
  ServerOptions options_;
  std::unique_ptr<SkillStoreServer> server_;
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SkillStore::Stub> stub_;
};

// A client context with a generous deadline (the machine running tests is slow).
std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout = absl::Seconds(60));

v1::TaskSpec Spec(v1::TaskType type, const std::string& skill_path, int priority = 0);

// Enqueues `specs`; the test fails unless the call succeeds.
std::vector<std::string> Enqueue(v1::SkillStore::Stub& stub, std::vector<v1::TaskSpec> specs);
std::vector<std::string> EnqueueN(v1::SkillStore::Stub& stub, int count,
                                  v1::TaskType type = v1::TASK_TYPE_PARSE, int priority = 0);

v1::ClaimTaskResponse Claim(v1::SkillStore::Stub& stub, const std::string& worker_id,
                            int max_tasks = 1, int wait_seconds = 0,
                            std::vector<v1::TaskType> types = {});

// Sends one result on its own SubmitResult stream and returns the ack.
v1::SubmitResultResponse Submit(v1::SkillStore::Stub& stub, const v1::SubmitResultRequest& request);
v1::SubmitResultRequest Success(const v1::ClaimedTask& task, const std::string& worker_id,
                                const std::string& result_json = "{\"ok\":true}");
v1::SubmitResultRequest Failure(const v1::ClaimedTask& task, const std::string& worker_id,
                                const std::string& error, bool retryable);

v1::GetTaskResponse GetTask(v1::SkillStore::Stub& stub, const std::string& task_id);
v1::Progress GetProgress(v1::SkillStore::Stub& stub);

// Opens (creating) the database at `path` read-write in WAL mode, as the
// server does; nullptr, with a test failure, when it cannot.
std::unique_ptr<Db> OpenWalDb(const std::string& path);

// The first column of the first row of `sql` as an integer (-1, with a test
// failure, when the statement cannot run).
int64_t QueryInt(Db& db, const std::string& sql);

// A client identity for mutual TLS: PEM certificate and key file paths.
struct ClientCert {
  std::string cert;
  std::string key;
};

// A TLS channel trusting only `ca_file` (and presenting `client` when given).
// Its own subchannel pool: gRPC shares connections between channels with
// equal arguments, and every probe must make a handshake of its own.
std::shared_ptr<grpc::Channel> Channel(const std::string& address, const std::string& ca_file,
                                       const ClientCert* client = nullptr);

// Waits until `stub` reports `completed` tasks finished (completed or
// failed), or `timeout` passes; returns the last progress.
v1::Progress WaitForCompleted(v1::SkillStore::Stub& stub, int64_t completed,
                              absl::Duration timeout = absl::Seconds(60));

// Polls `condition` every 20 ms until it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout = absl::Seconds(30));

}  // namespace skillstore::server::testing

#endif  // SKILLSTORE_TESTS_SERVER_SERVER_TEST_UTIL_H_
