#include "serial_executor.h"

#include <pthread.h>

namespace skillstore::server {

SerialExecutor::SerialExecutor(std::string name) {
  thread_ = std::thread([this, name = std::move(name)] {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    Loop();
  });
}

SerialExecutor::~SerialExecutor() { Drain(); }

void SerialExecutor::Post(std::vector<Closure> closures) {
  if (closures.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!draining_) {
      queue_.push_back(std::move(closures));
      wake_.notify_one();
      return;
    }
  }
  for (Closure& closure : closures) closure();
}

void SerialExecutor::Drain() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    draining_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void SerialExecutor::Loop() {
  while (true) {
    std::vector<Closure> closures;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return !queue_.empty() || draining_; });
      if (queue_.empty()) return;  // draining, and nothing left
      closures = std::move(queue_.front());
      queue_.pop_front();
    }
    for (Closure& closure : closures) closure();
  }
}

}  // namespace skillstore::server
