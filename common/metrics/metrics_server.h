// MetricsServer: a minimal HTTP/1.1 server for Prometheus scrapes.
//
//   GET /metrics (or HEAD)  -> 200, the registry in the text format 0.0.4
//   any other path          -> 404
//   any other method        -> 405
//   no / wrong bearer token -> 401, when Options::bearer_token_file is set
//   malformed / too large   -> 400 / 431;  over max_connections -> 503
//
// One acceptor thread, plus one short-lived thread per connection (at most
// max_connections at a time), so a slow or stalled client cannot hold up
// other scrapes. Every connection has a deadline for the whole exchange, the
// request head is bounded, and each response closes its connection. Stop()
// (or the destructor) wakes every thread through a pipe, closes the listening
// socket and joins them all: no thread outlives the object.
//
// Plain sockets on purpose: a scrape endpoint must keep answering when the
// gRPC server is overloaded, and it needs nothing gRPC offers.
#ifndef SKILLSTORE_COMMON_METRICS_METRICS_SERVER_H_
#define SKILLSTORE_COMMON_METRICS_METRICS_SERVER_H_

#include <atomic>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/metrics/registry.h"
#include "common/unique_fd.h"

namespace skillstore::metrics {

// The --help text of --metrics-token-file, a flag of skillstore-server and
// skill-worker alike (Options::bearer_token_file).
inline constexpr char kMetricsTokenFileHelp[] =
    "a file holding one token: /metrics then answers only scrapes that send "
    "'Authorization: Bearer <token>' (Prometheus: authorization.credentials_file); "
    "re-read on SIGHUP";

class MetricsServer {
 public:
  struct Options {
    // host:port ("127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464", ":9464" for
    // every interface); port 0 picks a free port (see port()).
    std::string listen;
    size_t max_request_bytes = 8192;
    int max_connections = 16;
    // Bound on one connection's whole exchange (read request, write reply).
    absl::Duration io_timeout = absl::Seconds(10);
    // A file holding one token (--metrics-token-file): scrapes must then
    // send `Authorization: Bearer <token>` (Prometheus: `authorization:
    // credentials_file`). Read at Start and by ReloadBearerToken. Empty: no
    // token asked.
    std::string bearer_token_file;
  };

  // Binds and starts serving `registry`, which must outlive the server.
  // InvalidArgument for a malformed address or an unreadable or empty token
  // file, Unavailable when it cannot bind.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(Options options,
                                                              const Registry& registry);

  ~MetricsServer();  // Stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The bound port (the real one when the address asked for port 0).
  int port() const { return port_; }
  // host:port with the bound port, as given in Options::listen.
  std::string address() const;

  // Re-reads Options::bearer_token_file (on SIGHUP): later scrapes must send
  // the token it now holds. On error (InvalidArgument naming the file) the
  // previous token stays in force. Nothing to do, OK, without a token file.
  // Thread-safe.
  absl::Status ReloadBearerToken();

  // Stops accepting, interrupts open connections and joins every thread.
  // Idempotent.
  void Stop();

 private:
  struct Connection {
    UniqueFd fd;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  MetricsServer(Options options, const Registry& registry)
      : options_(std::move(options)), registry_(registry) {}

  void AcceptLoop();
  void Serve(Connection& connection);
  // Joins connection threads that have finished.
  void ReapConnections();

  // The token a scrape must send: empty when none is asked.
  std::string bearer_token() const;

  const Options options_;
  mutable std::mutex token_mu_;
  std::string bearer_token_;  // guarded by token_mu_
  const Registry& registry_;
  UniqueFd listen_fd_;
  int port_ = 0;
  // Closing stop_write_ makes stop_read_ readable (EOF) for every poll().
  UniqueFd stop_read_;
  UniqueFd stop_write_;
  std::thread acceptor_;

  std::mutex mu_;
  std::list<std::unique_ptr<Connection>> connections_;  // guarded by mu_
  bool stopped_ = false;                                // guarded by mu_
};

}  // namespace skillstore::metrics

#endif  // SKILLSTORE_COMMON_METRICS_METRICS_SERVER_H_
