#include "common/metrics/log_setup.h"

#include "absl/strings/str_cat.h"
#include "common/metrics/json_log_formatter.h"
#include "spdlog/pattern_formatter.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace skillstore::logging {

absl::StatusOr<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log format '", std::string(text), "'; use text or json"));
}

absl::StatusOr<spdlog::level::level_enum> ParseLogLevel(std::string_view text) {
  if (text == "trace") return spdlog::level::trace;
  if (text == "debug") return spdlog::level::debug;
  if (text == "info") return spdlog::level::info;
  if (text == "warn" || text == "warning") return spdlog::level::warn;
  if (text == "error" || text == "err") return spdlog::level::err;
  if (text == "critical") return spdlog::level::critical;
  if (text == "off") return spdlog::level::off;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown log level '", std::string(text), "'; use trace, debug, info, warn, error, critical or off"));
}

std::unique_ptr<spdlog::formatter> MakeLogFormatter(const LogOptions& options) {
  if (options.format == LogFormat::kJson) {
    return std::make_unique<JsonLogFormatter>(options.component, options.fields);
  }
  if (options.text_pattern.empty()) return std::make_unique<spdlog::pattern_formatter>();
  return std::make_unique<spdlog::pattern_formatter>(options.text_pattern);
}

absl::StatusOr<std::shared_ptr<spdlog::logger>> SetUpLogging(const LogOptions& options) {
  absl::StatusOr<spdlog::level::level_enum> level = ParseLogLevel(options.level);
  if (!level.ok()) return level.status();
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(options.component, std::move(sink));
  logger->set_formatter(MakeLogFormatter(options));
  logger->set_level(*level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return logger;
}

}  // namespace skillstore::logging
