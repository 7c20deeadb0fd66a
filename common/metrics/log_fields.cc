#include "common/metrics/log_fields.h"

#include <cstddef>

namespace skillstore::logging {
namespace {

// A stack: scopes are strictly nested on one thread, so each one pops
// exactly what it pushed.
std::vector<LogField>& ThreadFields() {
  thread_local std::vector<LogField> fields;
  return fields;
}

}  // namespace

LogFields::LogFields(std::initializer_list<LogField> fields) : count_(fields.size()) {
  std::vector<LogField>& stack = ThreadFields();
  stack.insert(stack.end(), fields.begin(), fields.end());
}

LogFields::LogFields(std::vector<LogField> fields) : count_(fields.size()) {
  std::vector<LogField>& stack = ThreadFields();
  for (LogField& field : fields) stack.push_back(std::move(field));
}

LogFields::~LogFields() {
  std::vector<LogField>& stack = ThreadFields();
  stack.erase(stack.end() - static_cast<std::ptrdiff_t>(count_), stack.end());
}

const std::vector<LogField>& CurrentLogFields() { return ThreadFields(); }

}  // namespace skillstore::logging
