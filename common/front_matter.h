// YAML front matter: finds the block between the leading `---` lines, parses
// it with yaml-cpp and converts it to JSON under the engine limits.
#ifndef SKILLSTORE_COMMON_FRONT_MATTER_H_
#define SKILLSTORE_COMMON_FRONT_MATTER_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/engine_limits.h"
#include "nlohmann/json.hpp"

namespace skillstore {

struct FrontMatter {
  bool present = false;
  // Every key of the front matter in document order, converted to JSON
  // (plain scalars become booleans, numbers or null as YAML 1.2 core says;
  // quoted scalars stay strings).
  nlohmann::ordered_json fields = nlohmann::ordered_json::object();
  std::optional<std::string> name;
  std::optional<std::string> description;
  // Where the Markdown body starts in the content, and the 1-based line
  // number of its first line in the file.
  size_t body_offset = 0;
  int body_first_line = 1;
  // True when strict YAML failed and the block only parsed after quoting
  // loose top-level values (see QuoteLooseTopLevelValues in the .cc).
  bool repaired = false;
  // No front matter, but a `---` line after leading blank lines or spaces:
  // front matter must open on the first line, so the block is Markdown.
  bool fence_not_on_first_line = false;
  // Top-level keys written more than once, in the order of their first
  // repetition. YAML forbids that; the last value is used (as PyYAML does),
  // but some readers of skills refuse the file, so the caller says so.
  std::vector<std::string> repeated_keys;
};

// Splits and parses the front matter of `content` (BOM already removed).
// No leading `---` line means no front matter; that is not an error.
//   InvalidArgument:   unclosed block, YAML syntax error (with file line),
//                      front matter that is not a mapping, name/description
//                      that are not scalars.
//   ResourceExhausted: block too large, too deep, or expands to too many
//                      nodes (alias bombs).
absl::StatusOr<FrontMatter> ParseFrontMatter(std::string_view content,
                                             const EngineLimits& limits);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_FRONT_MATTER_H_
