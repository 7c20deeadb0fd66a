#include "cli/progress_view.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/text_format.h"

namespace skillstore::cli {

bool Idle(const v1::Progress& p) { return p.queued() == 0 && p.in_progress() == 0; }

int64_t Finished(const v1::Progress& p) { return p.completed() + p.failed() + p.cancelled(); }

std::string ProgressBarLine(const v1::Progress& p) {
  const double fraction = p.total() > 0 ? static_cast<double>(Finished(p)) / p.total() : 0.0;
  std::string eta = "-";
  if (Idle(p)) {
    eta = "done";
  } else if (p.eta_seconds() >= 0) {
    eta = FormatDuration(p.eta_seconds());
  }
  return absl::StrFormat("%s %3d%%  %d/%d  %s/s  ETA %s", Bar(fraction, 30),
                         static_cast<int>(fraction * 100), Finished(p), p.total(),
                         FormatRate(p.tasks_per_second()), eta);
}

std::string ProgressCountsLine(const v1::Progress& p) {
  return absl::StrFormat("queued %d  running %d  completed %d  failed %d  cancelled %d  workers %d",
                         p.queued(), p.in_progress(), p.completed(), p.failed(),
                         p.cancelled(), p.active_workers());
}

LiveProgress::LiveProgress(std::ostream& out, bool terminal, int64_t min_interval_ms)
    : out_(out), terminal_(terminal), min_interval_ms_(min_interval_ms) {}

void LiveProgress::Update(const v1::Progress& p, bool final_update) {
  const std::string text = absl::StrCat(ProgressBarLine(p), "\n", ProgressCountsLine(p), "\n");
  if (terminal_) {
    // Move up over the previous two lines and clear them before redrawing.
    if (drawn_) out_ << "\x1b[2A\r\x1b[J";
    out_ << text << std::flush;
    drawn_ = true;
    return;
  }
  const int64_t now = NowUnixMs();
  if (text == last_text_) return;
  if (!final_update && now - last_print_ms_ < min_interval_ms_) return;
  out_ << text << std::flush;
  last_print_ms_ = now;
  last_text_ = text;
}

void LiveProgress::Message(const std::string& line) {
  if (terminal_ && drawn_) {
    out_ << "\x1b[2A\r\x1b[J";
    drawn_ = false;
  }
  out_ << line << "\n" << std::flush;
  last_text_.clear();
}

}  // namespace skillstore::cli
