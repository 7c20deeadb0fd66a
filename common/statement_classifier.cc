#include "common/statement_classifier.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "common/classification_tables.h"
#include "common/text_util.h"
#include "common/utf8.h"

namespace skillstore {
namespace {

// A statement lower-cased with markup removed, split into words, each word
// remembering where it is in the original text.
struct Words {
  std::string lower;                 // normalised copy
  std::vector<std::string_view> w;   // views into `lower`
  std::vector<size_t> begin;         // byte offset of each word in the original
  std::vector<size_t> origin;        // Tokenize's offset map (typographic apostrophes)
};

// The Words of the statement being classified, reused across statements of
// a thread: allocating them per statement was a large part of the
// classifier's cost. One Tokenize result is live at a time per thread
// (SectionBiasFor and ClassifyStatement do not nest). Buffers grown by an
// unusually long statement are released rather than kept for the thread's
// life.
class ScratchWords {
 public:
  ScratchWords() : words_(Slot()) {}
  ~ScratchWords() {
    if (words_.lower.capacity() > kKeepBytes) words_ = Words();
  }
  ScratchWords(const ScratchWords&) = delete;
  ScratchWords& operator=(const ScratchWords&) = delete;
  Words& get() { return words_; }

 private:
  static constexpr size_t kKeepBytes = 64 << 10;
  static Words& Slot() {
    thread_local Words words;
    return words;
  }
  Words& words_;
};

// Bytes of words: ASCII letters and digits, the apostrophe, the hyphen and
// every non-ASCII byte. A table: this runs for every byte of every
// statement and heading.
struct WordByteTable {
  bool word[256];
  constexpr WordByteTable() : word() {
    for (int c = 0; c < 256; ++c) {
      word[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '\'' || c == '-' || c >= 0x80;
    }
  }
};
constexpr WordByteTable kWordByte;

bool IsWordByte(unsigned char c) { return kWordByte.word[c]; }

void Tokenize(std::string_view text, Words* out_ptr) {
  Words& out = *out_ptr;
  out.lower.clear();
  out.w.clear();
  out.begin.clear();
  out.origin.clear();
  out.lower.reserve(text.size());
  // Byte offsets of the lower-cased copy in the original. Only typographic
  // apostrophes change lengths; without them the mapping is the identity
  // and no table is built.
  const bool remap = text.find('\xE2') != std::string_view::npos;
  std::vector<size_t>& origin = out.origin;
  if (remap) origin.reserve(text.size());
  if (!remap) {
    out.lower.resize(text.size());
    // ASCII lower case (only 'A'..'Z' change, as absl::ascii_tolower) in
    // arithmetic rather than a table lookup per byte, so the loop vectorises.
    char* const lower = out.lower.data();
    const char* const src = text.data();
    for (size_t i = 0; i < text.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(src[i]);
      lower[i] = static_cast<char>(c + (static_cast<unsigned char>(c - 'A') < 26 ? 32 : 0));
    }
  }
  for (size_t i = 0; remap && i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    // Typographic apostrophe (U+2019) counts as "'".
    if (c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
        static_cast<unsigned char>(text[i + 2]) == 0x99) {
      out.lower.push_back('\'');
      origin.push_back(i);
      i += 2;
      continue;
    }
    out.lower.push_back(static_cast<char>(absl::ascii_tolower(c)));
    origin.push_back(i);
  }
  size_t i = 0;
  const size_t n = out.lower.size();
  while (i < n) {
    while (i < n && !IsWordByte(static_cast<unsigned char>(out.lower[i]))) ++i;
    size_t j = i;
    while (j < n && IsWordByte(static_cast<unsigned char>(out.lower[j]))) ++j;
    // Trim quote / hyphen characters that only surround the word.
    size_t b = i, e = j;
    while (b < e && (out.lower[b] == '\'' || out.lower[b] == '-')) ++b;
    while (e > b && (out.lower[e - 1] == '\'' || out.lower[e - 1] == '-')) --e;
    if (e > b) {
      out.w.emplace_back(out.lower.data() + b, e - b);
      out.begin.push_back(remap ? origin[b] : b);
    }
    i = j;
  }
}

struct CueRef {
  std::vector<std::string> rest;  // words after the first
  const Cue* cue;
  int order;  // position in the table: earlier rows win
};

struct VerbRef {
  const ImperativeVerb* verb;
};

class Tables {
 public:
  Tables() {
    int order = 0;
    for (const Cue& cue : Cues()) {
      std::vector<std::string> parts = absl::StrSplit(cue.phrase, ' ');
      std::string first = parts.front();
      parts.erase(parts.begin());
      cues_[first].push_back(CueRef{std::move(parts), &cue, order++});
    }
    for (const ImperativeVerb& v : ImperativeVerbs()) {
      verbs_.try_emplace(v.verb, &v);  // first row for a verb wins
    }
    for (const char* f : LeadingFillers()) fillers_.insert(f);
    for (const SectionCue& s : SectionCues()) {
      std::vector<std::string> parts = absl::StrSplit(s.word, ' ');
      std::string first = parts.front();
      parts.erase(parts.begin());
      sections_[first].push_back({std::move(parts), s.bias});
    }
  }

  const std::vector<CueRef>* CuesStartingWith(std::string_view w) const {
    auto it = cues_.find(AV(w));
    return it == cues_.end() ? nullptr : &it->second;
  }
  const ImperativeVerb* Verb(std::string_view w) const {
    auto it = verbs_.find(AV(w));
    return it == verbs_.end() ? nullptr : it->second;
  }
  bool IsFiller(std::string_view w) const { return fillers_.contains(AV(w)); }

  struct SectionRef {
    std::vector<std::string> rest;
    SectionBias bias;
  };
  const std::vector<SectionRef>* SectionsStartingWith(std::string_view w) const {
    auto it = sections_.find(AV(w));
    return it == sections_.end() ? nullptr : &it->second;
  }

 private:
  absl::flat_hash_map<std::string, std::vector<CueRef>> cues_;
  absl::flat_hash_map<std::string, const ImperativeVerb*> verbs_;
  absl::flat_hash_set<std::string> fillers_;
  absl::flat_hash_map<std::string, std::vector<SectionRef>> sections_;
};

const Tables& GetTables() {
  static const Tables* tables = new Tables();
  return *tables;
}

bool MatchesAt(const std::vector<std::string_view>& w, size_t pos,
               const std::vector<std::string>& rest) {
  for (size_t k = 0; k < rest.size(); ++k) {
    if (pos + 1 + k >= w.size() || w[pos + 1 + k] != rest[k]) return false;
  }
  return true;
}

constexpr int kNumKinds = static_cast<int>(CueKind::kFailAction) + 1;

// Which cues occur where: the first position of each kind, plus the best
// (earliest table row) value cue for condition type / returns / fail action.
struct CueHits {
  std::array<int, kNumKinds> first_pos;
  std::array<int, kNumKinds> best_order;
  std::array<int, kNumKinds> best_value;
  std::array<int, kNumKinds> lead_len;  // words matched at the lead position
  CueHits() {
    first_pos.fill(-1);
    best_order.fill(1 << 30);
    best_value.fill(-1);
    lead_len.fill(0);
  }
  bool Has(CueKind k) const { return first_pos[static_cast<int>(k)] >= 0; }
};

// Words that, right after a would-be imperative verb, show the verb is a
// noun subject ("Test coverage is ...", "List of ...").
bool FollowsNounSubject(std::string_view w) {
  static const auto* kWords = new absl::flat_hash_set<std::string_view>{
      "is", "are", "was", "were", "of", "should", "must", "can", "could",
      "will", "would", "may", "might", "has", "have", "does", "do", "needs"};
  return kWords->contains(w);
}

std::string TrimExpression(std::string_view s) {
  s = Strip(s);
  while (!s.empty() && (s.back() == '.' || s.back() == ',' || s.back() == ':' ||
                        s.back() == ';' || s.back() == '!')) {
    s.remove_suffix(1);
  }
  s = Strip(s);
  // A condition that runs over a line break reads as one line, as the
  // description does: it kept the break itself ("\n", and "\r\n" in a CR LF
  // file, so the two spellings of one skill gave different output).
  if (s.find_first_of("\t\n\r\f") == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Text from word `from` up to the first comma / semicolon after it, or end.
std::string ClauseFrom(std::string_view text, const Words& words, size_t from) {
  size_t b = words.begin[from];
  size_t e = text.size();
  for (size_t i = b; i < text.size(); ++i) {
    if (text[i] == ',' || text[i] == ';') {
      e = i;
      break;
    }
  }
  return TrimExpression(text.substr(b, e - b));
}

// True when `text` may hold Chinese, Japanese or Korean: a UTF-8 lead byte
// of U+3000..U+DFFF (punctuation, kana, CJK ideographs, Hangul).
// ASCII text is passed over eight bytes at a time: this runs for every
// statement, and most are ASCII.
bool MayHoldCjk(std::string_view text) {
  for (size_t i = SkipAsciiWords(text, 0); i < text.size(); i = SkipAsciiWords(text, i + 1)) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0xE3 && byte <= 0xED) return true;
  }
  return false;
}

// Where a CJK statement's words start: after list, emphasis and number marks
// and the fillers of CjkLeadingFillers.
std::string_view CjkLead(std::string_view text) {
  size_t start = 0;
  while (start < text.size() && static_cast<unsigned char>(text[start]) < 0x80 &&
         !absl::ascii_isalpha(static_cast<unsigned char>(text[start]))) {
    ++start;
  }
  text.remove_prefix(start);
  for (const char* filler : CjkLeadingFillers()) {
    if (StartsWith(text, filler)) {
      text.remove_prefix(std::string_view(filler).size());
      break;
    }
  }
  return text;
}

// Adds the CjkCues found in `text` to `hits`, at word `lead` (the words of
// CJK text are runs without spaces, so positions say little).
void AddCjkHits(std::string_view text, size_t lead, CueHits* hits) {
  const std::string_view start = CjkLead(text);
  for (const CjkCue& cue : CjkCues()) {
    const bool lead_kind = cue.kind == CueKind::kCheckLead || cue.kind == CueKind::kConditionLead ||
                           cue.kind == CueKind::kConstraintLead;
    if (lead_kind ? !StartsWith(start, cue.phrase)
                  : text.find(cue.phrase) == std::string_view::npos) {
      continue;
    }
    const int k = static_cast<int>(cue.kind);
    if (hits->first_pos[k] < 0) hits->first_pos[k] = static_cast<int>(lead);
  }
}

// The code point of the three-byte UTF-8 sequence at text[i] (where every
// kana, Hangul and CJK character is), or 0 when there is none.
uint32_t ThreeByteCodePointAt(std::string_view text, size_t i) {
  if (i + 3 > text.size()) return 0;
  const auto b0 = static_cast<unsigned char>(text[i]);
  const auto b1 = static_cast<unsigned char>(text[i + 1]);
  const auto b2 = static_cast<unsigned char>(text[i + 2]);
  if ((b0 & 0xF0) != 0xE0 || (b1 & 0xC0) != 0x80 || (b2 & 0xC0) != 0x80) return 0;
  return ((b0 & 0x0Fu) << 12) | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);
}

bool IsHiragana(uint32_t code) { return code >= 0x3040 && code <= 0x309F; }
bool IsHangulSyllable(uint32_t code) { return code >= 0xAC00 && code <= 0xD7A3; }

// True when `text` is hiragana or Hangul syllables only: the inflection
// that follows a Japanese or Korean verb's stem.
bool IsInflection(std::string_view text) {
  for (size_t i = 0; i < text.size(); i += 3) {
    const uint32_t code = ThreeByteCodePointAt(text, i);
    if (!IsHiragana(code) && !IsHangulSyllable(code)) return false;
  }
  return true;
}

// True when `text` holds kana or Hangul (U+3040..U+30FF, U+1100..U+11FF,
// U+3130..U+318F, U+AC00..U+D7A3): it is Japanese or Korean, not Chinese.
bool HoldsKanaOrHangul(std::string_view text) {
  for (size_t i = SkipAsciiWords(text, 0); i < text.size(); i = SkipAsciiWords(text, i + 1)) {
    const uint32_t code = ThreeByteCodePointAt(text, i);
    if ((code >= 0x3040 && code <= 0x30FF) || (code >= 0x1100 && code <= 0x11FF) ||
        (code >= 0x3130 && code <= 0x318F) || IsHangulSyllable(code)) {
      return true;
    }
  }
  return false;
}

// True when `text` opens, after white space and list or emphasis marks, with
// a quotation mark.
bool OpensWithQuote(std::string_view text) {
  size_t i = 0;
  while (i < text.size() &&
         (text[i] == ' ' || text[i] == '-' || text[i] == '*' || text[i] == '>' || text[i] == '_')) {
    ++i;
  }
  const std::string_view rest = text.substr(i);
  return StartsWith(rest, "\"") || StartsWith(rest, "“") || StartsWith(rest, "「") ||
         StartsWith(rest, "『") || StartsWith(rest, "'");
}

// `text` without the marks that may close a statement: white space, stops,
// colons, emphasis and code marks.
std::string_view WithoutClosingMarks(std::string_view text) {
  static constexpr std::string_view kMarks[] = {"。", "：", "！", ".",  ":",  "!",
                                                "*",  "`",  " ",  "\t", "\n", "\r"};
  for (bool trimmed = true; trimmed;) {
    trimmed = false;
    for (std::string_view mark : kMarks) {
      if (EndsWith(text, mark)) {
        text.remove_suffix(mark.size());
        trimmed = true;
      }
    }
  }
  return text;
}

// The longest inflection read after a Japanese or Korean stem, in bytes
// ("んでください", six kana).
constexpr size_t kMaxInflectionBytes = 18;

// The verb of a CJK statement under a steps heading, where its language
// puts it (see CjkVerb), or null.
const CjkVerb* CjkStepVerb(std::string_view text) {
  const std::string_view body = WithoutClosingMarks(text);
  if (!HoldsKanaOrHangul(text)) {
    // Chinese: first. A stem of one character is too likely to open a noun,
    // a statement that ends in 时 ("when ...") names an occasion, and one in
    // quotation marks is an example of what a user says.
    if (EndsWith(body, "时") || EndsWith(body, "時") || OpensWithQuote(text)) return nullptr;
    const std::string_view lead = CjkLead(text);
    for (const CjkVerb& verb : CjkVerbs()) {
      const std::string_view stem = verb.stem;
      // 了 after the verb tells it was done ("实现了", implemented).
      if (stem.size() >= 6 && StartsWith(lead, stem) &&
          !StartsWith(lead.substr(stem.size()), "了")) {
        return &verb;
      }
    }
    return nullptr;
  }
  // Japanese and Korean: last, the stem that ends latest.
  const CjkVerb* last = nullptr;
  size_t last_end = 0;
  for (const CjkVerb& verb : CjkVerbs()) {
    const std::string_view stem = verb.stem;
    const size_t at = body.rfind(stem);
    if (at != std::string_view::npos && at + stem.size() > last_end) {
      last = &verb;
      last_end = at + stem.size();
    }
  }
  if (last == nullptr) return nullptr;
  const std::string_view inflection = body.substr(last_end);
  if (inflection.size() > kMaxInflectionBytes || !IsInflection(inflection)) return nullptr;
  bool ends_a_step = false;
  for (std::string_view ending : CjkStepEndings()) ends_a_step |= EndsWith(inflection, ending);
  for (std::string_view word : CjkNotStepWords()) {
    if (inflection.find(word) != std::string_view::npos) return nullptr;
  }
  return ends_a_step ? last : nullptr;
}

// True when the first word of `text` is a number of one or two digits
// followed by a period: a step number written into the text ("**2. Build
// the brief**"), not a quantity ("2 files").
bool OpensWithStepNumber(std::string_view text, const Words& words) {
  const std::string_view first = words.w[0];
  if (first.empty() || first.size() > 2) return false;
  for (char c : first) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  const size_t after = words.begin[0] + first.size();
  return after < text.size() && text[after] == '.';
}

// Where the text after a bold label ends, "**Testing:** Run the suite."
// (also "__Testing__: ..." and the full-width colon), or 0 when `text` does
// not open with one or nothing follows it. Skills write steps and rules
// behind such labels; the label names the topic, the rest is the statement.
size_t LabelEnd(std::string_view text) {
  constexpr size_t kMaxLabelBytes = 80;
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  if (text.size() - i < 5 ||
      !(StartsWith(text.substr(i), "**") || StartsWith(text.substr(i), "__"))) {
    return 0;
  }
  const std::string_view marks = text.substr(i, 2);
  const size_t close = text.find(marks, i + 2);
  if (close == std::string_view::npos || close - i > kMaxLabelBytes) return 0;
  const std::string_view label = text.substr(i + 2, close - i - 2);
  size_t end = close + 2;
  const bool colon_inside = EndsWith(label, ":") || EndsWith(label, "：");
  if (!colon_inside) {
    while (end < text.size() && text[end] == ' ') ++end;
    if (StartsWith(text.substr(end), ":")) {
      end += 1;
    } else if (StartsWith(text.substr(end), "：")) {
      end += std::string_view("：").size();
    } else {
      return 0;
    }
  }
  while (end < text.size() && (text[end] == ' ' || text[end] == '\t')) ++end;
  return end < text.size() ? end : 0;
}

}  // namespace

SectionBias SectionBiasFor(std::string_view heading) {
  const Tables& t = GetTables();
  ScratchWords scratch;
  Words& words = scratch.get();
  Tokenize(heading, &words);
  // The first matching heading word wins ("Workflow rules" -> steps).
  for (size_t i = 0; i < words.w.size(); ++i) {
    const auto* refs = t.SectionsStartingWith(words.w[i]);
    if (refs == nullptr) continue;
    for (const auto& r : *refs) {
      bool ok = true;
      for (size_t k = 0; k < r.rest.size(); ++k) {
        if (i + 1 + k >= words.w.size() || words.w[i + 1 + k] != r.rest[k]) {
          ok = false;
          break;
        }
      }
      if (ok) return r.bias;
    }
  }
  if (MayHoldCjk(heading)) {
    for (const CjkSectionCue& cue : CjkSectionCues()) {
      if (heading.find(cue.phrase) != std::string_view::npos) return cue.bias;
    }
  }
  return SectionBias::kNone;
}

Classification ClassifyStatement(std::string_view text, SectionBias bias, StatementKind kind) {
  const Tables& t = GetTables();
  Classification c;
  ScratchWords scratch;
  Words& words = scratch.get();
  Tokenize(text, &words);
  const auto& w = words.w;
  if (w.empty()) return c;

  // Skip fillers ("Then", "Please"), a task-list checkbox "[ ]"/"[x]" and a
  // step number written in the text ("**2. Execute the plan**").
  size_t lead = 0;
  while (lead < w.size() &&
         (t.IsFiller(w[lead]) || (w[lead] == "x" && lead == 0 && text.find('[') != text.npos) ||
          (lead == 0 && w.size() > 1 && OpensWithStepNumber(text, words)))) {
    ++lead;
  }
  if (lead >= w.size()) lead = 0;
  // Behind a bold label the statement starts after it, unless the label
  // itself opens it ("**Avoid:** global state", "**Run:** `make`").
  // `statement` is the text from there, for the CJK cues, which look at
  // how it opens.
  std::string_view statement = text;
  if (const size_t label_end = LabelEnd(text); label_end > 0 && lead == 0) {
    auto opens = [&](size_t pos) {
      if (t.Verb(w[pos]) != nullptr) return true;
      const auto* refs = t.CuesStartingWith(w[pos]);
      if (refs == nullptr) return false;
      for (const CueRef& r : *refs) {
        const CueKind k = r.cue->kind;
        if ((k == CueKind::kCheckLead || k == CueKind::kConditionLead ||
             k == CueKind::kConstraintLead) &&
            MatchesAt(w, pos, r.rest)) {
          return true;
        }
      }
      return false;
    };
    size_t after = 0;
    while (after < w.size() && words.begin[after] < label_end) ++after;
    while (after < w.size() && t.IsFiller(w[after])) ++after;
    if (after < w.size() && !opens(0)) {
      lead = after;
      statement = text.substr(label_end);
    }
  }

  CueHits hits;
  for (size_t i = 0; i < w.size(); ++i) {
    const auto* refs = t.CuesStartingWith(w[i]);
    if (refs == nullptr) continue;
    for (const CueRef& r : *refs) {
      if (!MatchesAt(w, i, r.rest)) continue;
      const int k = static_cast<int>(r.cue->kind);
      const bool lead_kind = r.cue->kind == CueKind::kCheckLead ||
                             r.cue->kind == CueKind::kConditionLead ||
                             r.cue->kind == CueKind::kConstraintLead;
      if (lead_kind && i != lead) continue;
      if (hits.first_pos[k] < 0 || static_cast<int>(i) < hits.first_pos[k]) {
        hits.first_pos[k] = static_cast<int>(i);
      }
      if (lead_kind) {
        hits.lead_len[k] = std::max<int>(hits.lead_len[k], 1 + r.rest.size());
      }
      if (r.order < hits.best_order[k]) {
        hits.best_order[k] = r.order;
        hits.best_value[k] = r.cue->value;
      }
    }
  }

  const bool may_hold_cjk = MayHoldCjk(text);
  if (may_hold_cjk) AddCjkHits(statement, lead, &hits);

  auto make_rule = [&](double confidence) {
    c.category = Category::kRule;
    c.confidence = confidence;
    const int ct = hits.best_value[static_cast<int>(CueKind::kConditionType)];
    if (ct >= 0) c.condition_type = static_cast<ConditionType>(ct);
    const int rt = hits.best_value[static_cast<int>(CueKind::kReturns)];
    if (rt >= 0) c.returns = static_cast<Returns>(rt);
    const int fa = hits.best_value[static_cast<int>(CueKind::kFailAction)];
    if (fa >= 0) c.fail_action = static_cast<FailAction>(fa);
    // The condition in the text's own words.
    if (hits.Has(CueKind::kConditionLead)) {
      c.condition_expression = ClauseFrom(text, words, lead);
    } else if (hits.Has(CueKind::kConditionWord) &&
               hits.first_pos[static_cast<int>(CueKind::kConditionWord)] > static_cast<int>(lead)) {
      c.condition_expression =
          ClauseFrom(text, words, hits.first_pos[static_cast<int>(CueKind::kConditionWord)]);
    } else if (hits.Has(CueKind::kCheckLead)) {
      size_t from = lead + hits.lead_len[static_cast<int>(CueKind::kCheckLead)];
      if (from < w.size() && w[from] == "that") ++from;
      if (from < w.size()) {
        c.condition_expression = TrimExpression(text.substr(words.begin[from]));
      }
    }
  };
  auto make_directive = [&](DirectiveType type, double confidence) {
    c.category = Category::kDirective;
    c.directive_type = type;
    c.confidence = confidence;
  };
  // Directive subtype for a statement with no stronger signal.
  auto descriptive_type = [&]() -> std::pair<DirectiveType, double> {
    if (hits.Has(CueKind::kConstraint)) return {DirectiveType::kConstraint, 0.85};
    if (hits.Has(CueKind::kPreference)) return {DirectiveType::kPreference, 0.85};
    if (bias == SectionBias::kCompletion) return {DirectiveType::kCompletion, 0.75};
    if (hits.Has(CueKind::kStrategy)) return {DirectiveType::kStrategy, 0.8};
    if (bias == SectionBias::kPrinciples) return {DirectiveType::kPrinciple, 0.75};
    if (hits.Has(CueKind::kPrinciple)) return {DirectiveType::kPrinciple, 0.7};
    return {DirectiveType::kKnowledge, 0.6};
  };

  const bool table_row = kind == StatementKind::kTableRow;
  if (hits.Has(CueKind::kCheckLead) && !table_row) {
    make_rule(0.9);
    return c;
  }
  if (hits.Has(CueKind::kCompletion)) {
    make_directive(DirectiveType::kCompletion, 0.85);
    return c;
  }
  if (hits.Has(CueKind::kConstraintLead)) {
    make_directive(DirectiveType::kConstraint, 0.9);
    return c;
  }
  if (hits.Has(CueKind::kStrongModal) || (hits.Has(CueKind::kConditionLead) && !table_row)) {
    make_rule(0.9);
    return c;
  }

  const ImperativeVerb* verb = nullptr;
  if (!table_row) {
    verb = t.Verb(w[lead]);
    if (verb != nullptr && lead + 1 < w.size() && FollowsNounSubject(w[lead + 1])) verb = nullptr;
  }
  if (verb != nullptr) {
    if (bias == SectionBias::kRules) {
      make_rule(0.75);
      return c;
    }
    if (bias == SectionBias::kCompletion) {
      make_directive(DirectiveType::kCompletion, 0.75);
      return c;
    }
    // Under a principles heading every imperative states a principle.
    if ((verb->strong && bias != SectionBias::kPrinciples) || bias == SectionBias::kSteps) {
      c.category = Category::kAction;
      c.action_type = verb->action_type;
      c.confidence = verb->strong ? 0.9 : 0.75;
      return c;
    }
    // A guideline imperative outside a steps section: how to work, not a step.
    if (hits.Has(CueKind::kPreference)) {
      make_directive(DirectiveType::kPreference, 0.8);
    } else if (hits.Has(CueKind::kStrategy)) {
      make_directive(DirectiveType::kStrategy, 0.75);
    } else {
      make_directive(DirectiveType::kPrinciple, 0.7);
    }
    return c;
  }

  if (bias == SectionBias::kSteps && !table_row && may_hold_cjk) {
    if (const CjkVerb* cjk_verb = CjkStepVerb(statement)) {
      c.category = Category::kAction;
      c.action_type = cjk_verb->action_type;
      c.confidence = 0.75;
      return c;
    }
  }
  if (bias == SectionBias::kRules && !table_row && !hits.Has(CueKind::kPreference)) {
    make_rule(0.7);
    return c;
  }
  auto [type, confidence] = descriptive_type();
  make_directive(type, confidence);
  return c;
}

}  // namespace skillstore
