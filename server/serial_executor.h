// Runs closures one after another, in the order they were posted, on a
// thread of its own.
//
// The write loop hands it the completions of each committed batch (answering
// an RPC means serialising the response and often writing it to the socket
// right there): the write loop is the one thread every request waits for,
// so it goes on to the next transaction while another core answers the last
// one. One thread, FIFO: the answers of a batch still go out after that
// batch's COMMIT and before those of the next.
#ifndef SKILLSTORE_SERVER_SERIAL_EXECUTOR_H_
#define SKILLSTORE_SERVER_SERIAL_EXECUTOR_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace skillstore::server {

class SerialExecutor {
 public:
  using Closure = std::function<void()>;

  // `name` names the thread (at most 15 characters show in top -H).
  explicit SerialExecutor(std::string name);
  ~SerialExecutor();  // Drain()
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;

  // Queues `closures` to run in order after everything posted before. After
  // Drain() they run at once on the caller's thread (so the order holds only
  // for a caller that posts before it drains, as the write loop does).
  void Post(std::vector<Closure> closures);

  // Runs everything posted so far, then ends the thread. Idempotent.
  void Drain();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::vector<Closure>> queue_;  // guarded by mu_
  bool draining_ = false;                   // guarded by mu_
  std::thread thread_;
};

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_SERIAL_EXECUTOR_H_
