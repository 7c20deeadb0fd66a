// Classifies one statement of a skill as an action, rule or directive, and
// picks the schema subtype (action_type, condition_type, directive_type ...).
//
// The classifier is a small decision procedure over the word tables of
// classification_tables.cc (documented in docs/classification.md):
//   1. a check verb opening the statement ("Verify ...")        -> rule
//   2. completion wording ("... is complete when ...")          -> directive/completion
//   3. a prohibition opening it ("Avoid ...", "Do not ...")     -> directive/constraint
//   4. an obligation ("must", "never", "always") or an opening
//      condition ("If ...", "When ...")                         -> rule
//   5. an imperative verb ("Run", "Create"; guideline verbs such
//      as "Use" only in steps sections)                         -> action
//   6. anything else is descriptive                             -> directive
// The heading above the statement (its SectionBias) tips the undecided
// cases: guideline imperatives are actions under "Steps", rules under
// "Rules", principles under "Best practices".
//
// Thread-safe; the lookup tables are built once.
#ifndef SKILLSTORE_COMMON_STATEMENT_CLASSIFIER_H_
#define SKILLSTORE_COMMON_STATEMENT_CLASSIFIER_H_

#include <string>
#include <string_view>

#include "common/classification_types.h"

namespace skillstore {

enum class StatementKind { kSentence, kListItem, kTableRow };

struct Classification {
  Category category = Category::kDirective;
  ActionType action_type = ActionType::kTransform;
  ConditionType condition_type = ConditionType::kValidation;
  Returns returns = Returns::kBoolean;
  FailAction fail_action = FailAction::kNone;
  DirectiveType directive_type = DirectiveType::kKnowledge;
  // The condition in the statement's own words, when it states one.
  std::string condition_expression;
  // How directly the text supports the decision (explicit cue 0.9, section
  // bias 0.75, fallback 0.6).
  double confidence = 0.6;
};

// The bias a heading gives the statements under it.
SectionBias SectionBiasFor(std::string_view heading);

// Classifies `text` (one statement; Markdown inline markup allowed).
Classification ClassifyStatement(std::string_view text, SectionBias bias,
                                 StatementKind kind);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_STATEMENT_CLASSIFIER_H_
