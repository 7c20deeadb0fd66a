#include "server.h"

#include <arpa/inet.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>

#include <cstring>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/metrics/grpc_metrics.h"
#include "proto/api_descriptors.h"
#include "schema.h"
#include "spdlog/spdlog.h"
#include "status_macros.h"
#include "unparsable_request.h"

namespace skillstore::server {
namespace {

// The TLS credentials, or null for plaintext. Files are read and checked
// here so a bad one stops the server at startup with its name.
absl::StatusOr<std::unique_ptr<TlsReloader>> MakeTls(const ServerOptions& options) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together; pass both or neither");
  }
  if (options.tls_cert_file.empty()) {
    if (!options.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls-client-ca needs --tls-cert and --tls-key (mutual TLS is TLS first)");
    }
    return nullptr;
  }
  return TlsReloader::Create(
      TlsFiles{options.tls_cert_file, options.tls_key_file, options.tls_client_ca_file});
}

}  // namespace

absl::Status CheckListenAddress(absl::string_view listen) {
  if (absl::StartsWith(listen, "unix:") || absl::StartsWith(listen, "unix-abstract:")) {
    return absl::OkStatus();
  }
  const size_t colon = listen.rfind(':');
  const absl::string_view port = colon == absl::string_view::npos ? "" : listen.substr(colon + 1);
  const bool bracketed = absl::StartsWith(listen, "[");
  uint32_t number = 0;
  if (colon == absl::string_view::npos || (bracketed && listen[colon - 1] != ']') ||
      (!bracketed && listen.substr(0, colon).find(':') != absl::string_view::npos) ||
      port.empty() || port.size() > 5 || !absl::c_all_of(port, absl::ascii_isdigit) ||
      !absl::SimpleAtoi(port, &number) || number > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen ", listen,
                     ": expected HOST:PORT with a port from 0 to 65535 (0 picks a free one), e.g. "
                     "127.0.0.1:50051, 0.0.0.0:50051, [::1]:50051, or unix:/path/to/socket"));
  }
  return absl::OkStatus();
}

bool IsLoopbackListen(absl::string_view listen) {
  if (absl::StartsWith(listen, "unix:") || absl::StartsWith(listen, "unix-abstract:")) return true;
  absl::string_view host;
  if (absl::StartsWith(listen, "[")) {
    const size_t close = listen.find(']');
    if (close == absl::string_view::npos) return false;
    host = listen.substr(1, close - 1);
  } else {
    const size_t colon = listen.rfind(':');
    host = colon == absl::string_view::npos ? listen : listen.substr(0, colon);
  }
  if (absl::AsciiStrToLower(host) == "localhost") return true;
  const std::string text(host);
  unsigned char addr[16];
  if (inet_pton(AF_INET, text.c_str(), addr) == 1) return addr[0] == 127;
  if (inet_pton(AF_INET6, text.c_str(), addr) == 1) {
    static const unsigned char kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::memcmp(addr, kLoopback6, 16) == 0;
  }
  return false;  // a name or a wildcard: reachable from elsewhere
}

absl::StatusOr<std::unique_ptr<SkillStoreServer>> SkillStoreServer::Start(
    const ServerOptions& options) {
  // Checked before the database is touched: a refused start changes nothing.
  SKS_RETURN_IF_ERROR(CheckListenAddress(options.listen));
  const bool authenticated =
      !options.auth_token_file.empty() || !options.tls_client_ca_file.empty();
  if (!authenticated && !options.insecure && !IsLoopbackListen(options.listen)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to listen on ", options.listen,
        " without authentication: pass --auth-token-file FILE (or --tls-client-ca for mutual "
        "TLS), or --insecure to let anyone who reaches the port do anything"));
  }
  SKS_ASSIGN_OR_RETURN(std::unique_ptr<TlsReloader> tls, MakeTls(options));
  std::shared_ptr<grpc::ServerCredentials> credentials =
      tls != nullptr ? tls->credentials() : grpc::InsecureServerCredentials();
  auto server = std::unique_ptr<SkillStoreServer>(new SkillStoreServer(options));
  server->tls_ = std::move(tls);
  if (!options.auth_token_file.empty()) {
    SKS_ASSIGN_OR_RETURN(server->authorizer_, Authorizer::FromFile(options.auth_token_file));
    spdlog::info("token authentication: {} tokens from {}", server->authorizer_->size(),
                 options.auth_token_file);
  }
  SKS_ASSIGN_OR_RETURN(server->db_, Db::Open(options.db_path, Db::Mode::kReadWrite));
  Db& db = *server->db_;
  SKS_RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode = WAL"));
  SKS_RETURN_IF_ERROR(db.Exec(options.synchronous_full ? "PRAGMA synchronous = FULL"
                                                       : "PRAGMA synchronous = NORMAL"));
  // A larger page cache keeps the hot index pages (claim, lease) in
  // memory.
  SKS_RETURN_IF_ERROR(db.Exec("PRAGMA cache_size = -65536"));
  // Debian builds SQLite with SQLITE_SECURE_DELETE: deleted content is
  // overwritten with zeros, and each task deletes two index entries (its
  // claim entry when leased, its lease entry when done), so the writer spent
  // ~7% of its instructions clearing index pages (callgrind; FAST saved
  // nothing). Nothing deleted here is secret: the rows stay, only index
  // entries and results replaced by a retry go, and the file's permissions
  // guard everything in it alike.
  SKS_RETURN_IF_ERROR(db.Exec("PRAGMA secure_delete = OFF"));
  Checkpointer::Options checkpoint_options;
  checkpoint_options.synchronous_full = options.synchronous_full;
  // Migrations checkpoint as SQLite does by default; from then on the WAL is
  // copied back on the checkpointer's thread (checkpointer.h).
  SKS_RETURN_IF_ERROR(db.Exec(
      absl::StrCat("PRAGMA wal_autocheckpoint = ", checkpoint_options.threshold_frames)));
  SKS_RETURN_IF_ERROR(MigrateSchema(db));

  const int64_t now_ms = NowUnixMs();
  server->progress_ = std::make_unique<ProgressTracker>();
  SKS_RETURN_IF_ERROR(server->progress_->Load(db, now_ms));
  SKS_ASSIGN_OR_RETURN(server->writer_, TaskWriter::Create(db, options.store));
  WriteLoop::Options write_loop_options = options.write_loop;
  if (options.synchronous_full) {
    // From here on the write loop's wal-sync thread makes the fsync FULL
    // would make inside each COMMIT (wal_sync.h); the migrations above
    // still committed with FULL.
    SKS_ASSIGN_OR_RETURN(server->wal_sync_, WalSync::ForWal(db));
    SKS_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = NORMAL"));
    write_loop_options.wal_sync = server->wal_sync_.get();
  }
  ServiceOptions service_options = options.service;
  service_options.authorizer = server->authorizer_.get();
  if (!options.metrics_listen.empty()) {
    server->registry_ = std::make_unique<metrics::Registry>();
    server->metrics_ = std::make_unique<ServerMetrics>(*server->registry_, *server->progress_,
                                                       options.db_path, server->tls_.get());
    write_loop_options.metrics = server->metrics_.get();
    service_options.metrics = server->metrics_.get();
    checkpoint_options.metrics = server->metrics_.get();
  }
  SKS_ASSIGN_OR_RETURN(server->checkpointer_,
                       Checkpointer::Start(options.db_path, db, checkpoint_options));
  server->write_loop_ =
      std::make_unique<WriteLoop>(db, *server->writer_, *server->progress_, write_loop_options);
  server->reader_ = std::make_unique<TaskReader>(options.db_path);
  server->watchers_ = std::make_unique<ProgressWatchers>(*server->progress_, options.watchers);
  server->service_ =
      std::make_unique<SkillStoreService>(*server->write_loop_, *server->reader_,
                                          *server->progress_, *server->watchers_, service_options);

  grpc::EnableDefaultHealthCheckService(true);
  SKS_ASSIGN_OR_RETURN(server->reflection_, ReflectionService::Create(proto::ApiDescriptorSet()));
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, so a second server on a port in use
  // would start too and clients would reach either database at random.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(options.listen, credentials, &server->port_);
  builder.RegisterService(server->service_.get());
  for (grpc::Service* service : server->reflection_->services()) builder.RegisterService(service);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(MakeUnparsableRequestInterceptorFactory());
  if (server->metrics_ != nullptr) {
    // After the rewrite: interceptors see an outgoing status in the order
    // they are listed, so the metrics count the status the client receives.
    creators.push_back(metrics::MakeServerMetricsInterceptorFactory(server->metrics_->rpc()));
  }
  builder.experimental().SetInterceptorCreators(std::move(creators));
  server->write_loop_->Start();
  server->watchers_->Start();
  server->grpc_server_ = builder.BuildAndStart();
  if (server->grpc_server_ == nullptr || server->port_ == 0) {
    if (server->grpc_server_ != nullptr) server->grpc_server_->Shutdown();
    server->grpc_server_.reset();  // nothing to drain; the members stop their threads
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     " (is another server using that port? pass --listen host:port)"));
  }
  // The empty name means the whole server; the service's own name is what
  // per-service probes (Kubernetes grpc probes with `service:`) ask for.
  if (auto* health = server->grpc_server_->GetHealthCheckService()) {
    health->SetServingStatus(v1::SkillStore::service_full_name(), true);
  }
  if (server->registry_ != nullptr) {
    metrics::MetricsServer::Options http;
    http.listen = options.metrics_listen;
    http.bearer_token_file = options.metrics_token_file;
    absl::StatusOr<std::unique_ptr<metrics::MetricsServer>> metrics_http =
        metrics::MetricsServer::Start(http, *server->registry_);
    if (!metrics_http.ok()) return metrics_http.status();  // ~SkillStoreServer shuts down
    server->metrics_http_ = std::move(*metrics_http);
    spdlog::info("metrics at http://{}/metrics", server->metrics_http_->address());
  }
  if (server->tls_ != nullptr) {
    const absl::Duration every = options.tls_reload_interval;
    spdlog::info("TLS{}: serving {} ({}); the files are re-read on SIGHUP{}",
                 server->tls_->mutual()
                     ? absl::StrCat(" with client certificates from ", options.tls_client_ca_file)
                     : "",
                 options.tls_cert_file, server->tls_->Describe(),
                 every > absl::ZeroDuration()
                     ? absl::StrCat(" and every ", absl::FormatDuration(every))
                     : "");
    server->tls_->StartPolling(every);
  }
  const v1::Progress progress = server->progress_->Snapshot(now_ms);
  spdlog::info("database {} (schema v{}, {}): {} tasks, {} queued, {} in progress",
               options.db_path, LatestSchemaVersion(),
               options.synchronous_full ? "synchronous=full: every reply after the fsync of its commit"
                                        : "synchronous=normal: commits are not fsynced",
               progress.total(), progress.queued(), progress.in_progress());
  return server;
}

absl::Status SkillStoreServer::ReloadAuth() {
  if (authorizer_ == nullptr) return absl::OkStatus();
  SKS_RETURN_IF_ERROR(authorizer_->Reload());
  spdlog::info("token authentication: reloaded {} tokens from {}", authorizer_->size(),
               authorizer_->path());
  return absl::OkStatus();
}

absl::Status SkillStoreServer::ReloadMetricsToken() {
  if (metrics_http_ == nullptr || options_.metrics_token_file.empty()) return absl::OkStatus();
  SKS_RETURN_IF_ERROR(metrics_http_->ReloadBearerToken());
  spdlog::info("/metrics: reloaded its token from {}", options_.metrics_token_file);
  return absl::OkStatus();
}

absl::StatusOr<bool> SkillStoreServer::ReloadTls() {
  if (tls_ == nullptr) return false;
  SKS_ASSIGN_OR_RETURN(bool changed, tls_->Reload());
  if (changed) {
    spdlog::info(
        "TLS files reloaded: new connections use them within {}s (certificate: {}); open "
        "connections keep theirs",
        TlsReloader::kPublishIntervalSeconds, tls_->Describe());
  } else {
    spdlog::info("TLS files unchanged: still serving {}", tls_->Describe());
  }
  return changed;
}

std::string SkillStoreServer::DescribeTls() const {
  return tls_ != nullptr ? tls_->Describe() : std::string();
}

std::string SkillStoreServer::address() const {
  const std::string& listen = options_.listen;
  const size_t colon = listen.rfind(':');
  return absl::StrCat(colon == std::string::npos ? listen : listen.substr(0, colon), ":", port_);
}

void SkillStoreServer::Shutdown(absl::Duration grace) {
  {
    std::lock_guard<std::mutex> lock(shutdown_mu_);
    if (shut_down_ || grpc_server_ == nullptr) return;  // never started serving
    shut_down_ = true;
  }
  spdlog::info("shutting down: finishing in-flight requests");
  if (auto* health = grpc_server_->GetHealthCheckService()) health->Shutdown();
  watchers_->Shutdown();
  write_loop_->ReleaseWaiters();
  // In-flight RPCs get the grace period; then every connection is closed at
  // once (and whatever still runs, like an idle result stream, is cancelled).
  if (!service_->in_flight().WaitIdle(absl::Now() + grace)) {
    spdlog::info("grace period over: cancelling the RPCs still open");
  }
  grpc_server_->Shutdown(std::chrono::system_clock::now());
  grpc_server_->Wait();
  spdlog::debug("gRPC server stopped; committing the last writes");
  write_loop_->Stop();
  checkpointer_->Stop();
  if (absl::Status status = db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)"); !status.ok()) {
    spdlog::warn("WAL checkpoint at shutdown: {}", status.ToString());
  }
  if (metrics_http_ != nullptr) metrics_http_->Stop();
  spdlog::info("shut down cleanly; database {} closed", options_.db_path);
}

SkillStoreServer::~SkillStoreServer() {
  Shutdown(absl::Seconds(5));
  // Members are destroyed in reverse order: gRPC server, service, watchers,
  // readers, write loop, then the database.
}

}  // namespace skillstore::server
