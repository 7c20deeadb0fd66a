// skillctl progress | watch | wait: the queue as a whole.
#include <algorithm>
#include <functional>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/client.h"
#include "cli/command.h"
#include "cli/interrupt.h"
#include "cli/json_view.h"
#include "cli/progress_view.h"
#include "cli/text_format.h"
#include "common/duration_flag.h"
#include "common/flag_checks.h"

namespace skillstore::cli {
namespace {

// How often WatchProgress may push, and how often `wait` / `watch` print a
// new line when the output is not a terminal.
constexpr int kWatchIntervalMs = 250;
constexpr int64_t kLogLineIntervalMs = 2000;
// A watch stream is re-opened (after a fresh GetProgress) this often, so an
// update the server coalesced away can delay the end of a wait by at most
// this long.
constexpr absl::Duration kStreamRound = absl::Seconds(10);

// Sleeps up to `d`, returning early on ^C.
void InterruptibleSleep(absl::Duration d) {
  const absl::Time end = absl::Now() + d;
  while (absl::Now() < end && !InterruptScope::Interrupted()) {
    absl::SleepFor(absl::Milliseconds(50));
  }
}

// Feeds `on_update` the current progress and then every update the server
// pushes, until on_update returns false (OK), ^C (Cancelled), `deadline`
// (DeadlineExceeded). A broken stream (server restarted) is re-opened after a
// second; only a server that cannot be reached at the start is an error, so
// a watch survives a server restart.
absl::Status FollowProgress(Client& client, absl::Time deadline,
                            const std::function<bool(const v1::Progress&)>& on_update,
                            const std::function<void(const std::string&)>& notice) {
  bool connected_once = false;
  bool polling = false;  // the server has no WatchProgress: poll GetProgress
  bool reported_loss = false;
  while (true) {
    if (InterruptScope::Interrupted()) return absl::CancelledError("interrupted");
    if (absl::Now() >= deadline) return absl::DeadlineExceededError("timed out");

    v1::Progress progress;
    absl::Status status =
        client.Call(&v1::SkillStore::Stub::GetProgress, v1::GetProgressRequest(), &progress,
                    "get progress");
    if (!status.ok()) {
      if (!connected_once || !absl::IsUnavailable(status)) return status;
      if (!reported_loss) notice(absl::StrCat(status.message(), "; retrying"));
      reported_loss = true;
      InterruptibleSleep(absl::Seconds(1));
      continue;
    }
    if (reported_loss) notice("reconnected");
    connected_once = true;
    reported_loss = false;
    if (!on_update(progress)) return absl::OkStatus();

    if (polling) {
      InterruptibleSleep(absl::Seconds(1));
      continue;
    }
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(std::min(deadline, absl::Now() + kStreamRound)));
    CancelOnInterrupt cancel_guard(&context);
    v1::WatchProgressRequest request;
    request.set_min_interval_ms(kWatchIntervalMs);
    auto reader = client.stub().WatchProgress(&context, request);
    bool stop = false;
    while (reader->Read(&progress)) {
      if (!on_update(progress)) {
        stop = true;
        context.TryCancel();
        break;
      }
    }
    grpc::Status end = reader->Finish();
    if (stop) return absl::OkStatus();
    if (InterruptScope::Interrupted()) return absl::CancelledError("interrupted");
    if (absl::Now() >= deadline) return absl::DeadlineExceededError("timed out");
    if (end.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) continue;  // next round
    if (end.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      polling = true;
      continue;
    }
    // The stream ended (server shutting down or restarted): re-sync.
    InterruptibleSleep(absl::Seconds(1));
  }
}

absl::Status RunProgress(const GlobalOptions& global) {
  Client client(global);
  v1::Progress progress;
  absl::Status status = client.Call(&v1::SkillStore::Stub::GetProgress,
                                    v1::GetProgressRequest(), &progress, "get progress");
  if (!status.ok()) return status;
  if (global.json()) {
    std::cout << Dump(ToJson(progress));
    return absl::OkStatus();
  }
  std::cout << ProgressBarLine(progress) << "\n" << ProgressCountsLine(progress) << "\n";
  return absl::OkStatus();
}

struct WatchOptions {
  bool follow = false;
};

absl::Status RunWatch(const GlobalOptions& global, const WatchOptions& options) {
  InterruptScope interrupts;
  Client client(global);
  LiveProgress view(std::cout, StdoutIsTerminal(), kLogLineIntervalMs);
  auto on_update = [&](const v1::Progress& p) {
    const bool done = !options.follow && Idle(p);
    if (global.json()) {
      std::cout << ToJson(p).dump() << "\n" << std::flush;
    } else {
      view.Update(p, done);
    }
    return !done;
  };
  auto notice = [&](const std::string& line) {
    if (!global.json()) view.Message(line);
    else std::cerr << line << "\n";
  };
  // ^C is exit 130, as everywhere: a script running `skillctl watch && next`
  // must not go on to `next` when its user interrupts it.
  return FollowProgress(client, absl::InfiniteFuture(), on_update, notice);
}

struct WaitOptions {
  double timeout_seconds = 0;  // 0: no limit
};

absl::Status RunWait(const GlobalOptions& global, const WaitOptions& options) {
  InterruptScope interrupts;
  Client client(global);
  const absl::Time deadline = options.timeout_seconds > 0
                                  ? absl::Now() + absl::Seconds(options.timeout_seconds)
                                  : absl::InfiniteFuture();
  // The live view goes to stderr and only on a terminal: stdout carries the
  // outcome, for scripts.
  const bool show = !global.json() && StderrIsTerminal();
  LiveProgress view(std::cerr, true, 0);
  v1::Progress last;
  auto on_update = [&](const v1::Progress& p) {
    last = p;
    if (show) view.Update(p, Idle(p));
    return !Idle(p);
  };
  auto notice = [&](const std::string& line) { std::cerr << line << "\n"; };
  absl::Status status = FollowProgress(client, deadline, on_update, notice);
  if (absl::IsDeadlineExceeded(status)) {
    status = absl::DeadlineExceededError(absl::StrCat(
        "timed out after ", FormatDuration(options.timeout_seconds), ": ", last.queued(),
        " queued and ", last.in_progress(), " in progress remain"));
  }
  if (status.ok() && last.failed() + last.cancelled() > 0) {
    // The hint names what applies: `retry --failed` re-queues failed tasks
    // only; cancelled ones are retried by id.
    std::string hint;
    if (last.failed() > 0) {
      hint = "see `skillctl tasks --status failed`; `skillctl retry --failed` re-queues them";
    }
    if (last.cancelled() > 0) {
      absl::StrAppend(&hint, hint.empty() ? "" : "; ",
                      "see `skillctl tasks --status cancelled`; `skillctl retry ID...` re-queues "
                      "one");
    }
    status = absl::AbortedError(
        absl::StrCat(last.failed(), " failed and ", last.cancelled(), " cancelled; ", hint));
  }
  if (global.json()) {
    Json out = ToJson(last);
    out["outcome"] = status.ok()                           ? "completed"
                     : absl::IsAborted(status)             ? "some_failed"
                     : absl::IsDeadlineExceeded(status)    ? "timeout"
                     : absl::IsCancelled(status)           ? "interrupted"
                                                           : "error";
    std::cout << Dump(out);
  } else if (status.ok() || absl::IsAborted(status) || absl::IsDeadlineExceeded(status)) {
    std::cout << absl::StrCat(last.completed(), " completed, ", last.failed(), " failed, ",
                              last.cancelled(), " cancelled of ", last.total(), " tasks")
              << "\n";
  }
  return status;
}

}  // namespace

void AddProgressCommands(CLI::App& app, const GlobalOptions& global, CommandRunner* selected) {
  CLI::App* progress = app.add_subcommand(
      "progress", "Show task counts by status, throughput and ETA, once.");
  progress->callback([&global, selected] { *selected = [&global] { return RunProgress(global); }; });

  auto watch_options = std::make_shared<WatchOptions>();
  CLI::App* watch = app.add_subcommand(
      "watch",
      "Live progress: bar, rate, ETA, counts per status and workers. Ends when nothing is "
      "queued or in progress (exit 0), or on ^C (exit 130). With -o json prints one JSON "
      "object per update.");
  watch->add_flag("--follow", watch_options->follow,
                  "Keep watching when the queue is empty (until ^C)");
  watch->callback([&global, selected, watch_options] {
    *selected = [&global, watch_options] { return RunWatch(global, *watch_options); };
  });

  auto wait_options = std::make_shared<WaitOptions>();
  CLI::App* wait = app.add_subcommand(
      "wait",
      "Block until nothing is queued or in progress. Exit 0 when every task completed, 5 when "
      "some failed or were cancelled, 6 on --timeout, 3 when the server is unreachable.");
  wait->add_option("--timeout", wait_options->timeout_seconds,
                   "Give up after this long (seconds, or with a unit: 30m; default: wait "
                   "forever)")
      ->transform(SecondsWithUnit(SecondsPrecision::kFractional))
      ->check(NonNegativeNumber());
  wait->callback([&global, selected, wait_options] {
    *selected = [&global, wait_options] { return RunWait(global, *wait_options); };
  });
}

}  // namespace skillstore::cli
