#include "common/metrics/json_log_formatter.h"

#include <time.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string_view>

#include "common/metrics/json_escape.h"

namespace skillstore::logging {
namespace {

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

void AppendTimestamp(spdlog::log_clock::time_point time, std::string* out) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const int64_t ms = duration_cast<milliseconds>(time.time_since_epoch()).count();
  const time_t seconds = static_cast<time_t>(ms / 1000);
  struct tm utc;
  gmtime_r(&seconds, &utc);
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"",
                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                utc.tm_sec, static_cast<int>(ms % 1000));
  *out += buffer;
}

void AppendValue(const LogField::Value& value, std::string* out) {
  if (const auto* text = std::get_if<std::string>(&value)) {
    AppendJsonString(*text, out);
  } else if (const auto* integer = std::get_if<int64_t>(&value)) {
    *out += std::to_string(*integer);
  } else if (const auto* real = std::get_if<double>(&value)) {
    if (!std::isfinite(*real)) {
      *out += "null";  // JSON has no NaN or infinity
    } else {
      char buffer[64];
      const auto result = std::to_chars(buffer, buffer + sizeof buffer, *real);
      out->append(buffer, result.ptr);
    }
  } else {
    *out += std::get<bool>(value) ? "true" : "false";
  }
}

bool IsReservedKey(std::string_view key) {
  return key == "ts" || key == "level" || key == "component" || key == "msg";
}

}  // namespace

std::string FormatJsonLogLine(const spdlog::details::log_msg& msg, const std::string& component,
                              const std::vector<LogField>& static_fields,
                              const std::vector<LogField>& scoped_fields) {
  std::string out;
  out.reserve(160 + msg.payload.size());
  out += "{\"ts\":";
  AppendTimestamp(msg.time, &out);
  out += ",\"level\":\"";
  out += LevelName(msg.level);
  out += "\",\"component\":";
  AppendJsonString(component, &out);
  out += ",\"msg\":";
  AppendJsonString(std::string_view(msg.payload.data(), msg.payload.size()), &out);

  // Innermost wins: walk from the last field back, skipping keys seen.
  std::vector<const LogField*> chosen;
  auto consider = [&](const LogField& field) {
    if (IsReservedKey(field.key)) return;
    for (const LogField* seen : chosen) {
      if (seen->key == field.key) return;
    }
    chosen.push_back(&field);
  };
  for (auto it = scoped_fields.rbegin(); it != scoped_fields.rend(); ++it) consider(*it);
  for (auto it = static_fields.rbegin(); it != static_fields.rend(); ++it) consider(*it);
  // Print in definition order (process fields, then outer to inner scopes).
  for (auto it = chosen.rbegin(); it != chosen.rend(); ++it) {
    out += ',';
    AppendJsonString((*it)->key, &out);
    out += ':';
    AppendValue((*it)->value, &out);
  }
  out += '}';
  return out;
}

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  const std::string line = FormatJsonLogLine(msg, component_, fields_, CurrentLogFields());
  dest.append(line.data(), line.data() + line.size());
  dest.push_back('\n');
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>(component_, fields_);
}

}  // namespace skillstore::logging
