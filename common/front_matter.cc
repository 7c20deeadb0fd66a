#include "common/front_matter.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/text_util.h"
#include "common/utf8.h"
#include "yaml-cpp/yaml.h"

namespace skillstore {
namespace {

using Json = nlohmann::ordered_json;

// A line consisting of `marker` plus optional trailing blanks / CR.
bool IsFenceLine(std::string_view line, std::string_view marker) {
  if (line.substr(0, marker.size()) != marker) return false;
  for (char c : line.substr(marker.size())) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// Estimates the nesting depth yaml-cpp would recurse to, without parsing:
// flow brackets, block indentation levels and compact "- - -" sequences.
// Quoted text is skipped so brackets inside strings do not count.
size_t EstimateYamlDepth(std::string_view text) {
  size_t max_depth = 0;
  size_t flow = 0;
  // Inline room for the usual few levels: a heap vector here was an
  // allocation per task.
  absl::InlinedVector<size_t, 16> indents;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    size_t indent = 0;
    while (indent < line.size() && line[indent] == ' ') ++indent;
    if (indent == line.size() || line[indent] == '#') continue;
    if (flow == 0) {
      while (!indents.empty() && indents.back() > indent) indents.pop_back();
      if (indents.empty() || indents.back() < indent) indents.push_back(indent);
    }
    size_t compact = 0;
    size_t i = indent;
    while (i + 1 < line.size() && (line[i] == '-' || line[i] == '?') && line[i + 1] == ' ') {
      ++compact;
      i += 2;
      while (i < line.size() && line[i] == ' ') ++i;
    }
    char quote = 0;
    for (; i < line.size(); ++i) {
      char c = line[i];
      if (quote) {
        if (c == quote) quote = 0;
        continue;
      }
      if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '#' && i > 0 && line[i - 1] == ' ') {
        break;
      } else if (c == '[' || c == '{') {
        ++flow;
        max_depth = std::max(max_depth, indents.size() + compact + flow);
      } else if ((c == ']' || c == '}') && flow > 0) {
        --flow;
      }
    }
    max_depth = std::max(max_depth, indents.size() + compact + flow);
  }
  return max_depth;
}

// Converts a plain (unquoted) scalar the way YAML 1.2's core schema reads it.
// Takes the text by value: a string result keeps its buffer (no copy).
Json PlainScalar(std::string s) {
  // Only text starting with one of these can be a null, a boolean or a
  // number; anything else is a string as written (most values).
  if (!s.empty() && std::string_view("~nNtTfF0123456789+-").find(s[0]) == std::string_view::npos) {
    return Json(std::move(s));
  }
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  const char* begin = s.c_str();
  char* end = nullptr;
  const bool numeric_start = (s[0] >= '0' && s[0] <= '9') ||
                             ((s[0] == '-' || s[0] == '+') && s.size() > 1);
  if (numeric_start) {
    errno = 0;
    long long v = std::strtoll(begin, &end, 10);
    if (errno == 0 && end == begin + s.size()) return v;
    errno = 0;
    double d = std::strtod(begin, &end);
    if (errno == 0 && end == begin + s.size() && std::isfinite(d) &&
        s.find_first_of("xXnN") == std::string::npos) {
      return d;
    }
  }
  return Json(std::move(s));
}

// yaml-cpp decodes the YAML escapes \N (U+0085) and \_ (U+00A0) in
// double-quoted scalars to the single bytes 0x85 and 0xA0, not to their
// UTF-8 forms, so a name written "\N" came out as invalid UTF-8 and made the
// whole decomposition unreadable as JSON. Its strings are otherwise UTF-8 (the
// input is checked, and other escapes are encoded properly), so every byte
// that does not start a well-formed sequence is such a code point below
// U+0100 and is re-encoded as one.
std::string Utf8FromYamlCpp(std::string s) {
  size_t bad = 0;
  if (IsValidUtf8(s, &bad)) return s;
  std::string out = s.substr(0, bad);
  out.reserve(s.size() + 8);
  for (size_t i = bad; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t length = c < 0x80 ? 1 : Utf8SequenceLength(s, i);
    if (length == 0) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
      ++i;
    } else {
      out.append(s, i, length);
      i += length;
    }
  }
  return out;
}

// A JSON object built key by key in document order. nlohmann's
// ordered_json finds a key by a linear scan, so setting keys one at a time
// with `object[key]` was quadratic: a front matter of 37,000 keys took 9 s.
// Past kIndexFrom keys an index makes each key O(1); below, the scan is
// cheaper than the index (most front matter has a handful of keys). A
// repeated key keeps its first place and takes its last value, as
// `object[key] = value` did.
class ObjectBuilder {
 public:
  bool Contains(const std::string& key) const { return Find(key) != kAbsent; }

  void Set(std::string key, Json value) {
    auto& entries = object_.get_ref<Json::object_t&>();
    const size_t at = Find(key);
    if (at != kAbsent) {
      (entries.begin() + static_cast<std::ptrdiff_t>(at))->second = std::move(value);
      return;
    }
    if (!index_.empty() || entries.size() + 1 == kIndexFrom) {
      if (index_.empty()) {  // the object reaches kIndexFrom keys: index them
        size_t i = 0;
        for (const auto& entry : entries) index_.emplace(entry.first, i++);
      }
      index_.emplace(key, entries.size());
    }
    entries.emplace_back(std::move(key), std::move(value));  // no search: Find said
  }

  Json Take() && { return std::move(object_); }

 private:
  static constexpr size_t kIndexFrom = 32;
  static constexpr size_t kAbsent = static_cast<size_t>(-1);

  size_t Find(const std::string& key) const {
    if (!index_.empty()) {
      const auto it = index_.find(key);
      return it == index_.end() ? kAbsent : it->second;
    }
    size_t i = 0;
    for (const auto& entry : object_.get_ref<const Json::object_t&>()) {
      if (entry.first == key) return i;
      ++i;
    }
    return kAbsent;
  }

  Json object_ = Json::object();
  absl::flat_hash_map<std::string, size_t> index_;  // empty below kIndexFrom keys
};

class Converter {
 public:
  // `repeated_keys`: where the top-level mapping's repeated keys go.
  Converter(size_t budget, std::vector<std::string>* repeated_keys)
      : budget_(budget), repeated_keys_(repeated_keys) {}

  absl::StatusOr<Json> Convert(const YAML::Node& node, size_t depth) {
    if (++used_ > budget_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "front matter expands to more than ", budget_,
          " YAML nodes (alias/anchor expansion?); refusing to expand it"));
    }
    if (depth > 128) {
      return absl::ResourceExhaustedError("front matter nesting is too deep");
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return Json(nullptr);
      case YAML::NodeType::Scalar:
        if (node.Tag() == "!") return Json(Utf8FromYamlCpp(node.Scalar()));
        return PlainScalar(Utf8FromYamlCpp(node.Scalar()));
      case YAML::NodeType::Sequence: {
        Json out = Json::array();
        for (const auto& item : node) {
          absl::StatusOr<Json> v = Convert(item, depth + 1);
          if (!v.ok()) return v.status();
          out.push_back(*std::move(v));
        }
        return out;
      }
      case YAML::NodeType::Map: {
        ObjectBuilder out;
        for (const auto& kv : node) {
          std::string key =
              Utf8FromYamlCpp(kv.first.IsScalar() ? kv.first.Scalar() : YAML::Dump(kv.first));
          absl::StatusOr<Json> v = Convert(kv.second, depth + 1);
          if (!v.ok()) return v.status();
          if (depth == 0 && out.Contains(key) &&
              std::find(repeated_keys_->begin(), repeated_keys_->end(), key) ==
                  repeated_keys_->end()) {
            repeated_keys_->push_back(key);
          }
          out.Set(std::move(key), *std::move(v));
        }
        return std::move(out).Take();
      }
    }
    return Json(nullptr);
  }

 private:
  size_t budget_;
  size_t used_ = 0;
  std::vector<std::string>* repeated_keys_;
};

absl::StatusOr<std::optional<std::string>> ScalarField(const Json& fields, const char* key) {
  auto it = fields.find(key);
  if (it == fields.end() || it->is_null()) return std::optional<std::string>();
  if (it->is_string()) return std::optional<std::string>(it->get<std::string>());
  if (it->is_number() || it->is_boolean()) return std::optional<std::string>(it->dump());
  return absl::InvalidArgumentError(
      absl::StrCat("front matter field '", key, "' must be a string, not a ",
                   it->type_name()));
}

// True when `value` (one line) reads as YAML as the value of a mapping
// entry (on its own, yaml-cpp would stop after a first complete node and
// ignore the rest of "[a] [b]").
bool IsYamlValue(std::string_view value) {
  try {
    YAML::Load(absl::StrCat("k: ", absl::string_view(value.data(), value.size())));
    return true;
  } catch (const YAML::Exception&) {
    return false;
  }
}

void AppendSingleQuoted(std::string_view value, std::string& out) {
  out += '\'';
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
}

// Hand-written skills often carry front matter that strict YAML rejects but
// every agent reading them accepts, so this rewrites the two loose forms seen
// in real skills as single-quoted scalars, one top-level "key: value" line at
// a time:
//   - a plain value containing ": "
//       description: Helps with X. Triggers on: *.sh
//   - a value that opens a flow collection and does not parse on its own,
//     on a key other than name and description
//       argument-hint: [component-name] [description]
//       dependencies: [ray[data], @scope/pkg>=3.0]
//   - a value that opens with a reserved indicator, on any key
//       description: @Observable macros in SwiftUI
// The value is then kept as the text written. name and description are what
// the engine reads, so a broken one is never guessed at: a broken flow
// collection there stays an error, as does anything else that is not YAML.
// A reserved indicator ('@', '`') leaves nothing to guess: YAML gives no
// value that starts with one, so the text written is the only reading.
// Returns nullopt when no line needed quoting.
std::optional<std::string> QuoteLooseTopLevelValues(std::string_view yaml) {
  std::string out;
  out.reserve(yaml.size() + 64);
  bool changed = false;
  size_t pos = 0;
  while (pos < yaml.size()) {
    size_t eol = yaml.find('\n', pos);
    const bool last = eol == std::string_view::npos;
    std::string_view line = yaml.substr(pos, last ? yaml.npos : eol - pos);
    pos = last ? yaml.size() : eol + 1;
    std::string_view body = StripTrailing(line);
    size_t k = 0;
    while (k < body.size() && (absl::ascii_isalnum(static_cast<unsigned char>(body[k])) ||
                               body[k] == '_' || body[k] == '-')) {
      ++k;
    }
    if (k > 0 && k + 1 < body.size() && body[k] == ':' && (body[k + 1] == ' ' || body[k + 1] == '\t')) {
      const std::string_view key = body.substr(0, k);
      std::string_view value = StripLeading(body.substr(k + 1));
      const bool special = value.empty() || std::string_view("'\"[{|>&*!#%@`").find(value[0]) !=
                                                std::string_view::npos;
      const bool loose_colon = !special && value.find(": ") != std::string_view::npos;
      const bool reserved = !value.empty() && (value[0] == '@' || value[0] == '`');
      const bool loose_flow = special && !value.empty() &&
                              (reserved || ((value[0] == '[' || value[0] == '{') && key != "name" &&
                                            key != "description")) &&
                              !IsYamlValue(value);
      if (loose_colon || loose_flow) {
        out.append(body.substr(0, k + 1));
        out += ' ';
        AppendSingleQuoted(value, out);
        if (!last) out += '\n';
        changed = true;
        continue;
      }
    }
    out.append(line);
    if (!last) out += '\n';
  }
  if (!changed) return std::nullopt;
  return out;
}

// True for bytes and sequences that yaml-cpp treats specially anywhere in a
// line: breaks and blanks other than the space (\t, \r, \f), non-printable
// bytes, the byte order mark, C1 controls (NEL among them) and the Unicode
// line / paragraph separators. A line holding one is left to yaml-cpp.
bool HasSpecialBytes(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c >= 0x20 && c < 0x7F) || c == '\n') continue;
    if (c < 0x20 || c == 0x7F) return true;
    const unsigned char c1 = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    const unsigned char c2 = i + 2 < text.size() ? static_cast<unsigned char>(text[i + 2]) : 0;
    if (c == 0xC2 && c1 >= 0x80 && c1 <= 0x9F) return true;
    if (c == 0xEF && c1 == 0xBB && c2 == 0xBF) return true;
    if (c == 0xE2 && c1 == 0x80 && (c2 == 0xA8 || c2 == 0xA9)) return true;
  }
  return false;
}

// The front matter as JSON when it is a flat mapping of the simplest form,
// where the result is certain to be what yaml-cpp + Converter give:
//   - every non-blank line is either a comment starting in column 0, or
//     "key:" / "key: value" starting in column 0, with a key of letters,
//     digits, '_' and '-' (not starting with '-', not a null), each key once;
//   - a value is a plain scalar on one line that cannot be read as anything
//     else (no indicator first, no " #", no trailing ':'), or a single- /
//     double-quoted scalar on one line without escapes.
// A plain value containing ": " makes strict YAML fail, and the repair
// (QuoteLooseTopLevelValues) then keeps it as the text written: that is
// what this returns for it, with *repaired set, as the repair path would.
// Returns nullopt for anything else (nested values, continuation lines,
// block scalars, anchors, tags, flow collections, CR LF ...) so yaml-cpp
// decides.
std::optional<Json> ParseFlatMapping(std::string_view yaml, size_t node_budget, bool* repaired) {
  if (HasSpecialBytes(yaml)) return std::nullopt;
  bool loose = false;
  ObjectBuilder out;
  size_t nodes = 1;  // the mapping itself, as Converter counts
  size_t pos = 0;
  while (pos < yaml.size()) {
    size_t eol = yaml.find('\n', pos);
    if (eol == std::string_view::npos) eol = yaml.size();
    std::string_view line = yaml.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.find_first_not_of(' ') == std::string_view::npos) continue;
    if (line[0] == '#') continue;
    size_t k = 0;
    while (k < line.size() && (absl::ascii_isalnum(static_cast<unsigned char>(line[k])) ||
                               line[k] == '_' || line[k] == '-')) {
      ++k;
    }
    if (k == 0 || line[0] == '-' || k > 128 || k >= line.size() || line[k] != ':') {
      return std::nullopt;
    }
    if (k + 1 < line.size() && line[k + 1] != ' ') return std::nullopt;
    const std::string key(line.substr(0, k));
    // yaml-cpp spells a null key "~" whatever was written.
    if (key == "null" || key == "Null" || key == "NULL") return std::nullopt;
    std::string_view value = line.substr(k + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    Json v;
    if (value.empty()) {
      v = nullptr;
    } else if (value[0] == '"' || value[0] == '\'') {
      const char quote = value[0];
      if (value.size() < 2 || value.back() != quote) return std::nullopt;
      std::string_view inner = value.substr(1, value.size() - 2);
      if (inner.find(quote) != std::string_view::npos) return std::nullopt;
      if (quote == '"' && inner.find('\\') != std::string_view::npos) return std::nullopt;
      v = std::string(inner);
    } else {
      if (std::string_view(",[]{}#&*!|>'\"%@`-?:").find(value[0]) != std::string_view::npos) {
        return std::nullopt;
      }
      if (value.find(" #") != std::string_view::npos || value.back() == ':') return std::nullopt;
      if (value.find(": ") != std::string_view::npos) {
        v = std::string(value);
        loose = true;
      } else {
        v = PlainScalar(std::string(value));
      }
    }
    if (out.Contains(key)) return std::nullopt;
    if (++nodes > node_budget) return std::nullopt;
    out.Set(key, std::move(v));
  }
  Json fields = std::move(out).Take();
  if (fields.empty()) return std::nullopt;  // only comments: yaml-cpp says what that is
  *repaired = loose;
  return fields;
}

// yaml-cpp lets a quoted scalar that is still open at the end of its input
// end there without an error, so `name: "deploy` would take every later line
// into the name. The closing fence is where the document ends, so the text
// handed to yaml-cpp ends with the document end marker "...": a document
// marker inside a quoted scalar is an error in YAML, and yaml-cpp reports it
// (ErrorMsg::DOC_IN_SCALAR) on the marker's line.
YAML::Node LoadDocument(std::string_view yaml) {
  std::string text;
  text.reserve(yaml.size() + 5);
  text.append(yaml);
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += "...\n";
  return YAML::Load(text);
}

// Parses the front matter with yaml-cpp (repairing loose values if strict
// YAML fails) and converts it into fm->fields / fm->repaired.
absl::Status LoadWithYamlCpp(std::string_view yaml_text, const EngineLimits& limits,
                             FrontMatter* fm) {
  YAML::Node root;
  try {
    try {
      root = LoadDocument(yaml_text);
    } catch (const YAML::ParserException&) {
      std::optional<std::string> repaired = QuoteLooseTopLevelValues(yaml_text);
      if (!repaired.has_value()) throw;
      try {
        root = LoadDocument(*repaired);
        fm->repaired = true;
      } catch (const YAML::Exception&) {
        // Report the error of the text as written, not of the repair.
        root = LoadDocument(yaml_text);
      }
    }
  } catch (const YAML::Exception& e) {
    // e.mark.line is 0-based within the YAML text, which starts on line 2.
    const std::string at =
        e.mark.is_null() ? std::string() : absl::StrCat(" (line ", e.mark.line + 2, ")");
    if (e.msg == YAML::ErrorMsg::DOC_IN_SCALAR && !e.mark.is_null()) {
      return absl::InvalidArgumentError(
          absl::StrCat("front matter is not valid YAML: a quoted value is never closed: its "
                       "closing quote is missing before the front matter ends on line ",
                       e.mark.line + 2));
    }
    return absl::InvalidArgumentError(absl::StrCat("front matter is not valid YAML: ", e.msg, at));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("front matter is not valid YAML: ", e.what()));
  }

  if (root.IsNull() || !root.IsDefined()) return absl::OkStatus();  // "---\n---": empty.
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(
        "front matter must be a YAML mapping of keys to values (e.g. 'name: my-skill')");
  }
  Converter converter(limits.max_front_matter_nodes, &fm->repeated_keys);
  absl::StatusOr<Json> fields;
  try {
    fields = converter.Convert(root, 0);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("front matter is not valid YAML: ", e.msg));
  }
  if (!fields.ok()) return fields.status();
  fm->fields = *std::move(fields);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FrontMatter> ParseFrontMatter(std::string_view content,
                                             const EngineLimits& limits) {
  FrontMatter fm;
  size_t first_eol = content.find('\n');
  std::string_view first = content.substr(0, first_eol);
  if (first_eol == std::string_view::npos || !IsFenceLine(first, "---")) {
    // Blank lines or spaces before the fence: not front matter (every
    // reader of skills wants it on the first line), but worth a note.
    const size_t text = content.find_first_not_of(" \t\r\n");
    fm.fence_not_on_first_line =
        text != std::string_view::npos && text > 0 &&
        IsFenceLine(content.substr(text, content.find('\n', text) - text), "---");
    return fm;
  }

  // Find the closing fence ("---" or YAML's "...").
  size_t pos = first_eol + 1;
  int line = 2;
  size_t close_begin = std::string_view::npos;
  size_t close_end = 0;
  while (pos <= content.size()) {
    size_t eol = content.find('\n', pos);
    std::string_view l = content.substr(pos, eol == std::string_view::npos ? content.npos : eol - pos);
    if (IsFenceLine(l, "---") || IsFenceLine(l, "...")) {
      close_begin = pos;
      close_end = eol == std::string_view::npos ? content.size() : eol + 1;
      break;
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
    ++line;
    if (pos - first_eol > limits.max_front_matter_bytes) break;
  }
  if (close_begin == std::string_view::npos) {
    if (pos - first_eol > limits.max_front_matter_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "front matter is larger than ", limits.max_front_matter_bytes, " bytes"));
    }
    return absl::InvalidArgumentError(
        "front matter opened by '---' on line 1 is never closed by a '---' line");
  }
  std::string_view yaml_text = content.substr(first_eol + 1, close_begin - first_eol - 1);
  fm.present = true;
  fm.body_offset = close_end;
  fm.body_first_line = line + 1;

  const size_t depth = EstimateYamlDepth(yaml_text);
  if (depth > limits.max_front_matter_depth) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "front matter nests ", depth, " levels deep, over the limit of ",
        limits.max_front_matter_depth));
  }

  // Most front matter is a few "key: value" lines; reading those directly
  // gives the same fields as yaml-cpp at a fraction of its cost (its
  // scanner dominated the CPU time of small tasks). Anything else goes
  // through yaml-cpp.
  if (std::optional<Json> flat =
          ParseFlatMapping(yaml_text, limits.max_front_matter_nodes, &fm.repaired)) {
    fm.fields = *std::move(flat);
  } else {
    absl::Status loaded = LoadWithYamlCpp(yaml_text, limits, &fm);
    if (!loaded.ok()) return loaded;
  }

  absl::StatusOr<std::optional<std::string>> name = ScalarField(fm.fields, "name");
  if (!name.ok()) return name.status();
  absl::StatusOr<std::optional<std::string>> description =
      ScalarField(fm.fields, "description");
  if (!description.ok()) return description.status();
  // The values are moved when stripping leaves them whole (the usual
  // case): a copy each was an allocation per task.
  auto strip = [](std::string* s) {
    const std::string_view kept = Strip(*s);
    if (kept.size() != s->size()) *s = std::string(kept);
  };
  if (name->has_value()) {
    std::string& n = **name;
    strip(&n);
    if (!n.empty()) fm.name = std::move(n);
  }
  if (description->has_value()) {
    std::string& d = **description;
    strip(&d);
    if (!d.empty()) fm.description = std::move(d);
  }
  return fm;
}

}  // namespace skillstore
