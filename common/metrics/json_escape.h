// JSON string escaping that always yields valid JSON, whatever the bytes:
// log messages carry error texts from arbitrary skill files.
#ifndef SKILLSTORE_COMMON_METRICS_JSON_ESCAPE_H_
#define SKILLSTORE_COMMON_METRICS_JSON_ESCAPE_H_

#include <string>
#include <string_view>

namespace skillstore::logging {

// Appends `text` as a JSON string literal, quotes included: '"' and '\\'
// escaped, control characters as \n, \t, ... or \u00XX, and every byte that
// is not part of well-formed UTF-8 (stray continuation bytes, overlong forms,
// surrogates, truncated sequences) replaced by U+FFFD.
void AppendJsonString(std::string_view text, std::string* out);

}  // namespace skillstore::logging

#endif  // SKILLSTORE_COMMON_METRICS_JSON_ESCAPE_H_
