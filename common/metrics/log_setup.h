// One call that sets up a program's logging: stderr, a level, and a format —
// text (the program's own spdlog pattern) or JSON lines for log collectors
// (Loki, Elasticsearch, journald exporters). Both binaries' --log-format.
//
//   logging::LogOptions options;
//   options.component = "skill-worker";
//   options.format = *logging::ParseLogFormat(flag);  // "text" | "json"
//   options.level = "info";
//   options.fields = {{"worker_id", id}};  // on every JSON line
//   logging::SetUpLogging(options);        // installs spdlog's default logger
#ifndef SKILLSTORE_COMMON_METRICS_LOG_SETUP_H_
#define SKILLSTORE_COMMON_METRICS_LOG_SETUP_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/metrics/log_fields.h"
#include "spdlog/formatter.h"
#include "spdlog/logger.h"

namespace skillstore::logging {

enum class LogFormat { kText, kJson };

// "text" or "json"; InvalidArgument naming the choices otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(std::string_view text);
// trace, debug, info, warn, error, critical, off; InvalidArgument otherwise
// (spdlog itself maps unknown names to "off", silencing a typo).
absl::StatusOr<spdlog::level::level_enum> ParseLogLevel(std::string_view text);

struct LogOptions {
  // The program: the logger's name and the JSON "component".
  std::string component;
  LogFormat format = LogFormat::kText;
  std::string level = "info";
  // spdlog pattern for the text format; empty keeps spdlog's default.
  std::string text_pattern;
  // Added to every JSON line (e.g. worker_id).
  std::vector<LogField> fields;
};

// The formatter for `options.format`.
std::unique_ptr<spdlog::formatter> MakeLogFormatter(const LogOptions& options);

// A logger writing to stderr (flushed on every line, so logs survive a crash
// and tests can follow them), installed as spdlog's default logger.
absl::StatusOr<std::shared_ptr<spdlog::logger>> SetUpLogging(const LogOptions& options);

}  // namespace skillstore::logging

#endif  // SKILLSTORE_COMMON_METRICS_LOG_SETUP_H_
