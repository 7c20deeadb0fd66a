// Structured fields for log lines: task_id, worker_id, attempt, ...
//
// A LogFields object attaches its fields to every line this thread logs
// while it lives, so existing spdlog calls gain fields without changing:
//
//   logging::LogFields fields({{"task_id", id}, {"attempt", attempt}});
//   spdlog::info("task {} attempt {}: result stored", id, attempt);
//   // JSON: {...,"msg":"task 17 attempt 2: result stored","task_id":"17","attempt":2}
//
// Scopes nest; an inner field with the same key wins. The JSON formatter
// (json_log_formatter.h) reads them; the text format leaves lines as they are
// (their messages already name the task in words). Process-wide fields, such
// as the worker's id, are given to SetUpLogging instead.
#ifndef SKILLSTORE_COMMON_METRICS_LOG_FIELDS_H_
#define SKILLSTORE_COMMON_METRICS_LOG_FIELDS_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace skillstore::logging {

struct LogField {
  using Value = std::variant<std::string, int64_t, double, bool>;

  LogField(std::string key_in, std::string_view value_in)
      : key(std::move(key_in)), value(std::string(value_in)) {}
  LogField(std::string key_in, const std::string& value_in) : key(std::move(key_in)), value(value_in) {}
  LogField(std::string key_in, const char* value_in)
      : key(std::move(key_in)), value(std::string(value_in)) {}
  LogField(std::string key_in, bool value_in) : key(std::move(key_in)), value(value_in) {}
  LogField(std::string key_in, double value_in) : key(std::move(key_in)), value(value_in) {}
  template <typename Int, typename = std::enable_if_t<std::is_integral_v<Int> &&
                                                      !std::is_same_v<Int, bool>>>
  LogField(std::string key_in, Int value_in)
      : key(std::move(key_in)), value(static_cast<int64_t>(value_in)) {}

  std::string key;
  Value value;
};

class LogFields {
 public:
  LogFields(std::initializer_list<LogField> fields);
  explicit LogFields(std::vector<LogField> fields);
  ~LogFields();
  LogFields(const LogFields&) = delete;
  LogFields& operator=(const LogFields&) = delete;

 private:
  size_t count_;
};

// The fields of this thread's live scopes, outermost first.
const std::vector<LogField>& CurrentLogFields();

}  // namespace skillstore::logging

#endif  // SKILLSTORE_COMMON_METRICS_LOG_FIELDS_H_
