#include "cli/text_format.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/utf8.h"

namespace skillstore::cli {

std::string FormatDuration(double seconds) {
  if (seconds < 0 || std::isnan(seconds) || std::isinf(seconds)) return "-";
  if (seconds < 10) return absl::StrFormat("%.1fs", seconds);
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s < 60) return absl::StrFormat("%ds", s);
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
}

std::string FormatTimestamp(int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%SZ", absl::FromUnixMillis(unix_ms),
                          absl::UTCTimeZone());
}

std::string FormatAge(int64_t unix_ms, int64_t now_unix_ms) {
  if (unix_ms <= 0) return "-";
  const double seconds = std::max<int64_t>(0, now_unix_ms - unix_ms) / 1000.0;
  return FormatDuration(seconds) + " ago";
}

std::string FormatBytes(int64_t bytes) {
  if (bytes < 1024) return absl::StrFormat("%d B", bytes);
  if (bytes < 1024 * 1024) return absl::StrFormat("%.1f KiB", bytes / 1024.0);
  return absl::StrFormat("%.1f MiB", bytes / (1024.0 * 1024.0));
}

std::string Bar(double fraction, int width) {
  if (std::isnan(fraction)) fraction = 0;
  fraction = std::clamp(fraction, 0.0, 1.0);
  const int filled = static_cast<int>(std::floor(fraction * width + 1e-9));
  return "[" + std::string(filled, '#') + std::string(width - filled, '.') + "]";
}

std::string FormatRate(double per_second) { return absl::StrFormat("%.1f", per_second); }

std::string ForTerminal(std::string_view text) { return WithControlsEscaped(text); }

bool StdoutIsTerminal() { return isatty(STDOUT_FILENO) == 1; }
bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

int64_t NowUnixMs() { return absl::ToUnixMillis(absl::Now()); }

}  // namespace skillstore::cli
