#include "common/schema_validator.h"

#include <algorithm>
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

// The names under which a schema puts a string checked by a regular
// expression ("pattern" or "format"): the keys of such subschemas.
void CollectRegexCheckedNames(const nlohmann::json& schema, const std::string& key,
                              std::set<std::string>* names) {
  if (schema.is_object()) {
    auto pattern = schema.find("pattern");
    auto format = schema.find("format");
    if ((pattern != schema.end() && pattern->is_string()) ||
        (format != schema.end() && format->is_string())) {
      names->insert(key);
    }
    for (const auto& [child_key, value] : schema.items()) {
      CollectRegexCheckedNames(value, child_key, names);
    }
  } else if (schema.is_array()) {
    for (const nlohmann::json& value : schema) CollectRegexCheckedNames(value, key, names);
  }
}

// Appends to `found` the JSON pointer of every string longer than
// kMaxRegexCheckedBytes held under one of `names`. `pointer` is the path of
// `value`, extended and restored in place (no string per member).
void FindLongRegexCheckedStrings(const nlohmann::json& value, const std::set<std::string>& names,
                                 std::string& pointer, std::vector<std::string>* found) {
  const size_t length = pointer.size();
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      pointer += '/';
      pointer += JsonPointerEscape(key);
      if (member.is_string()) {
        if (member.get_ref<const std::string&>().size() > SchemaValidator::kMaxRegexCheckedBytes &&
            names.count(key) > 0) {
          found->push_back(pointer);
        }
      } else {
        FindLongRegexCheckedStrings(member, names, pointer, found);
      }
      pointer.resize(length);
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      absl::StrAppend(&pointer, "/", i);
      FindLongRegexCheckedStrings(value[i], names, pointer, found);
      pointer.resize(length);
    }
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

// A report lists this many errors at most, then one saying how many more
// there are: a document of 100,000 bad items had 300,000 errors, a 50 MB
// report (over the worker's result limit) for a 1.5 MB input. The first
// thousand say what is wrong as well as all of them would.
constexpr size_t kMaxListedErrors = 1000;

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
  if (errors_not_listed > 0) {
    out["errors"].push_back(
        {{"path", ""},
         {"message", absl::StrCat(errors_not_listed, " more errors are not listed (the first ",
                                  errors.size(), " are)")}});
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
    CollectRegexCheckedNames(doc, "", &v->regex_checked_names_);
    RemoveFormatKeywords(doc);
    v->schema_without_formats_ = compile(doc);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("schema cannot be compiled: ", e.what()));
  }
  return v;
}

ValidationReport SchemaValidator::Validate(const nlohmann::json& document) const {
  // valijson matches "pattern" and "format" with std::regex, whose recursion
  // grows with the length of the string: a 50 KB skill_id overflowed the
  // stack and killed the process. Such strings are blanked in a copy (which
  // then fails its pattern anyway) and reported as too long instead.
  std::vector<std::string> blanked;
  std::string pointer;
  FindLongRegexCheckedStrings(document, regex_checked_names_, pointer, &blanked);
  if (!blanked.empty()) {
    nlohmann::json guarded = document;
    for (const std::string& path : blanked) guarded[nlohmann::json::json_pointer(path)] = "";
    ValidationReport report = ValidateChecked(guarded);
    // What valijson says of the blanked strings is about the blank.
    std::set<std::string> blanked_paths(blanked.begin(), blanked.end());
    std::vector<ValidationError> errors;
    for (const std::string& path : blanked) {
      errors.push_back({path, absl::StrCat("longer than ", kMaxRegexCheckedBytes,
                                           " bytes: too long for its pattern or format")});
    }
    for (ValidationError& e : report.errors) {
      if (blanked_paths.count(e.path) == 0) errors.push_back(std::move(e));
    }
    report.valid = false;
    report.errors = std::move(errors);
    return report;
  }
  return ValidateChecked(document);
}

ValidationReport SchemaValidator::ValidateChecked(const nlohmann::json& document) const {
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
  // A wrapper is dropped when a real error lies deeper under its path. The
  // real errors' paths, sorted, put every path that starts with a given one
  // in one run from its lower bound: a lookup per wrapper rather than a pass
  // over all errors (a document with 10,000 bad items took 14 s that way).
  std::vector<std::string_view> real_paths;
  for (const ValidationError& e : all) {
    if (!IsWrapperMessage(e.message)) real_paths.push_back(e.path);
  }
  std::sort(real_paths.begin(), real_paths.end());
  const auto has_deeper_error = [&real_paths](std::string_view path) {
    for (auto it = std::lower_bound(real_paths.begin(), real_paths.end(), path);
         it != real_paths.end() && StartsWith(*it, path); ++it) {
      if (it->size() > path.size()) return true;
    }
    return false;
  };
  std::set<std::pair<std::string, std::string>> seen;
  for (const ValidationError& e : all) {
    if (IsWrapperMessage(e.message) && has_deeper_error(e.path)) continue;
    if (!seen.insert({e.path, e.message}).second) continue;
    if (report.errors.size() < kMaxListedErrors) {
      report.errors.push_back(e);
    } else {
      ++report.errors_not_listed;
    }
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
