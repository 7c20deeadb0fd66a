// A strict reader of the Prometheus text format 0.0.4, for tests: it fails
// on anything a Prometheus server would reject (bad names, bad escapes,
// samples without a TYPE, duplicate series, histogram buckets that are not
// cumulative or lack +Inf, _count differing from the +Inf bucket).
#ifndef SKILLSTORE_TESTS_COMMON_METRICS_EXPOSITION_PARSER_H_
#define SKILLSTORE_TESTS_COMMON_METRICS_EXPOSITION_PARSER_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace skillstore::metrics::testing {

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;  // as written: foo_bucket, foo_sum, ...
  Labels labels;
  double value = 0;
};

struct ParsedFamily {
  std::string help;
  std::string type;  // counter, gauge, histogram, ...
};

struct Exposition {
  std::map<std::string, ParsedFamily> families;
  std::vector<Sample> samples;

  // The value of the sample `name` with exactly `labels`; NotFound otherwise.
  absl::StatusOr<double> Value(std::string_view name, const Labels& labels = {}) const;
  // Sum over the samples named `name` whose labels include `match`.
  double Sum(std::string_view name, const Labels& match = {}) const;
  // Whether any sample has this name.
  bool Has(std::string_view name) const;
};

absl::StatusOr<Exposition> ParseExposition(std::string_view text);

}  // namespace skillstore::metrics::testing

#endif  // SKILLSTORE_TESTS_COMMON_METRICS_EXPOSITION_PARSER_H_
