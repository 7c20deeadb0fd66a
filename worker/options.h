// skill-worker's command line: every knob of the daemon, parsed and checked
// in one place so the rest of the worker can trust its inputs.
#ifndef SKILLSTORE_WORKER_OPTIONS_H_
#define SKILLSTORE_WORKER_OPTIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/client_credentials.h"
#include "skillstore/v1/skillstore.pb.h"

namespace skillstore::worker {

struct WorkerOptions {
  std::string server = "127.0.0.1:50051";
  int concurrency = 1;
  // Tasks claimed beyond the running ones and kept ready in the executor's
  // queue, so a slot that frees never waits for a ClaimTask round trip (and
  // claims come in batches). Without --prefetch, prefetch_auto is set and
  // the worker sizes it from measured task times (see worker.h), starting
  // from --concurrency.
  int prefetch = 0;
  bool prefetch_auto = false;
  std::string worker_id;  // default <hostname>-<pid>
  std::string hostname;
  // Random per process: tells the server this run of worker_id from the one
  // before it, whose leases it then releases (ClaimTaskRequest.instance_id).
  std::string instance_id;
  std::vector<skillstore::v1::TaskType> types;  // empty: all types
  std::string skills_root;                      // empty: never read from disk
  absl::Duration exit_when_idle = absl::InfiniteDuration();
  int64_t max_tasks = 0;  // 0: no limit
  absl::Duration drain_timeout = absl::Seconds(60);
  std::string log_level = "info";
  std::string log_format = "text";  // text | json
  // Used when a task carries no timeout of its own.
  absl::Duration default_task_timeout = absl::Seconds(300);
  // Engine threads still running a task that passed its timeout (abandoned,
  // executor_pool.h) at which the worker drains and exits with
  // kExitStuckThreads, so that its service manager starts a process without
  // them; 0: never.
  int max_abandoned_threads = 4;
  size_t max_buffered_results = 10000;
  size_t max_result_bytes = 32u << 20;
  // Longest single ClaimTask long-poll.
  int claim_wait_seconds = 20;
  // HOST:PORT for the Prometheus endpoint; empty: none.
  std::string metrics_listen;
  // A file with the token /metrics scrapes must send; empty: none asked.
  std::string metrics_token_file;
  // TLS and token for the connection to the server (--tls*, --token-file or
  // $SKILLSTORE_TOKEN), files already read and checked.
  client::ClientSecurity security;
  // How often --tls-ca / --tls-cert / --tls-key are re-read for a renewal
  // (SIGHUP re-reads them at once); zero: only on SIGHUP.
  absl::Duration tls_reload_interval = absl::Seconds(60);
  // TESTING ONLY: see TaskRunner::Options::debug_delay.
  absl::Duration debug_task_delay = absl::ZeroDuration();
};

struct ParsedFlags {
  WorkerOptions options;
  // Set when the process should exit at once with this code: 0 after
  // --help, 2 after a bad flag or an unreadable token/certificate file (the
  // message has been printed).
  std::optional<int> exit_code;
};

ParsedFlags ParseFlags(int argc, const char* const* argv);

// The process exit codes, in one place.
inline constexpr int kExitOk = 0;             // drained or idle/max-tasks reached
inline constexpr int kExitFailure = 1;        // permanent error, or drain incomplete
inline constexpr int kExitUsage = 2;          // bad flags
// --max-abandoned-threads engine threads still ran past their task's
// timeout; a new process is rid of them (EX_TEMPFAIL: restart me).
inline constexpr int kExitStuckThreads = 75;
// A second SIGINT/SIGTERM exits at once with 128 + signal (130 / 143).
// SIGHUP re-reads the TLS files and the token file, and never stops the worker.

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_OPTIONS_H_
