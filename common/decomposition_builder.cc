#include "common/decomposition_builder.h"

#include <cstdint>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/json_writer.h"
#include "common/skill_id.h"
#include "common/text_util.h"

namespace skillstore {
namespace {

using Json = nlohmann::ordered_json;

constexpr size_t kMaxNameChars = 80;

// "a_001": printf's "%c_%03zu" without printf (a call per element), into a
// buffer on the caller's stack rather than a std::string of its own.
struct IdText {
  char bytes[24];
  size_t size = 0;
  std::string_view view() const { return std::string_view(bytes, size); }
};
IdText Id(char prefix, size_t n) {
  char digits[20];
  size_t len = 0;
  do {
    digits[len++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n > 0);
  while (len < 3) digits[len++] = '0';
  IdText out;
  out.bytes[out.size++] = prefix;
  out.bytes[out.size++] = '_';
  while (len > 0) out.bytes[out.size++] = digits[--len];
  return out;
}

// Name text: the description without inline-code and emphasis markers,
// written into *out (a buffer reused across elements); returns it stripped.
std::string_view NameSource(std::string_view description, std::string* out) {
  out->clear();
  for (size_t i = 0; i < description.size(); ++i) {
    const char c = description[i];
    if (c == '`') continue;
    if (c == '*' && ((i + 1 < description.size() && description[i + 1] == '*') ||
                     (i > 0 && description[i - 1] == '*'))) {
      continue;
    }
    out->push_back(c);
  }
  return Strip(*out);
}

// The side effect an action type implies, or nullptr for none.
const char* SideEffect(ActionType t) {
  switch (t) {
    case ActionType::kIoWrite: return "writes output (files, logs or messages)";
    case ActionType::kStateChange: return "changes project or system state";
    case ActionType::kExternalCall: return "runs an external program or service";
    default: return nullptr;
  }
}

bool Deterministic(ActionType t) {
  return t != ActionType::kExternalCall && t != ActionType::kLlmInference &&
         t != ActionType::kAwaitInput;
}

}  // namespace

const std::string& NowTimestamp() {
  // Formatting is costly next to a small task, and every task in the same
  // second gets the same text: keep the last one, per thread (no sharing).
  struct Cache {
    int64_t second = -1;
    std::string text;
  };
  thread_local Cache cache;
  const absl::Time now = absl::Now();
  const int64_t second = absl::ToUnixSeconds(now);
  if (second != cache.second) {
    cache.text = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone());
    cache.second = second;
  }
  return cache.text;
}

struct DecompositionBuilder::ProvenanceScratch {
  JsonWriter::Recording head;
  JsonWriter::Recording tail;
  std::string locator;
};

std::string DecompositionBuilder::Locator(int line) const {
  std::string out;
  LocatorInto(line, &out);
  return out;
}

void DecompositionBuilder::LocatorInto(int line, std::string* out) const {
  out->assign(locator_file_);
  absl::StrAppend(out, "#L", line);
}

namespace {

// Equal after ASCII lower-casing ('A'..'Z' only), as the index keys compare.
bool SameIgnoringAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::string DecompositionBuilder::IndexKey(const Statement& s) {
  const std::string_view category = CategoryName(s.classification.category);
  // category + "\n" + the description in ASCII lower case, built in place.
  std::string key(category.size() + 1 + s.description.size(), '\n');
  std::memcpy(key.data(), category.data(), category.size());
  char* out = key.data() + category.size() + 1;
  for (char c : s.description) *out++ = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return key;
}

void DecompositionBuilder::Add(Statement s) {
  if (index_.empty()) {
    if (statements_.size() < kLinearDedupLimit) {
      // Few statements so far: compare with each (same category, same text
      // but for ASCII case), as the index would, without building its keys.
      for (Entry& e : statements_) {
        if (e.statement.classification.category == s.classification.category &&
            SameIgnoringAsciiCase(e.statement.description, s.description)) {
          e.duplicate_locators.push_back(Locator(s.line_start));
          return;
        }
      }
      statements_.push_back(Entry{std::move(s), {}});
      return;
    }
    // From here on the index finds duplicates: it starts with every
    // statement so far (all distinct).
    index_.reserve(2 * statements_.size());
    for (size_t i = 0; i < statements_.size(); ++i) {
      index_.try_emplace(IndexKey(statements_[i].statement), i);
    }
  }
  auto [it, inserted] = index_.try_emplace(IndexKey(s), statements_.size());
  if (!inserted) {
    statements_[it->second].duplicate_locators.push_back(Locator(s.line_start));
    return;
  }
  statements_.push_back(Entry{std::move(s), {}});
}

void DecompositionBuilder::WriteProvenance(const Entry& e, const SkillMeta& meta,
                                           ProvenanceScratch* scratch, JsonWriter* w) const {
  const Statement& s = e.statement;
  // The fields before original_text and those from the end of location to
  // confidence are the same in every element (the meta's values at the
  // same depth): written once, then replayed.
  if (!w->Replay(scratch->head)) {
    w->StartRecording(&scratch->head);
    WriteProvenanceHead(meta, w);
    w->FinishRecording(&scratch->head);
  }
  w->String(s.original_text);
  w->Key("location");
  w->BeginObject();
  LocatorInto(s.line_start, &scratch->locator);
  w->Field("locator", scratch->locator);
  w->Field("line_start", static_cast<int64_t>(s.line_start));
  w->Field("line_end", static_cast<int64_t>(s.line_end));
  w->Field("section", s.section);
  if (!w->Replay(scratch->tail)) {
    w->StartRecording(&scratch->tail);
    WriteProvenanceTail(meta, w);
    w->FinishRecording(&scratch->tail);
  }
  // Two decimals: the value is a coarse signal, and fixed precision keeps
  // output bytes stable.
  w->Decimal2(s.classification.confidence);
  w->EndObject();
  if (!e.duplicate_locators.empty()) {
    w->Key("evidence");
    w->BeginArray();
    for (const std::string& l : e.duplicate_locators) {
      w->BeginObject();
      w->Field("type", "duplicate_at");
      w->Field("value", l);
      w->EndObject();
    }
    w->EndArray();
  }
  w->EndObject();
}

void DecompositionBuilder::WriteProvenanceHead(const SkillMeta& meta, JsonWriter* w) const {
  w->Key("provenance");
  w->BeginObject();
  w->Field("level", "full");
  w->Key("source");
  w->BeginObject();
  w->Field("kind", "claude_skill");
  w->Field("ref", meta.source_label.empty() ? locator_file_ : meta.source_label);
  w->EndObject();
  w->Key("original_text");
}

void DecompositionBuilder::WriteProvenanceTail(const SkillMeta& meta, JsonWriter* w) const {
  w->EndObject();  // location
  w->Key("extraction");
  w->BeginObject();
  w->Field("method", "parser");
  w->Field("extracted_by", meta.parser_name);
  w->Field("tool_version", meta.parser_version);
  w->Field("inferred", false);
  w->Key("confidence");
}

std::string DecompositionBuilder::Build(const SkillMeta& meta, const std::string& timestamp,
                                        JsonLayout layout) const {
  size_t text_bytes = 0;
  for (const Entry& e : statements_) {
    text_bytes += e.statement.original_text.size() + e.statement.description.size();
  }
  JsonWriter w(layout);
  w.Reserve(2 * text_bytes + 700 * statements_.size() + 4096);
  w.BeginObject();
  w.Key("meta");
  w.BeginObject();
  w.Field("skill_id", MakeSkillId(meta.name));
  w.Field("name", meta.name);
  w.Field("skill_layer", "claude_skill");
  if (!meta.description.empty()) w.Field("description", meta.description);
  w.Field("schema_version", "2.4.0");
  w.Field("parse_timestamp", timestamp);
  {
    // "name version", on the stack: a std::string here was a heap
    // allocation per task for a few bytes.
    char text[128];
    const size_t size = meta.parser_name.size() + 1 + meta.parser_version.size();
    if (size <= sizeof(text)) {
      std::memcpy(text, meta.parser_name.data(), meta.parser_name.size());
      text[meta.parser_name.size()] = ' ';
      std::memcpy(text + meta.parser_name.size() + 1, meta.parser_version.data(),
                  meta.parser_version.size());
      w.Field("parser_version", std::string_view(text, size));
    } else {
      w.Field("parser_version",
              std::string(meta.parser_name).append(" ").append(meta.parser_version));
    }
  }
  w.Field("parsed_by", "skillstore");
  w.EndObject();
  w.Key("original_definition");
  if (meta.original_definition.is_null()) {
    // An empty object, "{}" in both layouts, as Value would write it.
    w.BeginObject();
    w.EndObject();
  } else {
    w.Value(meta.original_definition);
  }

  // Scratch reused across elements: a fresh string per element for these
  // was a malloc/free pair each, a visible share of a small skill's time.
  std::string name_source;
  std::string long_name;
  ProvenanceScratch provenance;
  size_t counts[3] = {0, 0, 0};
  size_t expandable = 0;
  w.Key("decomposition");
  w.BeginObject();
  // One pass per array keeps document order inside each.
  for (Category category : {Category::kAction, Category::kRule, Category::kDirective}) {
    switch (category) {
      case Category::kAction: w.Key("actions"); break;
      case Category::kRule: w.Key("rules"); break;
      case Category::kDirective: w.Key("directives"); break;
    }
    w.BeginArray();
    for (const Entry& e : statements_) {
      const Statement& s = e.statement;
      const Classification& c = s.classification;
      if (c.category != category) continue;
      const size_t n = ++counts[static_cast<int>(category)];
      // ShortName keeps a text of at most kMaxNameChars bytes whole (no
      // more bytes means no more code points): only longer ones need it.
      std::string_view name = NameSource(s.description, &name_source);
      if (name.size() > kMaxNameChars) {
        long_name = ShortName(name, kMaxNameChars);
        name = long_name;
      }
      w.BeginObject();
      switch (category) {
        case Category::kAction:
          w.Field("id", Id('a', n).view());
          w.Field("name", name);
          w.Field("action_type", ActionTypeName(c.action_type));
          w.Field("description", s.description);
          w.Field("deterministic", Deterministic(c.action_type));
          if (!s.program.empty()) {
            w.Key("immutable_elements");
            w.BeginArray();
            w.String(s.program);
            w.EndArray();
          }
          w.Key("side_effects");
          w.BeginArray();
          if (const char* effect = SideEffect(c.action_type)) w.String(effect);
          w.EndArray();
          break;
        case Category::kRule:
          w.Field("id", Id('r', n).view());
          w.Field("name", name);
          w.Field("description", s.description);
          w.Field("condition_type", ConditionTypeName(c.condition_type));
          if (!c.condition_expression.empty()) {
            w.Field("condition_expression", c.condition_expression);
          }
          w.Field("returns", ReturnsName(c.returns));
          if (c.fail_action != FailAction::kNone) {
            w.Field("fail_action", FailActionName(c.fail_action));
          }
          break;
        case Category::kDirective: {
          w.Field("id", Id('d', n).view());
          w.Field("name", name);
          w.Field("directive_type", DirectiveTypeName(c.directive_type));
          w.Field("description", s.description);
          // Knowledge and constraints are stated facts; the rest describe
          // behaviour that a deeper parse could split into actions and rules.
          const bool decomposable = c.directive_type != DirectiveType::kKnowledge &&
                                    c.directive_type != DirectiveType::kConstraint;
          w.Field("decomposable", decomposable);
          if (decomposable) ++expandable;
          break;
        }
      }
      WriteProvenance(e, meta, &provenance, &w);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();

  const bool overflow = counts[0] > 999 || counts[1] > 999 || counts[2] > 999;
  w.Key("parser_meta");
  w.BeginObject();
  w.Field("decomposition_depth", int64_t{1});
  w.Field("directives_expandable", static_cast<int64_t>(expandable));
  w.Field("requires_deep_parse", false);
  w.Field("inconsistency_detected", overflow);
  if (overflow) {
    // Nothing is dropped; but the schema's ids have three digits.
    w.Field("inconsistency_detail",
            "more than 999 elements of one kind: ids past _999 cannot match the schema's "
            "three-digit id pattern");
  }
  if (meta.front_matter_repaired) {
    w.Field("front_matter_repaired", true);
    w.Field("front_matter_note",
            "front matter was not strict YAML; values it could not read as YAML were kept "
            "as the text written");
  }
  if (!meta.front_matter_repeated_keys.empty()) {
    // Written once, with every repeated key: a reader that refuses such a
    // file (YAML forbids it) will not load this skill.
    w.Key("front_matter_repeated_keys");
    w.BeginArray();
    for (const std::string& key : meta.front_matter_repeated_keys) w.String(key);
    w.EndArray();
  }
  if (meta.front_matter_fence_not_on_first_line) {
    w.Field("front_matter_note",
            "the file has a '---' line after blank lines or spaces: front matter must open on "
            "the first line, so that block was read as Markdown (its name and description "
            "were not used); move it to the top");
  }
  w.EndObject();
  w.EndObject();
  std::string out = w.Release();
  out.push_back('\n');
  return out;
}

}  // namespace skillstore
