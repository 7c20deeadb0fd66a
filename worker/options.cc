#include "options.h"

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/duration_flag.h"
#include "common/flag_checks.h"
#include "common/metrics/metrics_server.h"

namespace skillstore::worker {
namespace {

constexpr char kDescription[] = R"(skill-worker: claims skill tasks from a skillstore-server, runs them with the
local skill engine (parse, validate, analyze) and streams the results back.

Start one per machine; it runs until stopped. SIGTERM or SIGINT drains: no new
claims, running tasks finish (up to --drain-timeout) and their results are
submitted, then exit 0. A second signal exits at once (code 128+signal); the
server re-queues that worker's tasks when their leases expire.

Security: --token-file (or env SKILLSTORE_TOKEN) sends a bearer token with
the worker or admin role on every call; --tls/--tls-ca encrypt the connection
and check the server's certificate; --tls-cert/--tls-key add a client
certificate when the server demands one (mutual TLS). SIGHUP, and a check
every --tls-reload-interval, re-read --tls-ca/--tls-cert/--tls-key: renewed
files reach new connections (a reconnect after the server restarts), open
ones keep theirs; files that fail a check are refused with a log line naming
them and the previous ones stay in use. SIGHUP also re-reads --token-file
and --metrics-token-file (a rotated token; one that fails a check is
refused, the previous one stays).
SIGHUP never drains or stops.

Exit codes: 0 done or drained; 1 permanent error (server refused our
token, wrong server, drain incomplete); 2 bad flags or unreadable token or
certificate files; 75 drained for a restart (--max-abandoned-threads);
130/143 second signal. Transient failures (server down or
restarting, TLS handshake failures) are retried forever with backoff; finished
results are kept and resubmitted.)";

std::string DefaultHostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

// 64 random bits as hex: unique enough that two runs of one worker never
// share one (a clash would only keep the old leases until they expire).
std::string NewInstanceId() {
  std::random_device device;
  const uint64_t bits = (uint64_t{device()} << 32) ^ device();
  return absl::StrCat(absl::Hex(bits, absl::kZeroPad16));
}

}  // namespace

ParsedFlags ParseFlags(int argc, const char* const* argv) {
  ParsedFlags parsed;
  WorkerOptions& o = parsed.options;
  const unsigned hw = std::thread::hardware_concurrency();
  o.concurrency = hw == 0 ? 1 : static_cast<int>(hw);

  CLI::App app(kDescription, "skill-worker");
  std::string types = "parse,validate,analyze";
  double exit_when_idle = -1;
  double drain_timeout = 60;
  double default_timeout = 300;
  int debug_delay_ms = 0;

  app.add_option("--server", o.server, "skillstore-server address (host:port)")
      ->capture_default_str();
  app.add_option("--concurrency", o.concurrency,
                 "tasks run at once (default: hardware threads)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  int prefetch = -1;  // -1: not given
  app.add_option("--prefetch", prefetch,
                 "tasks claimed ahead of the running ones, so no slot waits for a claim "
                 "(default: auto, from --concurrency up to what keeps the slots busy for "
                 "~20 ms of measured task time; 0: claim only for free slots)")
      ->check(CLI::Range(0, 4096));
  app.add_option("--worker-id", o.worker_id,
                 "this worker's name on the server (default <hostname>-<pid>). Keep it "
                 "stable across restarts: a restarted worker's old leases are then requeued "
                 "at once instead of when they expire");
  app.add_option("--types", types, "comma list of task types served: parse,validate,analyze")
      ->capture_default_str();
  app.add_option("--skills-root", o.skills_root,
                 "read skill_path from this folder when a task has no content (never outside it)");
  app.add_option("--exit-when-idle", exit_when_idle,
                 "exit 0 once no task arrived for this long (batch runs); seconds, or "
                 "with a unit: 30s, 5m")
      ->transform(SecondsWithUnit(SecondsPrecision::kFractional));
  app.add_option("--max-tasks", o.max_tasks, "exit 0 after claiming this many tasks (0: no limit)")
      ->check(NonNegativeNumber());
  app.add_option("--drain-timeout", drain_timeout,
                 "time to finish running tasks and submit results after SIGTERM/SIGINT "
                 "(seconds, or with a unit: 2m)")
      ->capture_default_str()
      ->transform(SecondsWithUnit(SecondsPrecision::kFractional))
      ->check(NonNegativeNumber());
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error, critical, off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--log-format", o.log_format,
                 "text: human-readable lines; json: one JSON object per line (ts, level, "
                 "component, msg, worker_id, task_id, attempt) for log collectors")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--default-task-timeout", default_timeout,
                 "how long a task may run when it carries no timeout of its own (seconds, "
                 "or with a unit: 10m)")
      ->capture_default_str()
      ->transform(SecondsWithUnit(SecondsPrecision::kFractional))
      ->check(PositiveNumber());
  app.add_option("--max-abandoned-threads", o.max_abandoned_threads,
                 "engine threads still busy with tasks that passed their timeout (they cannot "
                 "be interrupted and keep using CPU) at which the worker drains and exits with "
                 "code 75, for its service manager to start a clean process; 0: never")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000));
  app.add_option("--max-buffered-results", o.max_buffered_results,
                 "unacknowledged results kept while the server is away; claiming pauses at this "
                 "bound")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  app.add_option("--max-result-bytes", o.max_result_bytes,
                 "largest result sent; a bigger one is reported as a failure")
      ->capture_default_str();
  app.add_option("--claim-wait", o.claim_wait_seconds,
                 "longest ClaimTask long-poll (whole seconds, or with a unit: 1m)")
      ->capture_default_str()
      ->transform(SecondsWithUnit(SecondsPrecision::kWhole))
      ->check(CLI::Range(1, 300));
  CLI::Option* metrics_listen =
      app.add_option("--metrics-listen", o.metrics_listen,
                     "serve Prometheus metrics at http://HOST:PORT/metrics (off by default)");
  app.add_option("--metrics-token-file", o.metrics_token_file, metrics::kMetricsTokenFileHelp)
      ->check(CLI::ExistingFile)
      ->needs(metrics_listen);
  client::ClientSecurityFlags security_flags;
  client::AddClientSecurityFlags(app, &security_flags);
  int tls_reload_seconds = static_cast<int>(absl::ToInt64Seconds(o.tls_reload_interval));
  app.add_option("--tls-reload-interval", tls_reload_seconds,
                 "seconds between checks of --tls-ca/--tls-cert/--tls-key for a renewal (SIGHUP "
                 "checks at once); renewed files that fail a check are logged and the previous "
                 "ones stay in use; 0: only on SIGHUP (whole seconds, or with a unit: 5m)")
      ->capture_default_str()
      ->transform(SecondsWithUnit(SecondsPrecision::kWhole))
      ->check(CLI::Range(0, 86400));
  app.add_option("--debug-task-delay-ms", debug_delay_ms,
                 "TESTING ONLY: sleep this long before each task, to hold leases in tests")
      ->check(NonNegativeNumber());

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help or the error
    parsed.exit_code = code == 0 ? kExitOk : kExitUsage;
    return parsed;
  }

  auto usage_error = [&](const std::string& message) {
    std::cerr << "skill-worker: " << message << "\nRun with --help for more information.\n";
    parsed.exit_code = kExitUsage;
    return parsed;
  };

  o.prefetch = prefetch < 0 ? o.concurrency : prefetch;
  o.prefetch_auto = prefetch < 0;

  o.types.clear();
  bool all = false;
  for (absl::string_view raw : absl::StrSplit(types, ',', absl::SkipWhitespace())) {
    const std::string name(absl::StripAsciiWhitespace(raw));
    if (name == "parse") {
      o.types.push_back(skillstore::v1::TASK_TYPE_PARSE);
    } else if (name == "validate") {
      o.types.push_back(skillstore::v1::TASK_TYPE_VALIDATE);
    } else if (name == "analyze") {
      o.types.push_back(skillstore::v1::TASK_TYPE_ANALYZE);
    } else if (name == "all") {
      all = true;
    } else {
      return usage_error(absl::StrCat("--types: unknown task type '", name,
                                      "' (expected parse, validate, analyze)"));
    }
  }
  if (o.types.empty() && !all) return usage_error("--types: no task type given");
  if (all || o.types.size() == 3) o.types.clear();  // empty means all

  if (o.server.empty()) return usage_error("--server: empty address");
  o.hostname = DefaultHostname();
  if (o.worker_id.empty()) o.worker_id = absl::StrCat(o.hostname, "-", getpid());
  o.instance_id = NewInstanceId();
  if (app.count("--exit-when-idle") > 0) {
    if (exit_when_idle <= 0) return usage_error("--exit-when-idle: must be > 0 seconds");
    o.exit_when_idle = absl::Seconds(exit_when_idle);
  }
  o.drain_timeout = absl::Seconds(drain_timeout);
  o.default_task_timeout = absl::Seconds(default_timeout);
  o.debug_task_delay = absl::Milliseconds(debug_delay_ms);
  o.tls_reload_interval = absl::Seconds(tls_reload_seconds);
  if (o.max_result_bytes == 0) return usage_error("--max-result-bytes: must be > 0");
  absl::StatusOr<client::ClientSecurity> security =
      client::LoadClientSecurity(security_flags, std::getenv(client::kTokenEnvVar));
  if (!security.ok()) return usage_error(std::string(security.status().message()));
  o.security = std::move(*security);
  // Logging is not set up yet; stderr is where the daemon's log goes too.
  for (const std::string& warning : o.security.warnings) {
    std::cerr << "skill-worker: warning: " << warning << "\n";
  }
  return parsed;
}

}  // namespace skillstore::worker
