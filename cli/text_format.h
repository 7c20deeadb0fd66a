// Short human renderings of numbers, times and durations, shared by the
// tables, the progress view and the summaries.
#ifndef SKILLSTORE_CLI_TEXT_FORMAT_H_
#define SKILLSTORE_CLI_TEXT_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace skillstore::cli {

// "0.4s", "12s", "3m05s", "2h10m"; "-" for a negative (unknown) value.
std::string FormatDuration(double seconds);

// "2026-11-25 23:10:05Z" (UTC); "-" for 0 (not set).
std::string FormatTimestamp(int64_t unix_ms);

// "5s ago", "3m ago", ...; "-" for 0 (never).
std::string FormatAge(int64_t unix_ms, int64_t now_unix_ms);

// "512 B", "3.4 KiB", "1.2 MiB".
std::string FormatBytes(int64_t bytes);

// "[##########..........]" of `width` cells inside the brackets;
// `fraction` is clamped to [0, 1].
std::string Bar(double fraction, int width);

// "12.5" with one decimal.
std::string FormatRate(double per_second);

// `text` from the server (a worker id, a path, an error) made safe to print
// on a terminal: WithControlsEscaped (common/utf8.h), the server's log form.
std::string ForTerminal(std::string_view text);

// True when stdout (fd 1) / stderr (fd 2) is a terminal.
bool StdoutIsTerminal();
bool StderrIsTerminal();

// Milliseconds since the Unix epoch, now.
int64_t NowUnixMs();

}  // namespace skillstore::cli

#endif  // SKILLSTORE_CLI_TEXT_FORMAT_H_
