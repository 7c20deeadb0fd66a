// skillstore-server: the coordinator. Everything lives in SkillStoreServer;
// this file parses flags, sets up logging and waits for SIGTERM / SIGINT
// (shut down) and SIGHUP (re-read the token files and the TLS files).
#include <malloc.h>
#include <signal.h>

#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/duration_flag.h"
#include "common/metrics/grpc_metrics.h"
#include "common/metrics/log_setup.h"
#include "common/metrics/metrics_server.h"
#include "common/service_notify.h"
#include "server.h"
#include "spdlog/spdlog.h"

int main(int argc, char** argv) {
  // Block the shutdown and reload signals first thing, in every thread
  // (gRPC's included, which start later), and take them synchronously with
  // sigwait below. First thing: until then SIGHUP's default action ends the
  // process, and a reload sent right after the start (systemd's ExecReload)
  // must wait for the server instead of killing it.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  skillstore::server::ServerOptions options;
  std::string log_level = "info";
  std::string log_format = "text";
  std::string synchronous = "full";
  int64_t max_content_bytes = options.service.max_content_bytes;
  int tls_reload_seconds = static_cast<int>(absl::ToInt64Seconds(options.tls_reload_interval));

  CLI::App app{
      "skillstore-server: the durable task store and gRPC API of skillstore.\n"
      "Owns one SQLite database (WAL mode); workers claim tasks from it, clients\n"
      "enqueue and watch. Every acknowledged enqueue and result is on disk before\n"
      "the reply. SIGTERM / SIGINT shut down cleanly; SIGHUP re-reads the token\n"
      "files and the TLS files (renewed certificates reach new connections, open\n"
      "ones keep theirs; files that fail a check are refused and the previous\n"
      "ones stay in force). Server reflection and grpc.health.v1.Health are\n"
      "served, so grpcurl works without the .proto."};
  app.add_option("--listen", options.listen,
                 "host:port to serve on; port 0 picks a free port (the log line "
                 "'skillstore-server listening on HOST:PORT' names it)")
      ->capture_default_str();
  app.add_option("--db", options.db_path, "SQLite database file (created if missing)")
      ->capture_default_str();
  app.add_option("--lease-seconds", options.store.lease_seconds,
                 "how long a claimed task stays leased without a heartbeat before it is "
                 "re-queued; workers heartbeat every third of it")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  app.add_option("--synchronous", synchronous,
                 "full: each commit is fsynced before the reply (survives power loss); "
                 "normal: faster, survives a process crash but maybe not a power loss")
      ->check(CLI::IsMember({"full", "normal"}))
      ->capture_default_str();
  app.add_option("--max-content-bytes", max_content_bytes,
                 "largest task content accepted; bigger tasks are refused with "
                 "RESOURCE_EXHAUSTED. The default fits a claimed task in a gRPC "
                 "client's default 4 MiB; above it, every ClaimTask client must "
                 "accept larger messages")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30))
      ->capture_default_str();
  app.add_option("--max-attempts", options.store.default_max_attempts,
                 "attempts for tasks enqueued with max_attempts 0")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--backoff-base-ms", options.store.backoff_base_ms,
                 "retry backoff after a failed attempt: this times 2^(attempt-1), "
                 "capped at --backoff-max-ms")
      ->check(CLI::Range(int64_t{0}, int64_t{3600000}))
      ->capture_default_str();
  app.add_option("--backoff-max-ms", options.store.backoff_max_ms, "cap on the retry backoff")
      ->check(CLI::Range(int64_t{0}, int64_t{86400000}))
      ->capture_default_str();
  app.add_option("--max-claim-wait-seconds", options.service.max_claim_wait_seconds,
                 "cap on how long a ClaimTask long-poll waits for a task")
      ->check(CLI::Range(0, 600))
      ->capture_default_str();
  app.add_option("--log-format", log_format,
                 "text: human-readable lines; json: one JSON object per line (ts, level, "
                 "component, msg, task_id, worker_id, attempt ...) for log collectors")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  CLI::Option* metrics_listen =
      app.add_option("--metrics-listen", options.metrics_listen,
                     "host:port for a Prometheus /metrics endpoint (e.g. 127.0.0.1:9464; port 0 "
                     "picks a free one, named in the log); off when empty");
  app.add_option("--metrics-token-file", options.metrics_token_file,
                 skillstore::metrics::kMetricsTokenFileHelp)
      ->check(CLI::ExistingFile)
      ->needs(metrics_listen);
  app.add_option("--auth-token-file", options.auth_token_file,
                 "require a token on every SkillStore call: one line per token, "
                 "'<role> <sha256-hex of token> [label]' (role reader, worker or admin; "
                 "worker:<pattern> binds a worker token to those worker ids; "
                 "skillctl token new prints lines); re-read on SIGHUP")
      ->envname("SKILLSTORE_AUTH_TOKEN_FILE");
  app.add_option("--tls-cert", options.tls_cert_file,
                 "PEM certificate (chain) to serve TLS with; needs --tls-key; re-read on "
                 "SIGHUP and every --tls-reload-interval");
  app.add_option("--tls-key", options.tls_key_file,
                 "PEM private key of --tls-cert (checked against it at startup and at every "
                 "reload)");
  app.add_option("--tls-client-ca", options.tls_client_ca_file,
                 "PEM CA certificate(s): require every client to present a certificate "
                 "signed by them (mutual TLS); needs --tls-cert; re-read with it");
  app.add_option("--tls-reload-interval", tls_reload_seconds,
                 "seconds between checks of the TLS files for a renewal (SIGHUP checks at "
                 "once); a renewal that fails a check is logged and the previous certificate "
                 "keeps serving; 0: only on SIGHUP (whole seconds, or with a unit: 5m)")
      ->transform(skillstore::SecondsWithUnit(skillstore::SecondsPrecision::kWhole))
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  app.add_flag("--insecure", options.insecure,
               "allow listening on a non-loopback address without --auth-token-file or "
               "--tls-client-ca (anyone who reaches the port may do anything)");
  app.add_option("--max-batch-tasks", options.service.max_enqueue_batch,
                 "most tasks in one Enqueue call; larger batches are refused with "
                 "INVALID_ARGUMENT")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--max-queued-tasks", options.service.max_queued_tasks,
                 "Enqueue is refused with RESOURCE_EXHAUSTED while this many tasks are "
                 "queued; 0: no limit")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--max-claim-tasks", options.store.max_claim_tasks,
                 "most tasks one ClaimTask call leases (a bigger max_tasks is cut down; "
                 "a reply also stops at ~3 MiB of content)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--max-leases-per-worker", options.store.max_leases_per_worker,
                 "most tasks one worker_id may hold leased at once (claims beyond are cut "
                 "down or refused with RESOURCE_EXHAUSTED); 0: no limit")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11's own codes (105, 109, ...) would say nothing; a usage error is
    // 2, as for skill-worker and skillctl.
    const int code = app.exit(e);  // prints the help or the error
    return code == 0 ? 0 : 2;
  }
  if (absl::Status listen = skillstore::server::CheckListenAddress(options.listen); !listen.ok()) {
    std::fprintf(stderr, "skillstore-server: %s\nRun with --help for more information.\n",
                 std::string(listen.message()).c_str());
    return 2;
  }

  skillstore::logging::LogOptions log_options;
  log_options.component = "skillstore-server";
  log_options.format = *skillstore::logging::ParseLogFormat(log_format);  // checked above
  log_options.level = log_level;
  log_options.text_pattern = "[%Y-%m-%d %H:%M:%S.%e] [%l] %v";  // spdlog's default, unnamed
  if (auto logger = skillstore::logging::SetUpLogging(log_options); !logger.ok()) {
    std::fprintf(stderr, "skillstore-server: %s\n", logger.status().ToString().c_str());
    return 2;
  }
  skillstore::metrics::RouteGrpcLogsToSpdlog();
  options.synchronous_full = synchronous == "full";
  options.tls_reload_interval = absl::Seconds(tls_reload_seconds);
  options.service.max_content_bytes = max_content_bytes;
  // Room for the largest task plus its envelope, and batches of smaller ones.
  options.max_receive_message_bytes = static_cast<int>(std::min<int64_t>(
      std::max<int64_t>(int64_t{64} << 20, max_content_bytes * 2 + (1 << 20)), INT32_MAX));

  // Batches of tasks make large, short-lived request and response buffers;
  // keep them on the heap instead of mmap/munmap (and page faults) per call.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  // Debian builds abseil without NDEBUG, so every absl::Mutex (gRPC's
  // included) fed a lock-order graph: ~2% of the server's CPU.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  absl::StatusOr<std::unique_ptr<skillstore::server::SkillStoreServer>> server =
      skillstore::server::SkillStoreServer::Start(options);
  if (!server.ok()) {
    spdlog::critical("cannot start: {}", server.status().ToString());
    return 1;
  }
  // Scripts and tests read the port from this line, so it is printed at any
  // --log-level (to stderr when the logger would drop it).
  if (spdlog::should_log(spdlog::level::info)) {
    spdlog::info("skillstore-server listening on {}", (*server)->address());
  } else {
    std::fprintf(stderr, "skillstore-server listening on %s\n", (*server)->address().c_str());
  }
  if (absl::Status status = skillstore::NotifyServiceManager(
          absl::StrCat("READY=1\nSTATUS=listening on ", (*server)->address()));
      !status.ok()) {
    spdlog::warn("{}", std::string(status.message()));
  }

  int signal_number = 0;
  while (sigwait(&signals, &signal_number) == 0 && signal_number == SIGHUP) {
    if (absl::Status status = (*server)->ReloadAuth(); !status.ok()) {
      spdlog::error("SIGHUP: token file not reloaded, the previous tokens stay in force: {}",
                    status.ToString());
    }
    if (absl::Status status = (*server)->ReloadMetricsToken(); !status.ok()) {
      spdlog::error("SIGHUP: /metrics token not reloaded, the previous token stays in force: {}",
                    status.ToString());
    }
    if (absl::StatusOr<bool> tls = (*server)->ReloadTls(); !tls.ok()) {
      spdlog::error(
          "SIGHUP: TLS files not reloaded, still serving the previous certificate ({}): {}",
          (*server)->DescribeTls(), std::string(tls.status().message()));
    }
  }
  spdlog::info("received {}", signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  skillstore::NotifyServiceManager("STOPPING=1").IgnoreError();
  (*server)->Shutdown(absl::Seconds(5));
  return 0;
}
