// server/serial_executor: closures run in the order posted, on another
// thread, all of them by the end of Drain(); later posts run inline.
#include "serial_executor.h"

#include <pthread.h>

#include <atomic>
#include <vector>

#include "gtest/gtest.h"

namespace skillstore::server {
namespace {

TEST(SerialExecutorTest, RunsEverythingInPostOrderOnItsOwnThreadBeforeDrainReturns) {
  std::vector<int> order;  // touched by the executor's thread only until Drain
  std::atomic<int> on_caller_thread{0};
  const pthread_t caller = pthread_self();
  {
    SerialExecutor executor("test-exec");
    int next = 0;
    for (int batch = 0; batch < 200; ++batch) {
      std::vector<SerialExecutor::Closure> closures;
      for (int i = 0; i < 1 + batch % 7; ++i) {
        closures.push_back([&, n = next++] {
          if (pthread_equal(pthread_self(), caller)) ++on_caller_thread;
          order.push_back(n);
        });
      }
      executor.Post(std::move(closures));
    }
    executor.Drain();
    ASSERT_EQ(order.size(), static_cast<size_t>(next));
    for (int i = 0; i < next; ++i) ASSERT_EQ(order[i], i);
    EXPECT_EQ(on_caller_thread.load(), 0);

    // After Drain a post runs at once, here.
    bool ran = false;
    executor.Post({[&] { ran = pthread_equal(pthread_self(), caller); }});
    EXPECT_TRUE(ran);
  }
}

}  // namespace
}  // namespace skillstore::server
