// The word lists that drive statement classification, in one place.
//
// Everything the classifier knows about English (and the few cues it knows
// in Chinese, Japanese and Korean) lives in classification_tables.cc as plain
// tables; docs/classification.md explains
// each table with examples. To teach the parser a new word, add a row there:
// no other code changes. Phrases are lower case and matched as whole words
// ("make sure" matches "Make sure the ...", not "makes surely").
#ifndef SKILLSTORE_COMMON_CLASSIFICATION_TABLES_H_
#define SKILLSTORE_COMMON_CLASSIFICATION_TABLES_H_

#include "absl/types/span.h"
#include "common/classification_types.h"

namespace skillstore {

// A verb that opens an imperative statement ("Run the tests").
struct ImperativeVerb {
  const char* verb;
  ActionType action_type;
  // Strong verbs name a concrete operation and make an action wherever they
  // appear. Guideline verbs ("use", "keep", "follow") only make an action
  // in a steps/workflow section; elsewhere the statement is a principle.
  bool strong;
};

// What a cue phrase says about a statement.
enum class CueKind {
  kCheckLead,       // opens a check: "verify", "ensure", "make sure" -> rule
  kStrongModal,     // obligation anywhere: "must", "never", "always" -> rule
  kConditionLead,   // opens with a condition: "if", "when", "unless" -> rule
  kConditionWord,   // a condition inside the sentence (gives the expression)
  kConstraintLead,  // opens a prohibition: "avoid", "do not" -> constraint
  kConstraint,      // limitation anywhere: "should not", "at most"
  kPreference,      // "prefer", "recommended", "should", "instead of"
  kCompletion,      // "is complete when", "definition of done"
  kStrategy,        // "step by step", "start with", "iterate"
  kPrinciple,       // "readable", "maintainable", "single responsibility"
  kConditionType,   // picks a rule's condition_type (value)
  kReturns,         // picks a rule's returns (value)
  kFailAction,      // picks a rule's fail_action (value)
};

struct Cue {
  const char* phrase;
  CueKind kind;
  int value;  // the enum value for kConditionType / kReturns / kFailAction
};

// Heading words and the bias they give the statements under them.
struct SectionCue {
  const char* word;
  SectionBias bias;
};

// Cues in Chinese, Japanese and Korean, which do not put spaces between
// words: a phrase matches anywhere in the statement (its lead kinds only at
// the start, after list and emphasis marks). `value` is unused (0).
struct CjkCue {
  const char* phrase;
  CueKind kind;
};

// Heading words in those languages, matched anywhere in the heading.
struct CjkSectionCue {
  const char* phrase;
  SectionBias bias;
};

// The stem of a verb in Chinese, Japanese or Korean ("运行", "実行",
// "실행": run), and what it does. Only read under a steps heading: there a
// statement is a step whenever its verb is found where its language puts it
// (first in Chinese; last in Japanese and Korean, before a CjkStepEndings
// ending). Elsewhere a stem alone cannot tell "create the file" from "the
// file created", so CJK statements are never actions there.
struct CjkVerb {
  const char* stem;
  ActionType action_type;
};

absl::Span<const ImperativeVerb> ImperativeVerbs();
absl::Span<const CjkVerb> CjkVerbs();
// Japanese and Korean endings that close a step ("してください", "します",
// "합니다", "하세요"), and the endings or words before them that make it
// something else: a negation, a passive, "can", "is" ("ません", "され",
// "수 있", "됩니다").
absl::Span<const char* const> CjkStepEndings();
absl::Span<const char* const> CjkNotStepWords();
absl::Span<const Cue> Cues();
absl::Span<const SectionCue> SectionCues();
absl::Span<const CjkCue> CjkCues();
absl::Span<const CjkSectionCue> CjkSectionCues();
// Words skipped before a CJK lead cue ("请", please; "然后", then).
absl::Span<const char* const> CjkLeadingFillers();
// Words skipped before the first verb ("Please run", "Then, create",
// "Finally open").
absl::Span<const char* const> LeadingFillers();
// Abbreviations whose final period does not end a sentence ("e.g.").
absl::Span<const char* const> Abbreviations();
// Fenced-code languages whose lines are shell commands (external_call).
absl::Span<const char* const> ShellLanguages();

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_CLASSIFICATION_TABLES_H_
