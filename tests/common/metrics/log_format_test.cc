// Structured logs: every JSON line parses (whatever bytes the message holds),
// carries ts/level/component/msg and the scoped and process fields.
#include <sstream>
#include <thread>

#include "common/metrics/json_escape.h"
#include "common/metrics/json_log_formatter.h"
#include "common/metrics/log_fields.h"
#include "common/metrics/log_setup.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"

namespace skillstore::logging {
namespace {

using nlohmann::json;

std::string Escaped(std::string_view text) {
  std::string out;
  AppendJsonString(text, &out);
  return out;
}

TEST(JsonEscapeTest, ControlCharactersAndQuotes) {
  EXPECT_EQ(Escaped("plain"), "\"plain\"");
  EXPECT_EQ(Escaped("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(Escaped("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(Escaped(std::string("\x01\x1f\0", 3)), "\"\\u0001\\u001f\\u0000\"");
  EXPECT_EQ(Escaped("ü — 日本 🎉"), "\"ü — 日本 🎉\"");  // valid UTF-8 passes
}

TEST(JsonEscapeTest, InvalidUtf8BecomesReplacementCharacters) {
  const std::string bad[] = {
      "\xff",             // never valid
      "\x80",             // lone continuation
      "\xc3",             // truncated
      "\xc0\xaf",         // overlong '/'
      "\xed\xa0\x80",     // surrogate
      "\xf4\x90\x80\x80"  // above U+10FFFF
  };
  for (const std::string& text : bad) {
    const std::string escaped = Escaped("x" + text + "y");
    json parsed;
    ASSERT_NO_THROW(parsed = json::parse(escaped)) << escaped;
    const std::string value = parsed.get<std::string>();
    EXPECT_EQ(value.front(), 'x');
    EXPECT_EQ(value.back(), 'y');
    EXPECT_NE(value.find("\xEF\xBF\xBD"), std::string::npos);
  }
}

// A logger with the JSON formatter writing into a string stream.
struct CapturedLogger {
  explicit CapturedLogger(std::vector<LogField> fields = {}) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream);
    logger = std::make_shared<spdlog::logger>("test-component", sink);
    logger->set_formatter(std::make_unique<JsonLogFormatter>("skill-worker", std::move(fields)));
    logger->set_level(spdlog::level::trace);
  }
  std::vector<json> Lines() {
    std::vector<json> lines;
    std::istringstream in(stream.str());
    std::string line;
    while (std::getline(in, line)) lines.push_back(json::parse(line));  // throws if invalid
    return lines;
  }
  std::ostringstream stream;
  std::shared_ptr<spdlog::logger> logger;
};

TEST(JsonLogFormatterTest, OneParsableObjectPerLine) {
  CapturedLogger captured({{"worker_id", "host-1-4242"}});
  captured.logger->info("task {} attempt {}: result stored", 17, 2);
  captured.logger->warn("error text with \"quotes\"\nnewline and bad \xff byte");
  captured.logger->error("{}", std::string("nul\0inside", 10));
  std::vector<json> lines;
  ASSERT_NO_THROW(lines = captured.Lines()) << captured.stream.str();
  ASSERT_EQ(lines.size(), 3u);

  const json& first = lines[0];
  EXPECT_EQ(first["level"], "info");
  EXPECT_EQ(first["component"], "skill-worker");
  EXPECT_FALSE(first.contains("logger"));  // one logger per process: the component says it
  EXPECT_EQ(first["msg"], "task 17 attempt 2: result stored");
  EXPECT_EQ(first["worker_id"], "host-1-4242");
  const std::string ts = first["ts"];
  ASSERT_EQ(ts.size(), 24u) << ts;  // 2026-11-25T23:41:07.123Z
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts.back(), 'Z');

  EXPECT_EQ(lines[1]["level"], "warn");
  EXPECT_NE(lines[1]["msg"].get<std::string>().find("\"quotes\"\nnewline"), std::string::npos);
  EXPECT_EQ(lines[2]["level"], "error");
  EXPECT_EQ(lines[2]["msg"].get<std::string>(), std::string("nul\0inside", 10));
}

TEST(JsonLogFormatterTest, ScopedFieldsNestAndInnermostWins) {
  CapturedLogger captured({{"worker_id", "w1"}});
  {
    LogFields task({{"task_id", "17"}, {"attempt", 1}});
    captured.logger->info("outer");
    {
      LogFields retry({{"attempt", 2}, {"duration_seconds", 0.25}, {"retryable", true}});
      captured.logger->info("inner");
    }
    captured.logger->info("outer again");
  }
  captured.logger->info("no scope");
  {
    LogFields reserved({{"msg", "must not replace the message"}, {"worker_id", "w2"}});
    captured.logger->info("reserved keys");
  }
  const std::vector<json> lines = captured.Lines();
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0]["task_id"], "17");
  EXPECT_EQ(lines[0]["attempt"], 1);
  EXPECT_EQ(lines[1]["attempt"], 2);
  EXPECT_EQ(lines[1]["task_id"], "17");
  EXPECT_EQ(lines[1]["duration_seconds"], 0.25);
  EXPECT_EQ(lines[1]["retryable"], true);
  EXPECT_EQ(lines[2]["attempt"], 1);
  EXPECT_FALSE(lines[2].contains("retryable"));
  EXPECT_FALSE(lines[3].contains("task_id"));
  EXPECT_EQ(lines[3]["worker_id"], "w1");
  EXPECT_EQ(lines[4]["msg"], "reserved keys");
  EXPECT_EQ(lines[4]["worker_id"], "w2");  // a scope may refine a process field
}

TEST(JsonLogFormatterTest, FieldsAreThreadLocal) {
  CapturedLogger captured;
  LogFields mine({{"task_id", "main"}});
  std::thread other([&] { captured.logger->info("from another thread"); });
  other.join();
  const std::vector<json> lines = captured.Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_FALSE(lines[0].contains("task_id"));
}

TEST(LogSetupTest, ParsesFlags) {
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("yaml").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*ParseLogLevel("warn"), spdlog::level::warn);
  EXPECT_EQ(*ParseLogLevel("off"), spdlog::level::off);
  EXPECT_FALSE(ParseLogLevel("verbose").ok());
}

TEST(LogSetupTest, InstallsTheDefaultLogger) {
  LogOptions options;
  options.component = "test-program";
  options.format = LogFormat::kJson;
  options.level = "debug";
  auto logger = SetUpLogging(options);
  ASSERT_TRUE(logger.ok()) << logger.status();
  EXPECT_EQ(spdlog::default_logger().get(), logger->get());
  EXPECT_EQ((*logger)->level(), spdlog::level::debug);
  options.level = "loud";
  EXPECT_FALSE(SetUpLogging(options).ok());
}

}  // namespace
}  // namespace skillstore::logging
