// A minimal client for beanstalkd's text protocol (doc/protocol.txt of the
// beanstalkd package): put, reserve, delete, stats — all compare.sh needs.
// Blocking socket I/O; one object per connection, not thread-safe.
#ifndef SKILLSTORE_BENCH_PEERS_BEANSTALK_CLIENT_H_
#define SKILLSTORE_BENCH_PEERS_BEANSTALK_CLIENT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace skillstore::bench {

struct BeanstalkJob {
  uint64_t id = 0;
  std::string body;
};

class BeanstalkConnection {
 public:
  // Connects to host:port; throws std::runtime_error on failure (as do all
  // calls below on I/O errors or unexpected replies).
  BeanstalkConnection(const std::string& host, int port);
  ~BeanstalkConnection();
  BeanstalkConnection(const BeanstalkConnection&) = delete;
  BeanstalkConnection& operator=(const BeanstalkConnection&) = delete;

  // Pipelining: SendPut writes a "put" without waiting; ReadPutReply reads
  // the "INSERTED <id>" that answers the oldest unanswered put.
  void SendPut(uint32_t priority, uint32_t ttr_seconds, std::string_view body);
  uint64_t ReadPutReply();

  // reserve-with-timeout; nullopt on TIMED_OUT.
  std::optional<BeanstalkJob> Reserve(int timeout_seconds);
  void Delete(uint64_t id);

  // The server's "stats" as key -> value (YAML dictionary of scalars).
  std::map<std::string, std::string> Stats();

 private:
  void WriteAll(std::string_view data);
  std::string ReadLine();          // without "\r\n"
  std::string ReadExact(size_t n);  // n bytes plus the trailing "\r\n"

  int fd_ = -1;
  std::string in_;  // bytes read but not consumed yet
};

}  // namespace skillstore::bench

#endif  // SKILLSTORE_BENCH_PEERS_BEANSTALK_CLIENT_H_
