// The analyze executor: scans a skill for SEC001-SEC010 with the context of
// every match taken from the Markdown tree, and scores the risk.
//
// Context is one of: front_matter, heading, prose, list_item, quote,
// code_block (with its language) and inline_code. Matches inside code are
// examples more often than instructions, so their severity is lowered one
// level; so is a match on a line that forbids the thing ("never use sudo").
// Each finding keeps both severities and the reason for the change.
#ifndef SKILLSTORE_COMMON_SECURITY_SCANNER_H_
#define SKILLSTORE_COMMON_SECURITY_SCANNER_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/engine_limits.h"
#include "common/security_rules.h"
#include "nlohmann/json.hpp"

namespace skillstore {

struct SecurityFinding {
  std::string rule_id;
  std::string rule_name;
  int line = 0;
  int column = 0;  // 1-based byte column
  std::string context;
  std::string language;  // code blocks only
  std::string matched_text;
  std::string message;
  Severity original_severity = Severity::kInfo;
  Severity adjusted_severity = Severity::kInfo;
  std::string adjustment_reason;  // empty when not adjusted
};

struct SecurityReport {
  // By line, column, rule; at most EngineLimits::max_findings_listed, the
  // first ones. The counts and the score below cover every finding.
  std::vector<SecurityFinding> findings;
  int64_t total_findings = 0;
  std::array<int64_t, 5> count_by_severity{};  // indexed by Severity
  std::map<std::string, int64_t> count_by_rule;
  int risk_score = 0;                     // 0..100
  std::string risk_level;  // safe, low, medium, high, critical, blocked
  nlohmann::ordered_json ToJson(std::string_view source_label) const;
};

// Scans SKILL.md `content` (BOM removed, checked as UTF-8).
absl::StatusOr<SecurityReport> ScanSkill(std::string_view content, const EngineLimits& limits);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_SECURITY_SCANNER_H_
