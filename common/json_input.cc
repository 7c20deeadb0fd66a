#include "common/json_input.h"

#include "absl/strings/str_cat.h"

namespace skillstore {

bool LooksLikeJsonObject(std::string_view text) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{';
  }
  return false;
}

absl::StatusOr<nlohmann::json> ParseJsonInput(std::string_view text) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "JSON nests deeper than ", kMaxJsonDepth, " levels (at byte ", i, ")"));
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // parse_error, and out_of_range for numbers too large for a double.
    return absl::InvalidArgumentError(absl::StrCat("input is not valid JSON: ", e.what()));
  }
}

}  // namespace skillstore
