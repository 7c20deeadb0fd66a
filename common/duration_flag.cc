#include "common/duration_flag.h"

#include <charconv>
#include <cmath>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace skillstore {
namespace {

constexpr char kAcceptedForms[] =
    "a number of seconds, or a number with a unit: ms, s, m (or min), h; e.g. 90, 1.5m, 500ms";

struct Unit {
  absl::string_view suffix;
  double seconds;
};
constexpr Unit kUnits[] = {{"ms", 0.001}, {"s", 1}, {"min", 60}, {"m", 60}, {"h", 3600}};

// The shortest text in fixed notation that reads back as `value` ("120",
// "0.5", "100000").
std::string FormatSeconds(double value) {
  char buffer[64];
  // Fixed, not the shortest form: an integer option cannot read "1e+05".
  const auto [end, error] =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed);
  if (error != std::errc()) return absl::StrCat(value);
  return std::string(buffer, end);
}

}  // namespace

absl::StatusOr<double> ParseSeconds(std::string_view text_in) {
  // Debian's Abseil has its own string_view, not an alias of std's.
  const absl::string_view text(text_in.data(), text_in.size());
  const absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  // The number is everything up to the first letter.
  size_t unit_at = 0;
  while (unit_at < trimmed.size() && !absl::ascii_isalpha(trimmed[unit_at])) ++unit_at;
  const absl::string_view number = absl::StripTrailingAsciiWhitespace(trimmed.substr(0, unit_at));
  const std::string unit = absl::AsciiStrToLower(trimmed.substr(unit_at));
  double value = 0;
  // SimpleAtod also reads "inf" and "nan", but those start with a letter and
  // so never reach it.
  if (number.empty() || !absl::SimpleAtod(number, &value) || !std::isfinite(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a duration: expected ", kAcceptedForms));
  }
  if (unit.empty()) return value;
  for (const Unit& known : kUnits) {
    if (unit == known.suffix) return value * known.seconds;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' has an unknown unit '", unit, "': expected ", kAcceptedForms));
}

CLI::Validator SecondsWithUnit(SecondsPrecision precision) {
  return CLI::Validator(
      [precision](std::string& value) -> std::string {
        absl::StatusOr<double> seconds = ParseSeconds(value);
        if (!seconds.ok()) return std::string(seconds.status().message());
        if (precision == SecondsPrecision::kWhole && *seconds != std::floor(*seconds)) {
          return absl::StrCat("'", value, "' is ", FormatSeconds(*seconds),
                              " s; this flag takes whole seconds");
        }
        value = FormatSeconds(*seconds);
        return "";
      },
      "DURATION", "seconds with an optional unit");
}

}  // namespace skillstore
