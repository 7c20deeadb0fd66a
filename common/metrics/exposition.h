// Pieces of the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): name rules,
// escaping and number spelling. Registry::Expose puts them together.
#ifndef SKILLSTORE_COMMON_METRICS_EXPOSITION_H_
#define SKILLSTORE_COMMON_METRICS_EXPOSITION_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace skillstore::metrics {

// The Content-Type of a scrape response in this format.
inline constexpr char kExpositionContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved by Prometheus).
bool IsValidLabelName(std::string_view name);

// A label value inside double quotes: backslash, double quote and line feed
// are escaped. Other bytes pass as they are (the format is UTF-8).
std::string EscapeLabelValue(std::string_view value);
// HELP text: backslash and line feed are escaped.
std::string EscapeHelp(std::string_view help);

// A sample value: integers without exponent or fraction ("42"), others in
// the shortest form that reads back to the same double, "+Inf", "-Inf", "NaN".
std::string FormatValue(double value);

// `{a="x",b="y"}` for the names and values (same length), plus an optional
// extra pair (the histogram's `le`); "" when there are no labels at all.
std::string FormatLabels(const std::vector<std::string>& names,
                         const std::vector<std::string>& values,
                         const std::pair<std::string, std::string>* extra = nullptr);

}  // namespace skillstore::metrics

#endif  // SKILLSTORE_COMMON_METRICS_EXPOSITION_H_
