// The interface every parsing strategy implements, and the registry that
// finds them. The Markdown parser (markdown_skill_parser.h) is the first and
// default strategy; another (say, an LLM-assisted one) plugs in beside it by
// implementing SkillParser and adding itself to RegisteredSkillParsers().
#ifndef SKILLSTORE_COMMON_SKILL_PARSER_H_
#define SKILLSTORE_COMMON_SKILL_PARSER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/json_layout.h"
#include "common/schema_validator.h"
#include "nlohmann/json.hpp"

namespace skillstore {

struct ParserCapabilities {
  bool front_matter = false;        // reads YAML front matter
  bool markdown = false;            // walks a Markdown tree
  bool shell_commands = false;      // extracts commands from shell code blocks
  bool provenance = false;          // every element carries location + verbatim text
  bool decomposition_input = false; // accepts an existing decomposition JSON
};

class SkillParser {
 public:
  virtual ~SkillParser() = default;

  virtual std::string_view name() const = 0;
  virtual std::string_view version() const = 0;
  virtual ParserCapabilities capabilities() const = 0;

  // SKILL.md content (BOM already removed, checked as UTF-8 text) to a
  // decomposition, as JSON text. `source_label` names the input in
  // provenance. Errors: InvalidArgument / ResourceExhausted as in
  // task_executor.h.
  virtual absl::StatusOr<std::string> Parse(std::string_view content,
                                            std::string_view source_label,
                                            JsonLayout layout) const = 0;

  // Checks a decomposition against the schema the parser produces.
  virtual ValidationReport Validate(const nlohmann::json& decomposition) const = 0;
};

// All strategies, default first. Thread-safe; the parsers are stateless.
std::vector<const SkillParser*> RegisteredSkillParsers();
const SkillParser& DefaultSkillParser();
// nullptr when no parser has that name.
const SkillParser* FindSkillParser(std::string_view name);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_SKILL_PARSER_H_
