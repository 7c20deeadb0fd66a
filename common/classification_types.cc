#include "common/classification_types.h"

namespace skillstore {

std::string_view CategoryName(Category c) {
  switch (c) {
    case Category::kAction: return "action";
    case Category::kRule: return "rule";
    case Category::kDirective: return "directive";
  }
  return "directive";
}

std::string_view ActionTypeName(ActionType t) {
  switch (t) {
    case ActionType::kTransform: return "transform";
    case ActionType::kIoRead: return "io_read";
    case ActionType::kIoWrite: return "io_write";
    case ActionType::kCompute: return "compute";
    case ActionType::kExternalCall: return "external_call";
    case ActionType::kStateChange: return "state_change";
    case ActionType::kLlmInference: return "llm_inference";
    case ActionType::kAwaitInput: return "await_input";
  }
  return "transform";
}

std::string_view ConditionTypeName(ConditionType t) {
  switch (t) {
    case ConditionType::kValidation: return "validation";
    case ConditionType::kExistenceCheck: return "existence_check";
    case ConditionType::kTypeCheck: return "type_check";
    case ConditionType::kRangeCheck: return "range_check";
    case ConditionType::kPermissionCheck: return "permission_check";
    case ConditionType::kStateCheck: return "state_check";
    case ConditionType::kConsistencyCheck: return "consistency_check";
    case ConditionType::kThresholdCheck: return "threshold_check";
  }
  return "validation";
}

std::string_view ReturnsName(Returns r) {
  switch (r) {
    case Returns::kBoolean: return "boolean";
    case Returns::kClassification: return "classification";
    case Returns::kEnumValue: return "enum_value";
    case Returns::kScore: return "score";
  }
  return "boolean";
}

std::string_view FailActionName(FailAction f) {
  switch (f) {
    case FailAction::kNone: return "";
    case FailAction::kHalt: return "halt";
    case FailAction::kBranch: return "branch";
    case FailAction::kDefaultValue: return "default_value";
    case FailAction::kErrorThrow: return "error_throw";
    case FailAction::kRetry: return "retry";
    case FailAction::kEscalate: return "escalate";
  }
  return "";
}

std::string_view DirectiveTypeName(DirectiveType t) {
  switch (t) {
    case DirectiveType::kCompletion: return "completion";
    case DirectiveType::kKnowledge: return "knowledge";
    case DirectiveType::kPrinciple: return "principle";
    case DirectiveType::kConstraint: return "constraint";
    case DirectiveType::kPreference: return "preference";
    case DirectiveType::kStrategy: return "strategy";
  }
  return "knowledge";
}

std::string_view SectionBiasName(SectionBias b) {
  switch (b) {
    case SectionBias::kNone: return "none";
    case SectionBias::kSteps: return "steps";
    case SectionBias::kRules: return "rules";
    case SectionBias::kPrinciples: return "principles";
    case SectionBias::kCompletion: return "completion";
    case SectionBias::kKnowledge: return "knowledge";
  }
  return "none";
}

}  // namespace skillstore
