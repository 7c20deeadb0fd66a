// ConnectionDriver: a thread that keeps gRPC's reconnection attempts moving
// while the server is away.
//
// gRPC 1.51 (without its EventEngine) makes progress on a connection attempt
// only while some thread polls the channel: a call waiting on it, a
// connectivity watch, or the process-wide backup poller, which runs every
// 5 s. After a failed attempt (the server restarting refuses the connection)
// the channel stays in TRANSIENT_FAILURE until a new connection is ready, so
// the worker's RPCs fail at once and poll nothing; each new attempt then
// advances one step per backup poll, and with the worker's short connect
// timeout (200 ms, GRPC_ARG_MIN_RECONNECT_BACKOFF_MS) a TLS handshake, which
// needs several round trips, timed out again and again: a worker over TLS
// could stay cut off for minutes after a server restart. Watching the
// channel's state from a thread of its own polls it, so a reconnection takes
// as long as the network needs.
#ifndef SKILLSTORE_WORKER_CONNECTION_DRIVER_H_
#define SKILLSTORE_WORKER_CONNECTION_DRIVER_H_

#include <grpcpp/channel.h>

#include <atomic>
#include <memory>
#include <thread>

namespace skillstore::worker {

class ConnectionDriver {
 public:
  explicit ConnectionDriver(std::shared_ptr<grpc::Channel> channel);
  ~ConnectionDriver();  // stops within one watch period

  ConnectionDriver(const ConnectionDriver&) = delete;
  ConnectionDriver& operator=(const ConnectionDriver&) = delete;

 private:
  void Loop();

  const std::shared_ptr<grpc::Channel> channel_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;  // last: starts once the rest is set
};

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_CONNECTION_DRIVER_H_
