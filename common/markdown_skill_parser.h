// The default SkillParser: YAML front matter + a cmark-gfm walk of the body.
//
// Statements are the sentences of paragraphs (in list items, quotes or on
// their own), the body rows of tables that say something, and the commands
// of shell code blocks. Each is classified by statement_classifier under the
// bias of its section heading and handed to DecompositionBuilder with its
// verbatim text and file lines.
#ifndef SKILLSTORE_COMMON_MARKDOWN_SKILL_PARSER_H_
#define SKILLSTORE_COMMON_MARKDOWN_SKILL_PARSER_H_

#include "common/engine_limits.h"
#include "common/skill_parser.h"

namespace skillstore {

class MarkdownSkillParser : public SkillParser {
 public:
  explicit MarkdownSkillParser(const EngineLimits& limits = DefaultEngineLimits())
      : limits_(limits) {}

  std::string_view name() const override { return "skillstore-markdown"; }
  std::string_view version() const override { return "1.0.0"; }
  ParserCapabilities capabilities() const override;
  absl::StatusOr<std::string> Parse(std::string_view content, std::string_view source_label,
                                    JsonLayout layout) const override;
  ValidationReport Validate(const nlohmann::json& decomposition) const override;

  // Parse with a fixed timestamp (tests compare bytes across runs).
  absl::StatusOr<std::string> ParseAt(std::string_view content, std::string_view source_label,
                                      const std::string& timestamp,
                                      JsonLayout layout = JsonLayout::kIndented) const;

 private:
  EngineLimits limits_;
};

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_MARKDOWN_SKILL_PARSER_H_
