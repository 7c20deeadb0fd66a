// Durations on the command line.
//
// Flags whose name carries no unit (--exit-when-idle, --drain-timeout,
// skillctl's --timeout, ...) are read in seconds, and also take the unit
// people write anyway: "90", "90s", "1.5m", "500ms", "2h". A value the
// transform cannot read is refused with the forms it accepts, instead of
// CLI11's bare "Could not convert". Flags named *-seconds or *-ms keep to
// plain numbers: their unit is in the name.
#ifndef SKILLSTORE_COMMON_DURATION_FLAG_H_
#define SKILLSTORE_COMMON_DURATION_FLAG_H_

#include <string_view>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"

namespace skillstore {

enum class SecondsPrecision {
  kFractional,  // the flag is a double: "500ms" is 0.5
  kWhole,       // the flag is an integer: "500ms" is refused, "2m" is 120
};

// Reads `text` as a number of seconds with an optional unit (ms, s, m, min,
// h; case-insensitive; spaces around the unit allowed). A sign is kept, so
// the flag's own range check still speaks for negative values.
// INVALID_ARGUMENT, naming the accepted forms, when it is not one.
absl::StatusOr<double> ParseSeconds(std::string_view text);

// The CLI11 transform that rewrites a duration to plain seconds before the
// option's own conversion and checks run: add it with ->transform().
CLI::Validator SecondsWithUnit(SecondsPrecision precision);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_DURATION_FLAG_H_
