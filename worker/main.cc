// skill-worker: thin main. Flags, logging and signals; the daemon itself is
// skillstore::worker::Worker (worker.h).
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics/grpc_metrics.h"
#include "common/metrics/log_setup.h"
#include "common/service_notify.h"
#include "connection_driver.h"
#include "options.h"
#include "signal_watcher.h"
#include "skills_root.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"
#include "tls_reload.h"
#include "token_reload.h"
#include "worker.h"

int main(int argc, char** argv) {
  using namespace skillstore::worker;
  // First thing, before any other thread exists: it blocks SIGINT, SIGTERM
  // and SIGHUP, whose default actions would otherwise end a worker signalled
  // while it starts (a reload right after the start); they wait, pending,
  // for the watching thread started below.
  SignalWatcher signals;
  ParsedFlags flags = ParseFlags(argc, argv);
  if (flags.exit_code) return *flags.exit_code;
  WorkerOptions& options = flags.options;
  // Debian builds abseil without NDEBUG: gRPC's absl::Mutex locks would
  // otherwise feed a lock-order graph on every acquisition.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  skillstore::logging::LogOptions log_options;
  log_options.component = "skill-worker";
  log_options.format = *skillstore::logging::ParseLogFormat(options.log_format);  // checked
  log_options.level = options.log_level;
  log_options.text_pattern = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ [" + options.worker_id + "] %v";
  log_options.fields = {{"worker_id", options.worker_id}};
  if (auto logger = skillstore::logging::SetUpLogging(log_options); !logger.ok()) {
    std::cerr << "skill-worker: " << logger.status().message() << "\n";
    return kExitUsage;
  }
  skillstore::metrics::RouteGrpcLogsToSpdlog();

  std::optional<SkillsRoot> skills_root;
  if (!options.skills_root.empty()) {
    auto root = SkillsRoot::Open(options.skills_root);
    if (!root.ok()) {
      std::cerr << "skill-worker: " << root.status().message() << "\n";
      return kExitUsage;
    }
    skills_root = std::move(*root);
  }

  std::signal(SIGPIPE, SIG_IGN);
  spdlog::info("connecting to {} over {}", options.server, options.security.Describe());
  if (const std::string warning =
          skillstore::client::PlaintextTokenWarning(options.server, options.security);
      !warning.empty()) {
    spdlog::warn("{}", warning);
  }
  // Before the worker and its channel: the channel's credentials read the
  // copies this object publishes, so it must outlive them.
  absl::StatusOr<std::unique_ptr<WorkerTlsReload>> tls_reload =
      WorkerTlsReload::Start(&options.security, options.tls_reload_interval);
  if (!tls_reload.ok()) {
    spdlog::critical("cannot set up TLS: {}", tls_reload.status().ToString());
    return kExitFailure;
  }
  const std::unique_ptr<TokenReload> token_reload = TokenReload::Start(&options.security);
  std::shared_ptr<grpc::Channel> channel = MakeWorkerChannel(options.server, options.security);
  ConnectionDriver connection_driver(channel);
  Worker worker(options, std::move(skills_root), channel);
  signals.Start(
      [&worker, &options](int signal) {
        spdlog::info("received {}: draining (up to {}s); send it again to exit at once",
                     strsignal(signal), absl::ToDoubleSeconds(options.drain_timeout));
        skillstore::NotifyServiceManager("STOPPING=1").IgnoreError();
        worker.RequestDrain();
      },
      [](int signal) {
        spdlog::warn("received {} again: exiting at once; held leases will expire on the server",
                     strsignal(signal));
        spdlog::default_logger()->flush();
        _exit(128 + signal);
      },
      [tls = tls_reload->get(), token = token_reload.get(), &worker] {
        if (token != nullptr) token->Reload();
        if (absl::Status status = worker.ReloadMetricsToken(); !status.ok()) {
          spdlog::error(
              "SIGHUP: /metrics token not reloaded, the previous token stays in force: {}",
              status.ToString());
        }
        if (tls != nullptr) {
          tls->Reload();
        } else {
          spdlog::info("SIGHUP: no TLS files to re-read (plaintext, or --tls with the system's "
                       "root CAs)");
        }
      });

  // Ready once signals are handled; the server may still be away (the
  // worker retries by itself).
  if (absl::Status notified = skillstore::NotifyServiceManager(
          absl::StrCat("READY=1\nSTATUS=claiming from ", options.server));
      !notified.ok()) {
    spdlog::warn("{}", std::string(notified.message()));
  }
  const absl::Status status = worker.Run();
  int code = kExitOk;
  if (!status.ok()) {
    spdlog::critical("exiting with an error: {}", status.ToString());
    code = kExitFailure;
  } else if (worker.stuck_threads_exit()) {
    code = kExitStuckThreads;
  }
  if (worker.abandoned_threads() > 0) {
    // Abandoned engine threads may still run; static destructors must not
    // race them. Everything of ours is flushed and closed already.
    spdlog::default_logger()->flush();
    _exit(code);
  }
  return code;
}
