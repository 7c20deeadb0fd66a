// SkillStoreServer: the whole server in one object — database, write loop,
// readers, progress, gRPC service with reflection and health — so main() and
// tests start exactly the same thing.
#ifndef SKILLSTORE_SERVER_SERVER_H_
#define SKILLSTORE_SERVER_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "authorizer.h"
#include "checkpointer.h"
#include "common/metrics/metrics_server.h"
#include "common/metrics/registry.h"
#include "progress.h"
#include "progress_watchers.h"
#include "reflection_service.h"
#include "server_metrics.h"
#include "service.h"
#include "sqlite.h"
#include "task_reader.h"
#include "task_writer.h"
#include "tls_reloader.h"
#include "wal_sync.h"
#include "write_loop.h"

namespace skillstore::server {

struct ServerOptions {
  // host:port; port 0 picks a free one (see SkillStoreServer::port()).
  std::string listen = "127.0.0.1:50051";
  std::string db_path = "./skillstore.db";
  // true (--synchronous=full): every commit is on disk before its caller
  // hears back; the fsync runs on the write loop's wal-sync thread
  // (wal_sync.h). false (normal): no fsync per commit, so the last commits
  // may be lost on power failure (not on a process crash).
  bool synchronous_full = true;
  // host:port for the Prometheus /metrics endpoint; empty: no metrics.
  std::string metrics_listen;
  // A file with the token /metrics scrapes must send (re-read by
  // ReloadMetricsToken); empty: none asked.
  std::string metrics_token_file;
  // Largest gRPC message the server accepts (batches of tasks with content).
  int max_receive_message_bytes = 64 << 20;
  // Token file (authorizer.h); empty: no token authentication.
  std::string auth_token_file;
  // PEM files. cert + key: serve TLS instead of plaintext. client_ca as well:
  // mutual TLS, every client must present a certificate signed by this CA.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // How often the TLS files are checked for a renewal (besides ReloadTls, on
  // SIGHUP); zero: only on ReloadTls.
  absl::Duration tls_reload_interval = absl::Seconds(60);
  // Without tokens or client certificates the server listens only on
  // loopback; true lifts that (anyone who reaches the port may do anything).
  bool insecure = false;
  StoreOptions store;
  ServiceOptions service;
  WriteLoop::Options write_loop;
  ProgressWatchers::Options watchers;
};

class SkillStoreServer {
 public:
  // Opens (creating and migrating) the database and starts serving.
  static absl::StatusOr<std::unique_ptr<SkillStoreServer>> Start(const ServerOptions& options);

  ~SkillStoreServer();  // Shutdown(absl::Seconds(5))

  // The bound port (the real one when options.listen asked for port 0).
  int port() const { return port_; }
  // host:port with the bound port.
  std::string address() const;
  // The bound port of the /metrics endpoint (0 when it is off).
  int metrics_port() const { return metrics_http_ ? metrics_http_->port() : 0; }

  // Re-reads the token file (SIGHUP). On error the previous tokens stay in
  // force and the error says why. OK and a no-op without a token file.
  absl::Status ReloadAuth();

  // Re-reads --metrics-token-file (SIGHUP), as ReloadAuth does the token file.
  absl::Status ReloadMetricsToken();

  // Re-reads the TLS files (SIGHUP). true: they changed and new handshakes
  // use them within a second; false: unchanged, or no TLS. On error (a file
  // unreadable, not PEM, a key that does not belong to the certificate) the
  // previous certificate keeps serving and the error names the file.
  absl::StatusOr<bool> ReloadTls();

  // The certificate being served (subject, issuer, expiry); empty without TLS.
  std::string DescribeTls() const;

  // Stops serving: long-polls and watch streams are answered at once, other
  // RPCs get up to `grace` to finish, then every pending write is committed,
  // the WAL checkpointed and the database closed. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  explicit SkillStoreServer(ServerOptions options) : options_(std::move(options)) {}

  const ServerOptions options_;
  int port_ = 0;
  // Metrics first: everything that reports into them is destroyed before.
  std::unique_ptr<metrics::Registry> registry_;
  std::unique_ptr<Authorizer> authorizer_;  // outlives the service that uses it
  std::unique_ptr<TlsReloader> tls_;        // null without TLS; outlives grpc_server_
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<Checkpointer> checkpointer_;  // stops before db_ closes
  std::unique_ptr<TaskWriter> writer_;
  std::unique_ptr<ProgressTracker> progress_;
  std::unique_ptr<WalSync> wal_sync_;  // null with synchronous=normal; outlives write_loop_
  std::unique_ptr<WriteLoop> write_loop_;
  std::unique_ptr<TaskReader> reader_;
  std::unique_ptr<ProgressWatchers> watchers_;
  std::unique_ptr<SkillStoreService> service_;
  std::unique_ptr<ReflectionService> reflection_;  // outlives grpc_server_
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<metrics::MetricsServer> metrics_http_;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;
};

// OK when `listen` is host:port (port 0 to 65535; 0 picks a free one),
// [v6-address]:port, :port (every interface) or a unix: socket; otherwise
// says what is wrong. gRPC itself would serve "host:99999" on some other
// port without a word.
absl::Status CheckListenAddress(absl::string_view listen);

// True when `listen` (host:port) only accepts connections from this machine:
// 127.0.0.0/8, ::1, localhost, or a unix: socket.
bool IsLoopbackListen(absl::string_view listen);

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_SERVER_H_
