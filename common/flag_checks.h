// Range checks for numeric command-line flags, with messages a person reads.
//
// CLI11's own NonNegativeNumber and PositiveNumber are ranges up to the
// largest double, and their message prints that bound in full: "Value -1 not
// in range 0.000000 to 1797693134862315708145274237317043567980...", 309
// digits. These say the rule instead: "--limit: must be 0 or more, not -1".
// Add them with ->check(), after any ->transform() (SecondsWithUnit), so they
// see the plain number.
#ifndef SKILLSTORE_COMMON_FLAG_CHECKS_H_
#define SKILLSTORE_COMMON_FLAG_CHECKS_H_

#include <cstdlib>
#include <string>

#include "CLI/CLI.hpp"

namespace skillstore {

namespace flag_checks_internal {

// The check shared by both: `text` must read as a whole number and satisfy
// `ok`; otherwise the message is `rule` and the text given.
template <typename Predicate>
CLI::Validator NumberCheck(const char* name, const char* rule, Predicate ok) {
  return CLI::Validator(
      [rule, ok](std::string& text) -> std::string {
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size()) {
          return "must be a number, not '" + text + "'";
        }
        return ok(value) ? std::string() : std::string(rule) + ", not " + text;
      },
      name);
}

}  // namespace flag_checks_internal

// 0 or more.
inline CLI::Validator NonNegativeNumber() {
  return flag_checks_internal::NumberCheck("NUMBER >= 0", "must be 0 or more",
                                           [](double value) { return value >= 0; });
}

// More than 0.
inline CLI::Validator PositiveNumber() {
  return flag_checks_internal::NumberCheck("NUMBER > 0", "must be more than 0",
                                           [](double value) { return value > 0; });
}

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_FLAG_CHECKS_H_
