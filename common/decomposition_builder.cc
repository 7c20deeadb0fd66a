#include "common/decomposition_builder.h"

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/skill_id.h"
#include "common/text_util.h"

namespace skillstore {
namespace {

using Json = nlohmann::ordered_json;

constexpr size_t kMaxNameChars = 80;

std::string Id(char prefix, size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%c_%03zu", prefix, n);
  return buf;
}

// Name text: the description without inline-code and emphasis markers.
std::string NameSource(std::string_view description) {
  std::string out;
  out.reserve(description.size());
  for (size_t i = 0; i < description.size(); ++i) {
    const char c = description[i];
    if (c == '`') continue;
    if (c == '*' && ((i + 1 < description.size() && description[i + 1] == '*') ||
                     (i > 0 && description[i - 1] == '*'))) {
      continue;
    }
    out += c;
  }
  return std::string(Strip(out));
}

std::vector<std::string> SideEffects(ActionType t) {
  switch (t) {
    case ActionType::kIoWrite: return {"writes output (files, logs or messages)"};
    case ActionType::kStateChange: return {"changes project or system state"};
    case ActionType::kExternalCall: return {"runs an external program or service"};
    default: return {};
  }
}

bool Deterministic(ActionType t) {
  return t != ActionType::kExternalCall && t != ActionType::kLlmInference &&
         t != ActionType::kAwaitInput;
}

}  // namespace

std::string NowTimestamp() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
}

std::string DecompositionBuilder::Locator(int line) const {
  return absl::StrCat(locator_file_, "#L", line);
}

void DecompositionBuilder::Add(Statement s) {
  std::string key = std::string(CategoryName(s.classification.category)) + "\n" + ToLowerAscii(s.description);
  auto [it, inserted] = index_.try_emplace(std::move(key), statements_.size());
  if (!inserted) {
    statements_[it->second].duplicate_locators.push_back(Locator(s.line_start));
    return;
  }
  statements_.push_back(Entry{std::move(s), {}});
}

Json DecompositionBuilder::Provenance(const Entry& e, const SkillMeta& meta) const {
  const Statement& s = e.statement;
  Json p;
  p["level"] = "full";
  p["source"] = {{"kind", "claude_skill"},
                 {"ref", meta.source_label.empty() ? locator_file_ : meta.source_label}};
  p["original_text"] = s.original_text;
  Json loc;
  loc["locator"] = Locator(s.line_start);
  loc["line_start"] = s.line_start;
  loc["line_end"] = s.line_end;
  loc["section"] = s.section;
  p["location"] = std::move(loc);
  Json ex;
  ex["method"] = "parser";
  ex["extracted_by"] = meta.parser_name;
  ex["tool_version"] = meta.parser_version;
  ex["inferred"] = false;
  // Two decimals: the value is a coarse signal, and fixed precision keeps
  // output bytes stable.
  ex["confidence"] = static_cast<double>(static_cast<int>(s.classification.confidence * 100 + 0.5)) / 100.0;
  p["extraction"] = std::move(ex);
  if (!e.duplicate_locators.empty()) {
    Json evidence = Json::array();
    for (const std::string& l : e.duplicate_locators) {
      evidence.push_back({{"type", "duplicate_at"}, {"value", l}});
    }
    p["evidence"] = std::move(evidence);
  }
  return p;
}

Json DecompositionBuilder::Build(const SkillMeta& meta, const std::string& timestamp) const {
  Json out;
  Json m;
  m["skill_id"] = MakeSkillId(meta.name);
  m["name"] = meta.name;
  m["skill_layer"] = "claude_skill";
  if (!meta.description.empty()) m["description"] = meta.description;
  m["schema_version"] = "2.4.0";
  m["parse_timestamp"] = timestamp;
  m["parser_version"] = absl::StrCat(meta.parser_name, " ", meta.parser_version);
  m["parsed_by"] = "skillstore";
  out["meta"] = std::move(m);
  out["original_definition"] = meta.original_definition;

  Json actions = Json::array();
  Json rules = Json::array();
  Json directives = Json::array();
  size_t expandable = 0;
  for (const Entry& e : statements_) {
    const Statement& s = e.statement;
    const Classification& c = s.classification;
    const std::string name = ShortName(NameSource(s.description), kMaxNameChars);
    switch (c.category) {
      case Category::kAction: {
        Json a;
        a["id"] = Id('a', actions.size() + 1);
        a["name"] = name;
        a["action_type"] = ActionTypeName(c.action_type);
        a["description"] = s.description;
        a["deterministic"] = Deterministic(c.action_type);
        if (!s.program.empty()) a["immutable_elements"] = Json::array({s.program});
        a["side_effects"] = SideEffects(c.action_type);
        a["provenance"] = Provenance(e, meta);
        actions.push_back(std::move(a));
        break;
      }
      case Category::kRule: {
        Json r;
        r["id"] = Id('r', rules.size() + 1);
        r["name"] = name;
        r["description"] = s.description;
        r["condition_type"] = ConditionTypeName(c.condition_type);
        if (!c.condition_expression.empty()) r["condition_expression"] = c.condition_expression;
        r["returns"] = ReturnsName(c.returns);
        if (c.fail_action != FailAction::kNone) r["fail_action"] = FailActionName(c.fail_action);
        r["provenance"] = Provenance(e, meta);
        rules.push_back(std::move(r));
        break;
      }
      case Category::kDirective: {
        Json d;
        d["id"] = Id('d', directives.size() + 1);
        d["name"] = name;
        d["directive_type"] = DirectiveTypeName(c.directive_type);
        d["description"] = s.description;
        // Knowledge and constraints are stated facts; the rest describe
        // behaviour that a deeper parse could split into actions and rules.
        const bool decomposable = c.directive_type != DirectiveType::kKnowledge &&
                                  c.directive_type != DirectiveType::kConstraint;
        d["decomposable"] = decomposable;
        if (decomposable) ++expandable;
        d["provenance"] = Provenance(e, meta);
        directives.push_back(std::move(d));
        break;
      }
    }
  }
  const bool overflow = actions.size() > 999 || rules.size() > 999 || directives.size() > 999;
  Json decomposition;
  decomposition["actions"] = std::move(actions);
  decomposition["rules"] = std::move(rules);
  decomposition["directives"] = std::move(directives);
  out["decomposition"] = std::move(decomposition);

  Json pm;
  pm["decomposition_depth"] = 1;
  pm["directives_expandable"] = expandable;
  pm["requires_deep_parse"] = false;
  pm["inconsistency_detected"] = overflow;
  if (overflow) {
    // Nothing is dropped; but the schema's ids have three digits.
    pm["inconsistency_detail"] =
        "more than 999 elements of one kind: ids past _999 cannot match the schema's "
        "three-digit id pattern";
  }
  if (meta.front_matter_repaired) {
    pm["front_matter_repaired"] = true;
    pm["front_matter_note"] =
        "front matter was not strict YAML; values containing ': ' were read as quoted strings";
  }
  out["parser_meta"] = std::move(pm);
  return out;
}

}  // namespace skillstore
