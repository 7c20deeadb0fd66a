#include "common/schema_validator.h"

#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/text_util.h"
// valijson reports what it cannot handle by throwing (caught in Validate)
// rather than by printing and aborting the process: its "format" check reads
// the value as a string without checking that it is one, and a document with
// an array where a date-time belongs killed the worker validating it. Only
// this file includes valijson, so the setting is the same for all its code.
#define VALIJSON_USE_EXCEPTIONS 1
#include "valijson/adapters/nlohmann_json_adapter.hpp"
#include "valijson/schema.hpp"
#include "valijson/schema_parser.hpp"
#include "valijson/validation_results.hpp"
#include "valijson/validator.hpp"

namespace skillstore {
namespace internal {
extern const std::string_view kEmbeddedSchemaText;
}  // namespace internal

namespace {

// Removes every "format" keyword (a "format" key with a string value; a
// property that happens to be called "format" has a schema object as its
// value and stays) from a schema document.
void RemoveFormatKeywords(nlohmann::json& schema) {
  if (schema.is_object()) {
    auto format = schema.find("format");
    if (format != schema.end() && format->is_string()) schema.erase(format);
    for (auto& [key, value] : schema.items()) RemoveFormatKeywords(value);
  } else if (schema.is_array()) {
    for (nlohmann::json& value : schema) RemoveFormatKeywords(value);
  }
}

// valijson names each step of the path "[key]" or "[index]" after "<root>".
std::string ContextToPointer(const std::vector<std::string>& context) {
  std::string out;
  for (const std::string& part : context) {
    if (part == "<root>") continue;
    std::string_view p = part;
    if (p.size() >= 2 && p.front() == '[' && p.back() == ']') p = p.substr(1, p.size() - 2);
    out += '/';
    out += JsonPointerEscape(p);
  }
  return out;
}

// Messages valijson adds at every level above the real error.
bool IsWrapperMessage(std::string_view m) {
  return StartsWith(m, "Failed to validate against schema associated with property") ||
         StartsWith(m, "Failed to validate item #") ||
         StartsWith(m, "Failed to validate against child schema");
}

}  // namespace

nlohmann::ordered_json ValidationReport::ToJson() const {
  nlohmann::ordered_json out;
  out["valid"] = valid;
  out["errors"] = nlohmann::ordered_json::array();
  for (const ValidationError& e : errors) {
    out["errors"].push_back({{"path", e.path}, {"message", e.message}});
  }
  return out;
}

SchemaValidator::SchemaValidator() = default;
SchemaValidator::~SchemaValidator() = default;

absl::StatusOr<std::unique_ptr<SchemaValidator>> SchemaValidator::Create(
    std::string_view schema_json) {
  std::unique_ptr<SchemaValidator> v(new SchemaValidator());
  try {
    nlohmann::json doc = nlohmann::json::parse(schema_json);
    auto compile = [](const nlohmann::json& schema_doc) {
      auto schema = std::make_unique<valijson::Schema>();
      valijson::SchemaParser parser;
      valijson::adapters::NlohmannJsonAdapter adapter(schema_doc);
      parser.populateSchema(adapter, *schema);
      return schema;
    };
    v->schema_ = compile(doc);
    RemoveFormatKeywords(doc);
    v->schema_without_formats_ = compile(doc);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("schema cannot be compiled: ", e.what()));
  }
  return v;
}

ValidationReport SchemaValidator::Validate(const nlohmann::json& document) const {
  try {
    return ValidateAgainst(*schema_, document);
  } catch (const std::exception&) {
    // valijson's "format" check met a value that is not a string. JSON
    // Schema applies "format" to strings only, so the document is judged
    // again without the format keywords: the "type" of the same property
    // still reports the wrong value.
  }
  try {
    return ValidateAgainst(*schema_without_formats_, document);
  } catch (const std::exception& e) {
    ValidationReport report;
    report.valid = false;
    report.errors.push_back({"", absl::StrCat("the document could not be validated: ", e.what())});
    return report;
  }
}

ValidationReport SchemaValidator::ValidateAgainst(const valijson::Schema& schema,
                                                  const nlohmann::json& document) {
  ValidationReport report;
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter adapter(document);
  report.valid = validator.validate(schema, adapter, &results);
  if (report.valid) return report;

  std::vector<ValidationError> all;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    ValidationError e;
    e.path = ContextToPointer(error.context);
    e.message = error.description;
    // Point a missing property at where it belongs, not at its parent.
    constexpr std::string_view kMissing = "Missing required property '";
    if (StartsWith(e.message, kMissing) && EndsWith(e.message, "'.")) {
      std::string name = e.message.substr(kMissing.size(), e.message.size() - kMissing.size() - 2);
      e.path += "/" + JsonPointerEscape(name);
    }
    all.push_back(std::move(e));
  }
  std::set<std::pair<std::string, std::string>> seen;
  for (const ValidationError& e : all) {
    if (IsWrapperMessage(e.message)) {
      bool has_deeper = false;
      for (const ValidationError& o : all) {
        if (!IsWrapperMessage(o.message) && o.path.size() > e.path.size() &&
            StartsWith(o.path, e.path)) {
          has_deeper = true;
          break;
        }
      }
      if (has_deeper) continue;
    }
    if (seen.insert({e.path, e.message}).second) report.errors.push_back(e);
  }
  return report;
}

std::string_view ProjectSchemaText() { return internal::kEmbeddedSchemaText; }

const SchemaValidator& ProjectSchemaValidator() {
  static const SchemaValidator* validator = [] {
    absl::StatusOr<std::unique_ptr<SchemaValidator>> v = SchemaValidator::Create(ProjectSchemaText());
    // The embedded schema is part of the build; a failure here is a build bug.
    if (!v.ok()) std::abort();
    return v->release();
  }();
  return *validator;
}

}  // namespace skillstore
