// JsonLogFormatter: an spdlog formatter that writes one JSON object per line,
//
//   {"ts":"2026-11-25T23:41:07.123Z","level":"info","component":"skill-worker",
//    "msg":"task 17 attempt 2: result stored","worker_id":"host-1-4242",
//    "task_id":"17","attempt":2}
//
// with every string escaped by AppendJsonString (so any message, even one
// quoting invalid UTF-8 from a skill file, yields a line that parses), the
// process-wide fields given at construction and this thread's LogFields
// scopes (log_fields.h). spdlog's pattern formatter cannot escape JSON, which
// is why this is a formatter of its own. Keys: ts (UTC, milliseconds),
// level (trace/debug/info/warn/error/critical), component, msg, then the
// fields; a field may not replace those four (it is dropped), and of two
// fields with one key the innermost wins. The spdlog logger's name is not
// written: each process has one logger, named after its component.
#ifndef SKILLSTORE_COMMON_METRICS_JSON_LOG_FORMATTER_H_
#define SKILLSTORE_COMMON_METRICS_JSON_LOG_FORMATTER_H_

#include <memory>
#include <string>
#include <vector>

#include "common/metrics/log_fields.h"
#include "spdlog/formatter.h"

namespace skillstore::logging {

class JsonLogFormatter final : public spdlog::formatter {
 public:
  JsonLogFormatter(std::string component, std::vector<LogField> fields)
      : component_(std::move(component)), fields_(std::move(fields)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  const std::string component_;
  const std::vector<LogField> fields_;
};

// The JSON line for `msg` without the trailing newline (what format() writes
// before it); exposed for tests.
std::string FormatJsonLogLine(const spdlog::details::log_msg& msg, const std::string& component,
                              const std::vector<LogField>& static_fields,
                              const std::vector<LogField>& scoped_fields);

}  // namespace skillstore::logging

#endif  // SKILLSTORE_COMMON_METRICS_JSON_LOG_FORMATTER_H_
