// The security rules SEC001-SEC010: ids, names, severities and RE2 patterns,
// in one table (security_rules.cc). docs/security-rules.md describes each
// rule with examples; add a pattern there and here together.
#ifndef SKILLSTORE_COMMON_SECURITY_RULES_H_
#define SKILLSTORE_COMMON_SECURITY_RULES_H_

#include <string_view>

#include "absl/types/span.h"

namespace skillstore {

enum class Severity { kInfo = 0, kLow = 1, kMedium = 2, kHigh = 3, kCritical = 4 };

std::string_view SeverityName(Severity s);
Severity Lower(Severity s);  // one level down, floor kInfo

struct SecurityPattern {
  Severity severity;
  // RE2 syntax, matched case-insensitively against one source line.
  const char* regex;
  const char* what;  // what a match means, for the finding's message
};

struct SecurityRule {
  const char* id;    // "SEC001"
  const char* name;  // "shell_command_injection"
  absl::Span<const SecurityPattern> patterns;
};

absl::Span<const SecurityRule> SecurityRules();

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_SECURITY_RULES_H_
