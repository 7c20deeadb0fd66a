// RunTask: the three executors behind one entry point.
#include "common/task_executor.h"

#include <exception>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/engine_limits.h"
#include "common/input_guard.h"
#include "common/json_input.h"
#include "common/security_scanner.h"
#include "common/skill_parser.h"

namespace skillstore {
namespace {

// nlohmann's dump() of `j` in `layout` (indented ends with a newline, as the
// JsonWriter's documents do).
template <typename Json>
std::string Dump(const Json& j, JsonLayout layout) {
  if (layout == JsonLayout::kCompact) {
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string ErrorList(const ValidationReport& report, size_t max_errors) {
  std::string out;
  for (size_t i = 0; i < report.errors.size() && i < max_errors; ++i) {
    absl::StrAppend(&out, i > 0 ? "; " : "", report.errors[i].path.empty() ? "/" : report.errors[i].path,
                    ": ", report.errors[i].message);
  }
  const size_t all_errors = report.errors.size() + report.errors_not_listed;
  if (all_errors > max_errors) absl::StrAppend(&out, "; and ", all_errors - max_errors, " more");
  return out;
}

// A decomposition given to `parse`: normalised (canonical key order and
// layout) and validated; an invalid one is refused with its errors.
absl::StatusOr<std::string> NormaliseDecomposition(const nlohmann::json& doc, JsonLayout layout) {
  ValidationReport report = DefaultSkillParser().Validate(doc);
  if (!report.valid) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input is a decomposition JSON that fails the schema: ", ErrorList(report, 10)));
  }
  return Dump(doc, layout);
}

absl::StatusOr<std::string> RunParse(std::string_view content, std::string_view label,
                                     JsonLayout layout) {
  if (LooksLikeJsonObject(content)) {
    absl::StatusOr<nlohmann::json> json = ParseJsonInput(content);
    if (!json.ok() && absl::IsResourceExhausted(json.status())) return json.status();
    if (json.ok() && json->is_object() &&
        (json->contains("meta") || json->contains("decomposition"))) {
      return NormaliseDecomposition(*json, layout);
    }
    // A decomposition with a typo (a trailing comma) used to be parsed as
    // Markdown, its whole text one directive, and succeed: refused when the
    // file says it is JSON or the text names a decomposition's keys.
    if (!json.ok() &&
        (absl::EndsWithIgnoreCase(absl::string_view(label.data(), label.size()), ".json") ||
         content.find("\"decomposition\"") != std::string_view::npos ||
         content.find("\"meta\"") != std::string_view::npos)) {
      return absl::InvalidArgumentError(absl::StrCat(
          json.status().message(),
          " (the input looks like a decomposition JSON, so it is not read as Markdown)"));
    }
    // Not a decomposition: treat it as Markdown like any other text.
  }
  return DefaultSkillParser().Parse(content, label, layout);
}

absl::StatusOr<std::string> RunValidate(std::string_view content, JsonLayout layout) {
  absl::StatusOr<nlohmann::json> json = ParseJsonInput(content);
  if (!json.ok()) return json.status();
  return Dump(DefaultSkillParser().Validate(*json).ToJson(), layout);
}

absl::StatusOr<std::string> RunAnalyze(std::string_view content, std::string_view label,
                                       JsonLayout layout) {
  absl::StatusOr<SecurityReport> report = ScanSkill(content, DefaultEngineLimits());
  if (!report.ok()) return report.status();
  return Dump(report->ToJson(label), layout);
}

}  // namespace

std::string_view TaskKindName(TaskKind kind) {
  switch (kind) {
    case TaskKind::kParse: return "parse";
    case TaskKind::kValidate: return "validate";
    case TaskKind::kAnalyze: return "analyze";
  }
  return "unknown";
}

absl::StatusOr<std::string> RunTask(TaskKind kind, std::string_view content,
                                    std::string_view source_label, JsonLayout layout) {
  try {
    absl::StatusOr<std::string_view> text = CheckTextInput(content, DefaultEngineLimits());
    if (!text.ok()) return text.status();
    switch (kind) {
      case TaskKind::kParse: return RunParse(*text, source_label, layout);
      case TaskKind::kValidate: return RunValidate(*text, layout);
      case TaskKind::kAnalyze: return RunAnalyze(*text, source_label, layout);
    }
    return absl::InvalidArgumentError("unknown task kind");
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        std::string(TaskKindName(kind)) + ": out of memory while processing the input");
  } catch (const std::exception& e) {
    return absl::InternalError(std::string(TaskKindName(kind)) + ": engine bug: " + e.what());
  }
}

}  // namespace skillstore
