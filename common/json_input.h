// Parsing untrusted JSON text (validate tasks, decomposition inputs to
// parse) with a nesting guard: nlohmann-json parses recursively, so depth is
// checked by a linear scan first.
#ifndef SKILLSTORE_COMMON_JSON_INPUT_H_
#define SKILLSTORE_COMMON_JSON_INPUT_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace skillstore {

inline constexpr size_t kMaxJsonDepth = 256;

// InvalidArgument for malformed JSON (with the byte offset),
// ResourceExhausted when arrays/objects nest deeper than kMaxJsonDepth.
absl::StatusOr<nlohmann::json> ParseJsonInput(std::string_view text);

// True when the first non-blank byte is '{' (the input might be JSON).
bool LooksLikeJsonObject(std::string_view text);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_JSON_INPUT_H_
