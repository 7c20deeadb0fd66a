#include "common/statement_splitter.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/classification_tables.h"
#include "common/text_util.h"

namespace skillstore {
namespace {

bool IsSpace(char c) { return IsAsciiSpace(c); }

SourceSpan Trim(std::string_view s, size_t b, size_t e) {
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return {b, e};
}

bool HasAlnum(std::string_view s) {
  for (char c : s) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80) {
      return true;
    }
  }
  return false;
}

const absl::flat_hash_set<std::string>& AbbreviationSet() {
  static const auto* set = [] {
    auto* s = new absl::flat_hash_set<std::string>();
    for (const char* a : Abbreviations()) s->insert(a);
    return s;
  }();
  return *set;
}

// True when the period at `dot` ends an abbreviation, a number or an initial.
bool PeriodIsNotFinal(std::string_view s, size_t dot) {
  size_t b = dot;
  while (b > 0 && !IsSpace(s[b - 1]) && s[b - 1] != '(' && s[b - 1] != '*' && s[b - 1] != '_') --b;
  std::string word = ToLowerAscii(s.substr(b, dot - b));
  if (word.empty()) return false;
  if (AbbreviationSet().contains(word)) return true;
  if (word.size() == 1 && absl::ascii_isalpha(static_cast<unsigned char>(word[0])) &&
      absl::ascii_isupper(static_cast<unsigned char>(s[b]))) {
    return true;  // an initial: "J. Smith"
  }
  // "1." at the start of a paragraph, emphasis marks before it included
  // ("**1. What are we building?**"), is a number.
  bool digits = true;
  for (char c : word) digits = digits && absl::ascii_isdigit(static_cast<unsigned char>(c));
  return digits && word.size() <= 2 &&
         s.substr(0, b).find_first_not_of("*_") == std::string_view::npos;
}

// True when the text after the white space at `k` goes on with an arrow or
// a dash: "**Blended data?** → use the blend template" and "What is the
// capital of France? — no framework needed" are one statement each, the
// answer to a question or the consequence of a case.
bool ContinuesAfterStop(std::string_view s, size_t k) {
  while (k < s.size() && (s[k] == ' ' || s[k] == '\t')) ++k;
  const std::string_view rest = s.substr(k);
  for (std::string_view mark : {"\xE2\x86\x92" /* → */, "\xE2\x87\x92" /* ⇒ */, "->", "=>",
                                "\xE2\x80\x94" /* — */, "\xE2\x80\x93" /* – */, "-- "}) {
    if (rest.substr(0, mark.size()) == mark) return true;
  }
  return false;
}

}  // namespace

size_t CodeSpanEnd(std::string_view s, size_t i) {
  size_t run = 0;
  while (i + run < s.size() && s[i + run] == '`') ++run;
  if (run == 0) return std::string_view::npos;
  for (size_t k = i + run; k < s.size();) {
    if (s[k] != '`') {
      ++k;
      continue;
    }
    size_t r = 0;
    while (k + r < s.size() && s[k + r] == '`') ++r;
    if (r == run) return k + r;
    k += r;
  }
  return std::string_view::npos;
}

CodeSpanIndex::CodeSpanIndex(std::string_view s) : s_(s) {
  for (size_t i = 0; i < s.size();) {
    if (s[i] != '`') {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < s.size() && s[i] == '`') ++i;
    runs_.push_back({start, i - start, std::string_view::npos});
  }
  absl::flat_hash_map<size_t, size_t> next_end_by_length;
  for (auto run = runs_.rbegin(); run != runs_.rend(); ++run) {
    auto [it, inserted] = next_end_by_length.try_emplace(run->length, 0);
    if (!inserted) run->span_end = it->second;
    it->second = run->start + run->length;
  }
}

size_t CodeSpanIndex::SpanEnd(size_t i) {
  while (cursor_ < runs_.size() && runs_[cursor_].start < i) ++cursor_;
  if (cursor_ < runs_.size() && runs_[cursor_].start == i) return runs_[cursor_].span_end;
  return CodeSpanEnd(s_, i);  // `i` inside a run: not a run's opener
}

// The bytes SplitSentences acts on: code span and link openers, the lead
// bytes of CJK / full-width stops, and sentence punctuation.
struct SentenceByteTable {
  bool special[256];
  constexpr SentenceByteTable() : special() {
    for (unsigned char c : {'`', ']', '.', '!', '?', '"'}) special[c] = true;
    special[0xE3] = true;
    special[0xEF] = true;
  }
};
constexpr SentenceByteTable kSentenceByte;

void SplitSentences(std::string_view s, std::vector<SourceSpan>* out_ptr) {
  std::vector<SourceSpan>& out = *out_ptr;
  out.clear();
  size_t start = 0;
  size_t i = 0;
  const size_t n = s.size();
  std::optional<CodeSpanIndex> code_spans;  // built at the first backtick
  auto emit = [&](size_t end) {
    SourceSpan span = Trim(s, start, end);
    if (span.end > span.begin && HasAlnum(s.substr(span.begin, span.end - span.begin))) {
      out.push_back(span);
    }
    start = end;
  };
  while (i < n) {
    // Bytes none of the cases below looks at are passed over in one loop.
    while (i < n && !kSentenceByte.special[static_cast<unsigned char>(s[i])]) ++i;
    if (i >= n) break;
    const char c = s[i];
    if (c == '`') {
      // Never split inside a code span; an unclosed run is plain text.
      if (!code_spans.has_value()) code_spans.emplace(s);
      const size_t end = code_spans->SpanEnd(i);
      if (end != std::string_view::npos) {
        i = end;
      } else {
        while (i < n && s[i] == '`') ++i;
      }
      continue;
    }
    if (c == '"') {
      // A quotation closed on its line belongs to the sentence that quotes
      // it, however many sentences it holds (Reply: "Done. Next task?").
      // Only a quote after a space, '(' or the start opens one: 12" is inches.
      const bool opens = i == 0 || IsSpace(s[i - 1]) || s[i - 1] == '(';
      const size_t close = opens ? s.find_first_of("\"\n", i + 1) : std::string_view::npos;
      if (close == std::string_view::npos || s[close] != '"') {
        ++i;
        continue;
      }
      i = close + 1;
      // A stop just inside the closing quote ends the quoting sentence too.
      const char last = s[close - 1];
      if ((last == '.' || last == '!' || last == '?') && i < n && IsSpace(s[i])) emit(i);
      continue;
    }
    if (c == ']' && i + 1 < n && s[i + 1] == '(') {
      // Skip a link target "(...)", allowing one level of nested parentheses.
      size_t k = i + 2;
      int depth = 1;
      while (k < n && depth > 0) {
        if (s[k] == '(') ++depth;
        if (s[k] == ')') --depth;
        ++k;
      }
      i = k;
      continue;
    }
    // CJK full stops end a sentence without a following space.
    if (static_cast<unsigned char>(c) == 0xE3 && i + 2 < n &&
        static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        static_cast<unsigned char>(s[i + 2]) == 0x82) {
      i += 3;
      emit(i);
      continue;
    }
    if (static_cast<unsigned char>(c) == 0xEF && i + 2 < n &&
        static_cast<unsigned char>(s[i + 1]) == 0xBC &&
        (static_cast<unsigned char>(s[i + 2]) == 0x81 || static_cast<unsigned char>(s[i + 2]) == 0x9F)) {
      i += 3;  // full-width ! and ?
      emit(i);
      continue;
    }
    if (c == '.' || c == '!' || c == '?') {
      size_t k = i + 1;
      while (k < n && (s[k] == '.' || s[k] == '!' || s[k] == '?')) ++k;
      // Closing quotes, brackets and emphasis belong to the sentence.
      while (k < n && (s[k] == '"' || s[k] == '\'' || s[k] == ')' || s[k] == '*' ||
                       s[k] == '_' || s[k] == ']')) {
        ++k;
      }
      if (k >= n) break;
      // A hard line break written as a backslash ("Stop.\" then a line
      // break) or a Unicode line or paragraph separator (U+2028, U+2029)
      // follows a stop like a space; neither belongs to either sentence.
      size_t separator = 0;
      if (s[k] == '\\' && (s.compare(k + 1, 1, "\n") == 0 || s.compare(k + 1, 2, "\r\n") == 0)) {
        separator = 1;
      } else if (s.compare(k, 3, "\xE2\x80\xA8") == 0 || s.compare(k, 3, "\xE2\x80\xA9") == 0) {
        separator = 3;
      }
      if (separator > 0) {
        emit(k);
        start = k + separator;
        i = start;
        continue;
      }
      if (IsSpace(s[k]) && !(c == '.' && k == i + 1 && PeriodIsNotFinal(s, i)) &&
          !ContinuesAfterStop(s, k)) {
        // The next sentence must start like one (not "e.g. foo" lower case
        // after an unknown abbreviation is still accepted: prose often
        // continues in lower case only after abbreviations we list).
        emit(k);
        i = k;
        continue;
      }
      i = k;
      continue;
    }
    ++i;
  }
  emit(n);
}

std::vector<SourceSpan> SplitSentences(std::string_view s) {
  std::vector<SourceSpan> out;
  SplitSentences(s, &out);
  return out;
}

namespace {

bool IsShellKeywordLine(std::string_view line) {
  static const auto* kBare = new absl::flat_hash_set<std::string_view>{
      "fi", "done", "esac", "then", "else", "do", "}", "{", ")", ";;", "end",
      "(", "};", "elif", "in", "EOF", "try", "catch"};
  if (kBare->contains(line)) return true;
  static const char* const kOpeners[] = {
      "if ", "if [", "elif ", "else ", "for ", "while ", "until ", "case ", "function ",
      "then ", "do ", "} ", "select ", "foreach ", "param(", "param ("};
  for (const char* p : kOpeners) {
    if (StartsWith(line, p)) return true;
  }
  // "name() {" function headers.
  size_t paren = line.find("()");
  if (paren != std::string_view::npos && line.find(' ') >= paren &&
      EndsWith(StripTrailing(line), "{")) {
    return true;
  }
  return false;
}

// "NAME=value" with no command after it.
bool IsPlainAssignment(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && (absl::ascii_isalnum(static_cast<unsigned char>(line[i])) || line[i] == '_')) ++i;
  if (i == 0 || i >= line.size() || line[i] != '=') return false;
  if (line[0] == '$') return false;
  // A value with a space outside quotes means a command follows ("A=1 cmd").
  char quote = 0;
  for (size_t k = i + 1; k < line.size(); ++k) {
    char c = line[k];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == ' ' || c == '\t') {
      return false;
    }
  }
  return true;
}

// Heredoc delimiter opened on this line ("<<EOF", "<<-'END'"), or "".
std::string HeredocDelimiter(std::string_view line) {
  size_t p = line.find("<<");
  if (p == std::string_view::npos || (p + 2 < line.size() && line[p + 2] == '<')) return "";
  size_t k = p + 2;
  if (k < line.size() && line[k] == '-') ++k;
  while (k < line.size() && line[k] == ' ') ++k;
  if (k < line.size() && (line[k] == '\'' || line[k] == '"')) ++k;
  size_t b = k;
  while (k < line.size() && (absl::ascii_isalnum(static_cast<unsigned char>(line[k])) || line[k] == '_')) ++k;
  return std::string(line.substr(b, k - b));
}

}  // namespace

std::vector<SourceSpan> SplitShellCommands(std::string_view code, bool prompts_only) {
  std::vector<SourceSpan> out;
  size_t pos = 0;
  std::string heredoc;
  bool continuing = false;
  SourceSpan current;
  while (pos < code.size()) {
    size_t eol = code.find('\n', pos);
    if (eol == std::string_view::npos) eol = code.size();
    SourceSpan line = Trim(code, pos, eol);
    pos = eol + 1;
    std::string_view text = code.substr(line.begin, line.end - line.begin);
    if (!heredoc.empty()) {
      if (text == heredoc) heredoc.clear();
      if (continuing) continue;
      continue;
    }
    if (continuing && text.empty()) {
      // A blank line ends the command: it is not part of it (extending the
      // span to it put the line break, and with CR LF a stray CR, at the end
      // of original_text, and line_end on the blank line).
      out.push_back(current);
      continuing = false;
      continue;
    }
    if (continuing) {
      current.end = line.end;
      continuing = EndsWith(text, "\\") || EndsWith(text, "`") || EndsWith(text, "|");
      if (!continuing) out.push_back(current);
      continue;
    }
    if (text.empty() || text[0] == '#' || StartsWith(text, "//") ||
        StartsWith(text, "REM ") || StartsWith(text, "::")) {
      continue;
    }
    bool prompt = false;
    for (std::string_view p : {"$ ", "> ", "% ", "PS> "}) {
      if (StartsWith(text, p)) {
        line.begin += p.size();
        while (line.begin < line.end && code[line.begin] == ' ') ++line.begin;
        text = code.substr(line.begin, line.end - line.begin);
        prompt = true;
        break;
      }
    }
    if (prompts_only && !prompt) continue;
    if (text.empty() || IsShellKeywordLine(text) || IsPlainAssignment(text)) continue;
    if (!absl::ascii_isalnum(static_cast<unsigned char>(text[0])) && text[0] != '.' &&
        text[0] != '/' && text[0] != '~' && text[0] != '&' && text[0] != '$' && text[0] != '"') {
      continue;  // output, brackets, operators: not a command start
    }
    heredoc = HeredocDelimiter(text);
    current = line;
    continuing = EndsWith(text, "\\") || EndsWith(text, "`") ||
                 EndsWith(text, "|") || EndsWith(text, "&&");
    if (!continuing) out.push_back(current);
  }
  if (continuing) out.push_back(current);
  return out;
}

}  // namespace skillstore
