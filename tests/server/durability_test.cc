// The real skillstore-server binary as a child process: kill -9 right after
// acknowledgements loses nothing acknowledged; SIGTERM shuts down cleanly;
// a service manager (systemd Type=notify) hears READY=1 once the server
// listens and STOPPING=1 when it shuts down.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <thread>

#include "notify_socket.h"
#include "process.h"
#include "server_test_util.h"

namespace skillstore::server::testing {
namespace {

using skillstore::testing::ServerProcess;
using skillstore::testing::TempDir;

std::unique_ptr<v1::SkillStore::Stub> Connect(const std::string& address) {
  return v1::SkillStore::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

TEST(Durability, KillNineLosesNoAcknowledgedWork) {
  TempDir dir;
  const std::string db = dir.File("store.db");
  const std::string log = dir.File("server.log");
  auto server = ServerProcess::Start(db, log);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect((*server)->address());

  // Concurrent enqueuers so acknowledgements come from shared group commits.
  std::vector<std::vector<std::string>> acked(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int batch = 0; batch < 10; ++batch) {
        auto ids = EnqueueN(*stub, 1 + batch % 3);
        acked[t].insert(acked[t].end(), ids.begin(), ids.end());
      }
    });
  }
  for (auto& t : threads) t.join();

  // Results, acknowledged on one stream; the kill comes right after the last ack.
  std::map<std::string, std::string> results;
  v1::ClaimTaskResponse claim = Claim(*stub, "w1", 20);
  ASSERT_EQ(claim.tasks_size(), 20);
  {
    auto context = Context();
    auto stream = stub->SubmitResult(context.get());
    for (const auto& task : claim.tasks()) {
      const std::string json = "{\"task\":\"" + task.task_id() + "\"}";
      ASSERT_TRUE(stream->Write(Success(task, "w1", json)));
      v1::SubmitResultResponse ack;
      ASSERT_TRUE(stream->Read(&ack));
      ASSERT_TRUE(ack.accepted());
      results[task.task_id()] = json;
    }
    (*server)->process().Kill();
  }

  auto restarted = ServerProcess::Start(db, log);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  stub = Connect((*restarted)->address());
  size_t total = 0;
  for (const auto& ids : acked) {
    for (const auto& id : ids) {
      v1::GetTaskRequest request;
      request.set_task_id(id);
      v1::GetTaskResponse task;
      EXPECT_TRUE(stub->GetTask(Context().get(), request, &task).ok()) << "lost task " << id;
      ++total;
    }
  }
  for (const auto& [id, json] : results) {
    v1::GetResultRequest request;
    request.set_task_id(id);
    v1::GetResultResponse result;
    ASSERT_TRUE(stub->GetResult(Context().get(), request, &result).ok()) << "lost result " << id;
    EXPECT_EQ(result.result_json(), json);
    EXPECT_EQ(result.status(), v1::TASK_STATUS_COMPLETED);
  }
  v1::Progress progress = GetProgress(*stub);
  EXPECT_EQ(progress.total(), static_cast<int64_t>(total));
  EXPECT_EQ(progress.completed(), 20);
}

TEST(Durability, SigtermShutsDownCleanly) {
  TempDir dir;
  const std::string db = dir.File("store.db");
  auto server = ServerProcess::Start(db, dir.File("server.log"),
                                     {"--lease-seconds", "5", "--log-level", "debug"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = Connect((*server)->address());
  EnqueueN(*stub, 5);
  // A long-poll in flight does not hold up the shutdown.
  std::thread poller([&] {
    v1::ClaimTaskRequest request;
    request.set_worker_id("w");
    request.add_types(v1::TASK_TYPE_VALIDATE);
    request.set_wait_seconds(30);
    v1::ClaimTaskResponse response;
    stub->ClaimTask(Context().get(), request, &response).ok();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  (*server)->process().Signal(SIGTERM);
  absl::StatusOr<int> code = (*server)->process().Wait(absl::Seconds(30));
  poller.join();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
  EXPECT_NE((*server)->process().ReadLog().find("shut down cleanly"), std::string::npos);
  // The WAL was checkpointed into the database file.
  struct stat wal;
  if (stat((db + "-wal").c_str(), &wal) == 0) EXPECT_EQ(wal.st_size, 0);
}

TEST(Durability, TellsTheServiceManagerWhenReadyAndWhenStopping) {
  TempDir dir;
  skillstore::testing::NotifySocket manager(dir.File("notify.sock"));
  ASSERT_TRUE(manager.ok());
  auto server = ServerProcess::Start(dir.File("store.db"), dir.File("server.log"));
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<std::string> ready = manager.Receive(absl::Seconds(30));
  ASSERT_TRUE(ready.ok()) << ready.status() << (*server)->process().ReadLog();
  EXPECT_EQ(*ready, "READY=1\nSTATUS=listening on " + (*server)->address());
  // A reload (systemd's ExecReload) the moment the server says it is ready.
  (*server)->process().Signal(SIGHUP);
  EnqueueN(*Connect((*server)->address()), 1);
  EXPECT_TRUE((*server)->process().Running());
  (*server)->process().Signal(SIGTERM);
  absl::StatusOr<std::string> stopping = manager.Receive(absl::Seconds(30));
  ASSERT_TRUE(stopping.ok()) << stopping.status();
  EXPECT_EQ(*stopping, "STOPPING=1");
  absl::StatusOr<int> code = (*server)->process().Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

}  // namespace
}  // namespace skillstore::server::testing
