// The vocabulary of the Skill-0 ternary classification: categories and the
// enums of the schema, with their schema spellings.
#ifndef SKILLSTORE_COMMON_CLASSIFICATION_TYPES_H_
#define SKILLSTORE_COMMON_CLASSIFICATION_TYPES_H_

#include <string_view>

namespace skillstore {

enum class Category { kAction, kRule, kDirective };

enum class ActionType {
  kTransform, kIoRead, kIoWrite, kCompute, kExternalCall, kStateChange,
  kLlmInference, kAwaitInput,
};

enum class ConditionType {
  kValidation, kExistenceCheck, kTypeCheck, kRangeCheck, kPermissionCheck,
  kStateCheck, kConsistencyCheck, kThresholdCheck,
};

enum class Returns { kBoolean, kClassification, kEnumValue, kScore };

enum class FailAction { kNone, kHalt, kBranch, kDefaultValue, kErrorThrow, kRetry, kEscalate };

enum class DirectiveType {
  kCompletion, kKnowledge, kPrinciple, kConstraint, kPreference, kStrategy,
};

// How the heading above a statement steers its classification.
enum class SectionBias { kNone, kSteps, kRules, kPrinciples, kCompletion, kKnowledge };

// Schema spellings ("action", "io_read", "existence_check", ...).
std::string_view CategoryName(Category c);
std::string_view ActionTypeName(ActionType t);
std::string_view ConditionTypeName(ConditionType t);
std::string_view ReturnsName(Returns r);
std::string_view FailActionName(FailAction f);  // "" for kNone
std::string_view DirectiveTypeName(DirectiveType t);
std::string_view SectionBiasName(SectionBias b);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_CLASSIFICATION_TYPES_H_
