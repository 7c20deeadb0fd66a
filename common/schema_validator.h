// JSON Schema validation of decompositions with valijson.
//
// The project's own schema (common/schema/skill0-decomposition.schema.json,
// compatible with Skill-0 v2.4) is compiled into the binary, so validation
// never depends on a file at run time. Other schemas (tests use the
// reference copy) can be loaded from text.
#ifndef SKILLSTORE_COMMON_SCHEMA_VALIDATOR_H_
#define SKILLSTORE_COMMON_SCHEMA_VALIDATOR_H_

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace valijson {
class Schema;
}

namespace skillstore {

struct ValidationError {
  std::string path;     // JSON pointer of the offending value ("" = root)
  std::string message;  // what is wrong, for a person
};

struct ValidationReport {
  bool valid = true;
  // Deepest errors, in first-found order; at most 1,000.
  std::vector<ValidationError> errors;
  // Errors found beyond those listed.
  size_t errors_not_listed = 0;
  // {"valid": ..., "errors": [{path, message}]}; when errors were left out,
  // a last entry with an empty path says how many.
  nlohmann::ordered_json ToJson() const;
};

class SchemaValidator {
 public:
  // Compiles a draft-07 schema. InvalidArgument if it is not a usable schema.
  static absl::StatusOr<std::unique_ptr<SchemaValidator>> Create(std::string_view schema_json);
  ~SchemaValidator();

  // Thread-safe: the compiled schema is only read. Never aborts: a document
  // valijson cannot judge with the schema as written (a non-string where a
  // "format" applies) is judged without the format keywords.
  // A string the schema checks with a regular expression ("pattern",
  // "format") and that is longer than this is reported as too long instead
  // of being matched (std::regex, which valijson uses, recurses per byte).
  ValidationReport Validate(const nlohmann::json& document) const;
  static constexpr size_t kMaxRegexCheckedBytes = 1024;

 private:
  SchemaValidator();
  // Validate without the length guard.
  ValidationReport ValidateChecked(const nlohmann::json& document) const;
  static ValidationReport ValidateAgainst(const valijson::Schema& schema,
                                          const nlohmann::json& document);
  std::unique_ptr<valijson::Schema> schema_;
  std::unique_ptr<valijson::Schema> schema_without_formats_;
  // Property names whose values the schema checks with a regular expression.
  std::set<std::string> regex_checked_names_;
};

// The text of the project's schema, as embedded at build time.
std::string_view ProjectSchemaText();

// The validator for the project's schema (compiled once, on first use).
const SchemaValidator& ProjectSchemaValidator();

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_SCHEMA_VALIDATOR_H_
