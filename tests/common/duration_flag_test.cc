// ParseSeconds and the CLI11 transform the server, the worker and skillctl
// put on their unit-less seconds flags.
#include "common/duration_flag.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace skillstore {
namespace {

TEST(ParseSecondsTest, NumbersAndUnits) {
  EXPECT_EQ(*ParseSeconds("90"), 90);
  EXPECT_EQ(*ParseSeconds("1.5"), 1.5);
  EXPECT_EQ(*ParseSeconds("90s"), 90);
  EXPECT_EQ(*ParseSeconds("500ms"), 0.5);
  EXPECT_EQ(*ParseSeconds("1.5m"), 90);
  EXPECT_EQ(*ParseSeconds("2min"), 120);
  EXPECT_EQ(*ParseSeconds("2h"), 7200);
  EXPECT_EQ(*ParseSeconds(" 10 M "), 600);  // spaces and case do not matter
  EXPECT_EQ(*ParseSeconds("-5s"), -5);      // left to the flag's own range check
}

TEST(ParseSecondsTest, RefusesWhatIsNotADuration) {
  for (const char* bad :
       {"", "s", "ms", "abc", "1.2.3", "5 sec", "3x", "1e3", "inf", "nan", "5d", "--5"}) {
    absl::StatusOr<double> seconds = ParseSeconds(bad);
    EXPECT_FALSE(seconds.ok()) << "'" << bad << "' read as " << *seconds;
    if (!seconds.ok()) {
      EXPECT_NE(seconds.status().message().find("ms, s, m (or min), h"), std::string::npos)
          << seconds.status();
    }
  }
}

// Parses `args` into an App with one double flag (--wait) and one integer
// flag (--every, 1..300); returns CLI11's error text, empty on success.
std::string ParseFlags(std::vector<std::string> args, double* wait, int* every) {
  CLI::App app;
  app.add_option("--wait", *wait)->transform(SecondsWithUnit(SecondsPrecision::kFractional));
  app.add_option("--every", *every)
      ->transform(SecondsWithUnit(SecondsPrecision::kWhole))
      ->check(CLI::Range(1, 300));
  std::reverse(args.begin(), args.end());  // CLI11 takes them from the back
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "";
}

// Large round numbers reach an integer option as digits: the shortest form
// of 100000 is "1e+05", which an int does not parse.
TEST(SecondsWithUnitTest, LargeWholeNumbersReachAnIntegerOption) {
  for (const auto& [text, want] : std::vector<std::pair<std::string, int>>{{"100000", 100000},
                                                                           {"200000", 200000},
                                                                           {"604800", 604800},
                                                                           {"168h", 604800},
                                                                           {"100000s", 100000},
                                                                           {"1000000", 1000000}}) {
    CLI::App app;
    int timeout = 0;
    app.add_option("--timeout", timeout)->transform(SecondsWithUnit(SecondsPrecision::kWhole));
    std::vector<std::string> args = {"--timeout", text};
    std::reverse(args.begin(), args.end());
    EXPECT_NO_THROW(app.parse(args)) << text;
    EXPECT_EQ(timeout, want) << text;
  }
}

TEST(SecondsWithUnitTest, RewritesToSecondsBeforeTheOptionsOwnChecks) {
  double wait = 0;
  int every = 0;
  EXPECT_EQ(ParseFlags({"--wait", "250ms", "--every", "2m"}, &wait, &every), "");
  EXPECT_EQ(wait, 0.25);
  EXPECT_EQ(every, 120);
  EXPECT_EQ(ParseFlags({"--wait", "7", "--every", "45"}, &wait, &every), "");
  EXPECT_EQ(wait, 7);
  EXPECT_EQ(every, 45);

  // The range check sees seconds: 6m is 360, past 300.
  EXPECT_NE(ParseFlags({"--every", "6m"}, &wait, &every), "");
  // An integer flag refuses a fraction of a second, and says why.
  const std::string fraction = ParseFlags({"--every", "1500ms"}, &wait, &every);
  EXPECT_NE(fraction.find("whole seconds"), std::string::npos) << fraction;
  // A bad unit names the forms that work.
  const std::string unit = ParseFlags({"--wait", "3 fortnights"}, &wait, &every);
  EXPECT_NE(unit.find("unknown unit"), std::string::npos) << unit;
  EXPECT_NE(unit.find("500ms"), std::string::npos) << unit;
}

}  // namespace
}  // namespace skillstore
