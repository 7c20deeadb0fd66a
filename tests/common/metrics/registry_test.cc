// The registry and its text exposition: exact output, escaping, histogram
// invariants, and exact totals under concurrent updates and scrapes.
#include "common/metrics/registry.h"

#include <cmath>
#include <thread>
#include <vector>

#include "common/metrics/exposition.h"
#include "exposition_parser.h"
#include "gtest/gtest.h"

namespace skillstore::metrics {
namespace {

using testing::Labels;
using testing::ParseExposition;

TEST(ExpositionTest, ExactText) {
  Registry registry;
  auto& tasks = registry.AddCounter("demo_tasks_total", "Tasks done.", {"type"});
  tasks.WithLabels({"parse"}).Increment(3);
  tasks.WithLabels({"analyze"}).Increment();
  registry.AddGauge("demo_queue_depth", "Tasks waiting.").Get().Set(7);
  auto& latency = registry.AddHistogram("demo_latency_seconds", "Latency.", {}, {0.125, 1});
  latency.Get().Observe(0.0625);
  latency.Get().Observe(0.125);  // le is inclusive
  latency.Get().Observe(5);

  EXPECT_EQ(registry.Expose(),
            "# HELP demo_tasks_total Tasks done.\n"
            "# TYPE demo_tasks_total counter\n"
            "demo_tasks_total{type=\"analyze\"} 1\n"
            "demo_tasks_total{type=\"parse\"} 3\n"
            "# HELP demo_queue_depth Tasks waiting.\n"
            "# TYPE demo_queue_depth gauge\n"
            "demo_queue_depth 7\n"
            "# HELP demo_latency_seconds Latency.\n"
            "# TYPE demo_latency_seconds histogram\n"
            "demo_latency_seconds_bucket{le=\"0.125\"} 2\n"
            "demo_latency_seconds_bucket{le=\"1\"} 2\n"
            "demo_latency_seconds_bucket{le=\"+Inf\"} 3\n"
            "demo_latency_seconds_sum 5.1875\n"
            "demo_latency_seconds_count 3\n");
}

TEST(ExpositionTest, LabelValuesAndHelpAreEscaped) {
  Registry registry;
  auto& family = registry.AddGauge("demo_gauge", "Help with \\ and\nnewline.", {"path", "other"});
  const std::string nasty = "C:\\dir \"quoted\"\nnext line — ü";
  family.WithLabels({nasty, ""}).Set(-2.5);
  const std::string text = registry.Expose();
  EXPECT_NE(text.find("# HELP demo_gauge Help with \\\\ and\\nnewline.\n"), std::string::npos);
  EXPECT_NE(text.find("path=\"C:\\\\dir \\\"quoted\\\"\\nnext line — ü\""), std::string::npos)
      << text;
  auto parsed = ParseExposition(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << text;
  EXPECT_EQ(parsed->families.at("demo_gauge").help, "Help with \\ and\nnewline.");
  EXPECT_EQ(*parsed->Value("demo_gauge", {{"path", nasty}, {"other", ""}}), -2.5);
}

TEST(ExpositionTest, ValuesAreSpelledForPrometheus) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(42), "42");
  EXPECT_EQ(FormatValue(-3), "-3");
  EXPECT_EQ(FormatValue(1.5), "1.5");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(1e-9), "1e-09");
  EXPECT_EQ(FormatValue(123456789012.0), "123456789012");
  EXPECT_EQ(FormatValue(1e300), "1e+300");
  EXPECT_EQ(FormatValue(HUGE_VAL), "+Inf");
  EXPECT_EQ(FormatValue(-HUGE_VAL), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
}

TEST(ExpositionTest, NamesFollowThePrometheusRules) {
  EXPECT_TRUE(IsValidMetricName("skillstore_tasks_total"));
  EXPECT_TRUE(IsValidMetricName("job:rate5m"));
  EXPECT_FALSE(IsValidMetricName("9lives"));
  EXPECT_FALSE(IsValidMetricName("with-dash"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_TRUE(IsValidLabelName("type"));
  EXPECT_FALSE(IsValidLabelName("__reserved"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
}

TEST(RegistryTest, SameDefinitionReturnsTheSameFamily) {
  Registry registry;
  auto& a = registry.AddCounter("demo_total", "x", {"type"});
  auto& b = registry.AddCounter("demo_total", "x", {"type"});
  EXPECT_EQ(&a, &b);
  a.WithLabels({"parse"}).Increment();
  EXPECT_EQ(b.WithLabels({"parse"}).Value(), 1);
}

TEST(RegistryDeathTest, BadDefinitionsAbort) {
  EXPECT_DEATH(
      {
        Registry registry;
        registry.AddCounter("bad-name", "x");
      },
      "invalid metric name");
  EXPECT_DEATH(
      {
        Registry registry;
        registry.AddCounter("demo_total", "x", {"type"});
        registry.AddGauge("demo_total", "x", {"type"});
      },
      "defined twice");
  EXPECT_DEATH(
      {
        Registry registry;
        registry.AddHistogram("demo_seconds", "x", {"le"}, {1});
      },
      "reserved");
  EXPECT_DEATH(
      {
        Registry registry;
        registry.AddHistogram("demo_seconds", "x", {}, {2, 1});
      },
      "strictly increasing");
  EXPECT_DEATH(
      {
        Registry registry;
        registry.AddCounter("demo_total", "x", {"type"}).WithLabels({"a", "b"});
      },
      "has 1 labels, got 2");
}

TEST(RegistryTest, FamilyWithoutSeriesHasOnlyItsHeader) {
  Registry registry;
  registry.AddCounter("demo_total", "Nothing yet.", {"type"});
  EXPECT_EQ(registry.Expose(),
            "# HELP demo_total Nothing yet.\n# TYPE demo_total counter\n");
  EXPECT_TRUE(ParseExposition(registry.Expose()).ok());
}

TEST(RegistryTest, CollectHooksRunBeforeEveryExposition) {
  Registry registry;
  Gauge& depth = registry.AddGauge("demo_depth", "Mirrored at scrape time.").Get();
  int calls = 0;
  registry.AddCollectHook([&] { depth.Set(++calls * 10); });
  EXPECT_NE(registry.Expose().find("demo_depth 10\n"), std::string::npos);
  EXPECT_NE(registry.Expose().find("demo_depth 20\n"), std::string::npos);
}

TEST(InstrumentsTest, CounterIgnoresNegativeAndNan) {
  Counter counter;
  counter.Increment(2);
  counter.Increment(-1);
  counter.Increment(std::nan(""));
  EXPECT_EQ(counter.Value(), 2);
}

TEST(InstrumentsTest, HistogramBuckets) {
  Histogram histogram({1, 2, 4});
  for (double v : {0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 100.0}) histogram.Observe(v);
  histogram.Observe(std::nan(""));
  const Histogram::Snapshot s = histogram.Collect();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 4, 6, 8}));
  EXPECT_EQ(s.count, 8u);
  EXPECT_TRUE(std::isnan(s.sum));  // Prometheus semantics: NaN poisons the sum
}

TEST(InstrumentsTest, BucketLayouts) {
  EXPECT_EQ(ExponentialBuckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
  EXPECT_EQ(LinearBuckets(0, 5, 3), (std::vector<double>{0, 5, 10}));
  for (const auto& bounds : {LatencyBuckets(), DurationBuckets()}) {
    for (size_t i = 1; i < bounds.size(); ++i) EXPECT_LT(bounds[i - 1], bounds[i]);
  }
}

// Many threads update the same series while another scrapes: the totals are
// exact, every scrape parses, and counters never go down between scrapes.
TEST(RegistryTest, ConcurrentUpdatesAndScrapes) {
  Registry registry;
  auto& counters = registry.AddCounter("demo_events_total", "Events.", {"type"});
  auto& histograms = registry.AddHistogram("demo_seconds", "Durations.", {"type"}, {0.5, 1.5});
  Gauge& gauge = registry.AddGauge("demo_active", "Active.").Get();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 50000;
  std::atomic<bool> done{false};
  std::vector<std::string> failures;
  std::thread scraper([&] {
    double last = 0;
    while (!done.load()) {
      auto parsed = ParseExposition(registry.Expose());
      if (!parsed.ok()) {
        failures.push_back(std::string(parsed.status().message()));
        return;
      }
      const double now = parsed->Sum("demo_events_total");
      if (now < last) failures.push_back("counter went down");
      last = now;
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string type = t % 2 == 0 ? "parse" : "analyze";
      Counter& counter = counters.WithLabels({type});
      Histogram& histogram = histograms.WithLabels({type});
      for (int i = 0; i < kPerThread; ++i) {
        counter.Increment();
        histogram.Observe(1.0);
        gauge.Increment();
        gauge.Decrement();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  done = true;
  scraper.join();
  EXPECT_TRUE(failures.empty()) << failures.front();

  auto parsed = ParseExposition(registry.Expose());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed->Value("demo_events_total", {{"type", "parse"}}), kThreads / 2 * kPerThread);
  EXPECT_EQ(parsed->Sum("demo_events_total"), kThreads * kPerThread);
  EXPECT_EQ(*parsed->Value("demo_seconds_count", {{"type", "analyze"}}),
            kThreads / 2 * kPerThread);
  EXPECT_EQ(*parsed->Value("demo_seconds_bucket", {{"type", "analyze"}, {"le", "0.5"}}), 0);
  EXPECT_EQ(*parsed->Value("demo_seconds_bucket", {{"type", "analyze"}, {"le", "1.5"}}),
            kThreads / 2 * kPerThread);
  EXPECT_EQ(*parsed->Value("demo_seconds_sum", {{"type", "parse"}}), kThreads / 2 * kPerThread);
  EXPECT_EQ(*parsed->Value("demo_active"), 0);
}

TEST(ParserTest, RejectsWhatPrometheusRejects) {
  EXPECT_FALSE(ParseExposition("foo 1\n").ok());  // no TYPE
  EXPECT_FALSE(ParseExposition("# TYPE foo counter\nfoo{a=\"x} 1\n").ok());
  EXPECT_FALSE(ParseExposition("# TYPE foo counter\nfoo 1\nfoo 2\n").ok());
  EXPECT_FALSE(ParseExposition("# TYPE foo counter\nfoo{a=\"\\t\"} 1\n").ok());
  EXPECT_FALSE(ParseExposition("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_count 2\n").ok());
  EXPECT_FALSE(ParseExposition(
                   "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                   "h_count 1\n")
                   .ok());
  EXPECT_TRUE(ParseExposition("# TYPE foo counter\nfoo{a=\"\\\"\"} 1\n").ok());
}

}  // namespace
}  // namespace skillstore::metrics
