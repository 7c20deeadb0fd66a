// Many claimers at once: every task is leased exactly once per attempt, and
// concurrent enqueues and submissions all land (group commit under load).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "server_test_util.h"

namespace skillstore::server::testing {
namespace {

TEST(Concurrency, ClaimersNeverShareATask) {
  TestServer server;
  auto& stub = server.stub();
  constexpr int kTasks = 2000;
  constexpr int kEnqueuers = 4;
  constexpr int kClaimers = 8;

  std::vector<std::thread> enqueuers;
  for (int e = 0; e < kEnqueuers; ++e) {
    enqueuers.emplace_back([&, e] {
      for (int i = 0; i < kTasks / kEnqueuers; i += 50) {
        std::vector<v1::TaskSpec> specs;
        for (int j = 0; j < 50; ++j) {
          specs.push_back(
              Spec(v1::TASK_TYPE_PARSE, "e" + std::to_string(e) + "/" + std::to_string(i + j)));
        }
        Enqueue(stub, std::move(specs));
      }
    });
  }

  std::mutex mu;
  std::map<std::string, int> leases;  // task id -> times leased
  std::atomic<int> claimed{0};
  std::vector<std::thread> claimers;
  for (int c = 0; c < kClaimers; ++c) {
    claimers.emplace_back([&, c] {
      const std::string worker = "worker-" + std::to_string(c);
      auto context = Context(absl::Seconds(120));
      auto stream = stub.SubmitResult(context.get());
      int sent = 0;
      while (claimed.load() < kTasks) {
        v1::ClaimTaskResponse claim = Claim(stub, worker, 1 + c % 5, /*wait_seconds=*/1);
        for (const auto& task : claim.tasks()) {
          EXPECT_EQ(task.lease().attempt(), 1);
          {
            std::lock_guard<std::mutex> lock(mu);
            ++leases[task.task_id()];
          }
          ++claimed;
          ASSERT_TRUE(stream->Write(Success(task, worker)));
          ++sent;
        }
      }
      stream->WritesDone();
      for (int i = 0; i < sent; ++i) {
        v1::SubmitResultResponse ack;
        ASSERT_TRUE(stream->Read(&ack));
        EXPECT_TRUE(ack.accepted()) << ack.message();
      }
      EXPECT_TRUE(stream->Finish().ok());
    });
  }
  for (auto& t : enqueuers) t.join();
  for (auto& t : claimers) t.join();

  EXPECT_EQ(claimed.load(), kTasks);
  EXPECT_EQ(leases.size(), static_cast<size_t>(kTasks));
  for (const auto& [id, count] : leases) EXPECT_EQ(count, 1) << "task " << id;
  v1::Progress progress = GetProgress(stub);
  EXPECT_EQ(progress.total(), kTasks);
  EXPECT_EQ(progress.completed(), kTasks);
  EXPECT_EQ(progress.in_progress(), 0);
}

TEST(Concurrency, ManyLongPollersAllWakeAndGetDistinctTasks) {
  TestServer server;
  auto& stub = server.stub();
  constexpr int kPollers = 16;
  std::vector<std::string> got(kPollers);
  std::vector<std::thread> pollers;
  for (int p = 0; p < kPollers; ++p) {
    pollers.emplace_back([&, p] {
      v1::ClaimTaskResponse claim = Claim(stub, "p" + std::to_string(p), 1, /*wait_seconds=*/30);
      if (claim.tasks_size() == 1) got[p] = claim.tasks(0).task_id();
    });
  }
  // Other RPCs are not starved while the long-polls wait.
  EXPECT_EQ(GetProgress(stub).total(), 0);
  EnqueueN(stub, kPollers);
  for (auto& t : pollers) t.join();
  std::set<std::string> distinct(got.begin(), got.end());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kPollers));
  EXPECT_EQ(distinct.count(""), 0u);
}

}  // namespace
}  // namespace skillstore::server::testing
