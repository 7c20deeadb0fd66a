#include "common/security_scanner.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/front_matter.h"
#include "common/input_guard.h"
#include "common/markdown_document.h"
#include "common/statement_splitter.h"
#include "common/utf8.h"
#include "re2/re2.h"
#include "re2/set.h"

namespace skillstore {
namespace {

constexpr size_t kMaxMatchedText = 200;

struct CompiledPattern {
  const SecurityRule* rule;
  const SecurityPattern* pattern;
  std::unique_ptr<RE2> re;
};

struct CompiledRules {
  std::vector<CompiledPattern> patterns;
  // All patterns in one automaton: one pass over a line says which
  // patterns can match, so the ~50 individual regexes run only on the rare
  // lines that need them.
  std::unique_ptr<RE2::Set> set;
};

const CompiledRules& Compiled() {
  static const auto* compiled = [] {
    auto* c = new CompiledRules();
    RE2::Options options;
    options.set_case_sensitive(false);
    options.set_log_errors(false);
    options.set_max_mem(64 << 20);
    c->set = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
    for (const SecurityRule& rule : SecurityRules()) {
      for (const SecurityPattern& p : rule.patterns) {
        auto re = std::make_unique<RE2>(p.regex, options);
        // The table is code; every test run compiles it.
        if (!re->ok() || c->set->Add(p.regex, nullptr) < 0) std::abort();
        c->patterns.push_back(CompiledPattern{&rule, &p, std::move(re)});
      }
    }
    if (!c->set->Compile()) std::abort();
    return c;
  }();
  return *compiled;
}

// Prohibition words before a match turn an instruction into a warning: the
// words (apostrophes straight or curly), a "No ..." opening the sentence, and
// the marks lists of don'ts use (❌ 🚫 ⛔).
const RE2& ProhibitionRe() {
  static const RE2* re = new RE2(
      R"((?i)\b(?:never|do\s+not|don['\x{2019}]t|must\s+not|should\s+not|avoid|forbid|forbidden|prohibited|not\s+allowed)\b|^[\s*_>-]*no\s|[\x{274C}\x{1F6AB}\x{26D4}])");
  return *re;
}

// A heading over things not to do: everything under it is a warning, as if
// each sentence said "never".
const RE2& ForbiddingHeadingRe() {
  static const RE2* re = new RE2(
      R"((?i)\b(?:don['\x{2019}]?ts?|do\s+not|never|avoid|anti-?patterns?|pitfalls?|(?:common\s+)?mistakes|what\s+not\s+to|bad\s+(?:examples?|practices?|patterns?)|forbidden|prohibited)\b|[\x{274C}\x{1F6AB}\x{26D4}])");
  return *re;
}

// How far back from a match a prohibition word may stand. Looking at the
// match's own sentence only, and at most this many bytes of it, keeps each
// finding O(1) in the line's length: a line with many matches (a hostile
// multi-megabyte line) must not make the scan quadratic.
constexpr size_t kProhibitionWindow = 256;

// The start of the sentence holding `offset` within `line`, but no further
// back than kProhibitionWindow bytes.
size_t SentenceStart(std::string_view line, size_t offset) {
  const size_t floor = offset > kProhibitionWindow ? offset - kProhibitionWindow : 0;
  for (size_t i = offset; i > floor; --i) {
    const char before = line[i - 1];
    if ((before == '.' || before == '!' || before == '?') && i < line.size() &&
        (line[i] == ' ' || line[i] == '\t')) {
      return i;
    }
  }
  return floor;
}

std::string Clip(std::string_view s) {
  if (s.size() <= kMaxMatchedText) return std::string(s);
  return std::string(s.substr(0, Utf8PrefixLength(s, kMaxMatchedText))) + "...";
}

// Byte ranges of `code spans` in one line of inline Markdown.
std::vector<std::pair<size_t, size_t>> CodeSpans(std::string_view line) {
  std::vector<std::pair<size_t, size_t>> spans;
  CodeSpanIndex index(line);
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] != '`') {
      ++i;
      continue;
    }
    const size_t end = index.SpanEnd(i);
    if (end == std::string_view::npos) {
      while (i < line.size() && line[i] == '`') ++i;  // unclosed: plain text
      continue;
    }
    spans.emplace_back(i, end);
    i = end;
  }
  return spans;
}

// Byte ranges strictly inside "double quotes" (straight quotes paired in
// order, or curly “...”) on one line of inline Markdown: a phrase in quotes
// is most often mentioned (an example to say, a phrase to look out for)
// rather than addressed to the agent.
std::vector<std::pair<size_t, size_t>> QuotedSpans(std::string_view line) {
  static constexpr std::string_view kOpenCurly = "\xe2\x80\x9c";
  static constexpr std::string_view kCloseCurly = "\xe2\x80\x9d";
  std::vector<std::pair<size_t, size_t>> spans;
  size_t straight_open = std::string_view::npos;
  size_t curly_open = std::string_view::npos;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '"') {
      if (straight_open == std::string_view::npos) {
        straight_open = i + 1;
      } else {
        spans.emplace_back(straight_open, i);
        straight_open = std::string_view::npos;
      }
    } else if (line.compare(i, kOpenCurly.size(), kOpenCurly) == 0) {
      curly_open = i + kOpenCurly.size();
      i += kOpenCurly.size() - 1;
    } else if (line.compare(i, kCloseCurly.size(), kCloseCurly) == 0) {
      if (curly_open != std::string_view::npos) spans.emplace_back(curly_open, i);
      curly_open = std::string_view::npos;
      i += kCloseCurly.size() - 1;
    }
  }
  std::sort(spans.begin(), spans.end());
  return spans;
}

// True when [begin, end) lies inside one of `spans`, which are sorted and
// disjoint: the one that may hold `begin` is the last starting at or before it.
bool InsideSpan(const std::vector<std::pair<size_t, size_t>>& spans, size_t begin, size_t end) {
  auto after = std::upper_bound(
      spans.begin(), spans.end(), begin,
      [](size_t value, const std::pair<size_t, size_t>& span) { return value < span.first; });
  return after != spans.begin() && end <= std::prev(after)->second;
}

// A line as a model reads it, where that differs from its bytes: full-width
// forms (U+FF01..U+FF5E, and the ideographic space U+3000) written as the
// ASCII they stand for, "ｃｕｒｌ ｈｔｔｐ" as "curl http", and character
// references that stand for ASCII decoded, "I&#x67;nore" as "Ignore" (a
// Markdown or HTML view shows the letter). `original` maps each byte offset
// of `text` (and its end) back to the line.
struct FoldedLine {
  std::string_view source;  // the line as written
  std::string text;
  std::vector<size_t> original;
};

// The printable ASCII character a reference at `i` ("&#103;", "&#x67;",
// "&amp;", ...) stands for, and its length; {0, 0} when there is none.
std::pair<char, size_t> AsciiReferenceAt(std::string_view line, size_t i) {
  if (line[i] != '&') return {0, 0};
  const size_t semicolon = line.find(';', i);
  if (semicolon == std::string_view::npos || semicolon - i > 10) return {0, 0};
  const std::string_view name = line.substr(i + 1, semicolon - i - 1);
  const size_t length = semicolon - i + 1;
  static constexpr std::pair<std::string_view, char> kNamed[] = {
      {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
  for (const auto& [named, c] : kNamed) {
    if (name == named) return {c, length};
  }
  if (name.size() < 2 || name[0] != '#') return {0, 0};
  const bool hex = name[1] == 'x' || name[1] == 'X';
  const std::string_view digits = name.substr(hex ? 2 : 1);
  if (digits.empty() || digits.size() > 7) return {0, 0};
  uint32_t code = 0;
  for (const char d : digits) {
    const int value = absl::ascii_isdigit(static_cast<unsigned char>(d)) ? d - '0'
                      : hex && absl::ascii_isxdigit(static_cast<unsigned char>(d))
                          ? absl::ascii_tolower(static_cast<unsigned char>(d)) - 'a' + 10
                          : -1;
    if (value < 0) return {0, 0};
    code = code * (hex ? 16 : 10) + static_cast<uint32_t>(value);
  }
  if (code < 0x20 || code > 0x7E) return {0, 0};
  return {static_cast<char>(code), length};
}

// nullopt when the line reads as written (nearly always).
std::optional<FoldedLine> FoldForReading(std::string_view line) {
  // U+FF01..U+FF5E are EF BC 81..EF BC BF and EF BD 80..EF BD 9E.
  auto width_form = [&](size_t i) -> int {
    if (i + 2 >= line.size() || static_cast<unsigned char>(line[i]) != 0xEF) return -1;
    const auto b1 = static_cast<unsigned char>(line[i + 1]);
    const auto b2 = static_cast<unsigned char>(line[i + 2]);
    if (b1 == 0xBC && b2 >= 0x81 && b2 <= 0xBF) return 0x21 + (b2 - 0x81);
    if (b1 == 0xBD && b2 >= 0x80 && b2 <= 0x9E) return 0x21 + 0x3F + (b2 - 0x80);
    return -1;
  };
  auto ideographic_space = [&](size_t i) { return line.compare(i, 3, "\xE3\x80\x80") == 0; };
  bool any = false;
  for (size_t i = line.find_first_of("\xE3\xEF&"); i != std::string_view::npos && !any;
       i = line.find_first_of("\xE3\xEF&", i + 1)) {
    any = width_form(i) >= 0 || ideographic_space(i) || AsciiReferenceAt(line, i).second > 0;
  }
  if (!any) return std::nullopt;
  FoldedLine folded;
  folded.source = line;
  folded.text.reserve(line.size());
  folded.original.reserve(line.size() + 1);
  for (size_t i = 0; i < line.size();) {
    folded.original.push_back(i);
    if (const int ascii = width_form(i); ascii >= 0) {
      folded.text.push_back(static_cast<char>(ascii));
      i += 3;
    } else if (ideographic_space(i)) {
      folded.text.push_back(' ');
      i += 3;
    } else if (const auto [c, length] = AsciiReferenceAt(line, i); length > 0) {
      folded.text.push_back(c);
      i += length;
    } else {
      folded.text.push_back(line[i]);
      ++i;
    }
  }
  folded.original.push_back(line.size());
  return folded;
}

// A paragraph's lines joined by single spaces, each continuation line
// without its indentation and quote markers: "Ignore\nall previous\n
// instructions." reads as one phrase to a model.
struct JoinedLines {
  std::string text;
  struct Piece {
    size_t begin;  // where the line's text starts in `text` (after the joining space)
    int line;
    int column;  // the column of that first byte in the file
  };
  std::vector<Piece> pieces;  // one per line, in order

  // The line and 1-based column of byte `offset` of `text` (a joining space
  // is placed just after the end of the line before it).
  std::pair<int, int> Place(size_t offset) const {
    auto after = std::upper_bound(pieces.begin(), pieces.end(), offset,
                                  [](size_t value, const Piece& p) { return value < p.begin; });
    const Piece& piece = *std::prev(after);  // pieces[0].begin is 0
    return {piece.line, piece.column + static_cast<int>(offset - piece.begin)};
  }
};

// `first_column` is the file column of source's first byte (a paragraph in
// a list item or a quote starts after its marker).
JoinedLines JoinLines(std::string_view source, int first_line, int first_column) {
  JoinedLines joined;
  joined.text.reserve(source.size());
  int line = first_line;
  size_t pos = 0;
  while (pos <= source.size()) {
    size_t eol = source.find('\n', pos);
    if (eol == std::string_view::npos) eol = source.size();
    size_t begin = pos;
    size_t end = eol;
    if (end > begin && source[end - 1] == '\r') --end;
    if (line != first_line) {
      while (begin < end &&
             (source[begin] == ' ' || source[begin] == '\t' || source[begin] == '>')) {
        ++begin;
      }
      joined.text.push_back(' ');
    }
    // Columns as ScanLines counts them: continuation lines of `source` start
    // where their file lines do.
    const int column = static_cast<int>(begin - pos) + (line == first_line ? first_column : 1);
    joined.pieces.push_back({joined.text.size(), line, column});
    joined.text.append(source.substr(begin, end - begin));
    if (eol == source.size()) break;
    pos = eol + 1;
    ++line;
  }
  return joined;
}

class Scanner {
 public:
  explicit Scanner(const EngineLimits& limits) : max_findings_listed_(limits.max_findings_listed) {}

  // The blocks scanned next stand under `heading`, which heads things not to
  // do (empty: none does): their findings are lowered one level, as if
  // forbidden. `heading` must outlive those scans.
  void SetUnderForbiddingHeading(const std::string& heading) { forbidding_heading_ = &heading; }

  // Scans the lines of `text`, which starts on file line `first_line` after
  // `first_indent` bytes of that line (a list marker, a quote marker, a
  // heading's hashes: findings give columns of the file's lines).
  void ScanLines(std::string_view text, int first_line, const std::string& context,
                 const std::string& language, bool inline_markdown, size_t first_indent) {
    size_t pos = 0;
    int line_no = first_line;
    while (pos <= text.size()) {
      size_t eol = text.find('\n', pos);
      if (eol == std::string_view::npos) eol = text.size();
      ScanLine(text.substr(pos, eol - pos), line_no, line_no == first_line ? first_indent : 0,
               context, language, inline_markdown);
      if (eol == text.size()) break;
      pos = eol + 1;
      ++line_no;
    }
  }

  // Phrases of a paragraph that run across its lines (a soft line break in
  // the middle of "ignore all previous instructions"), which no scan of one
  // line sees. Only matches that span lines are reported here.
  void ScanAcrossLines(std::string_view source, int first_line, const std::string& context,
                       size_t first_indent) {
    if (source.find('\n') == std::string_view::npos) return;
    const JoinedLines joined = JoinLines(source, first_line, static_cast<int>(first_indent) + 1);
    line_first_ = report_.findings.size();
    ScanText(joined.text, nullptr, first_line, context, "", true, &joined);
    SettleLine();
  }

  SecurityReport Finish() {
    // Each line's findings are in column order already; lines are scanned
    // front matter first, then block by block (lines outside blocks before
    // them), so a stable sort by line finishes the order.
    std::stable_sort(
        report_.findings.begin(), report_.findings.end(),
        [](const SecurityFinding& a, const SecurityFinding& b) { return a.line < b.line; });
    const auto& count = report_.count_by_severity;
    const int64_t score = 50 * count[static_cast<int>(Severity::kCritical)] +
                          25 * count[static_cast<int>(Severity::kHigh)] +
                          10 * count[static_cast<int>(Severity::kMedium)] +
                          3 * count[static_cast<int>(Severity::kLow)];
    report_.risk_score = static_cast<int>(std::min<int64_t>(score, 100));
    if (count[static_cast<int>(Severity::kCritical)] > 0) {
      report_.risk_level = "blocked";
    } else if (report_.risk_score == 0) {
      report_.risk_level = "safe";
    } else if (report_.risk_score < 15) {
      report_.risk_level = "low";
    } else if (report_.risk_score < 40) {
      report_.risk_level = "medium";
    } else if (report_.risk_score < 70) {
      report_.risk_level = "high";
    } else {
      report_.risk_level = "critical";
    }
    return std::move(report_);
  }

 private:
  // `indent`: the bytes of the file line before `line`.
  void ScanLine(std::string_view line, int line_no, size_t indent, const std::string& context,
                const std::string& language, bool inline_markdown) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF text
    line_first_ = report_.findings.size();
    line_indent_ = static_cast<int>(indent);
    ScanText(line, nullptr, line_no, context, language, inline_markdown);
    if (std::optional<FoldedLine> folded = FoldForReading(line)) {
      ScanText(folded->text, &*folded, line_no, context, language, inline_markdown);
    }
    line_indent_ = 0;
    SettleLine();
  }

  // The findings of the line just scanned (or of the phrases across lines of
  // one paragraph): one per column and rule, counted, and listed while the
  // list has room.
  void SettleLine() {
    if (report_.findings.size() == line_first_ && line_counted_.empty()) return;
    KeepFirstOfLine(max_findings_listed_);
    // Counted once per column and rule, listed or not.
    std::vector<CountedFinding> counted = std::move(line_counted_);
    line_counted_.clear();
    for (size_t i = line_first_; i < report_.findings.size(); ++i) {
      counted.push_back(Counted(report_.findings[i]));
    }
    std::sort(counted.begin(), counted.end(), [](const CountedFinding& a, const CountedFinding& b) {
      return SpotThenSeverity(a, b);
    });
    counted.erase(std::unique(counted.begin(), counted.end(), SamePlaceAndRule<CountedFinding>),
                  counted.end());
    for (const CountedFinding& f : counted) {
      ++report_.total_findings;
      ++report_.count_by_severity[static_cast<int>(f.adjusted_severity)];
      ++report_.count_by_rule[f.rule_id];
    }
  }

  // Orders the current line's listed findings by column and rule, keeps one
  // per place and rule (several patterns of one rule can fire at the same
  // spot, "rm -rf" and "rm -rf /", and both passes at the same place: the
  // most severe sorts first), and moves those past `limit` findings in all
  // to line_counted_: counted, not listed.
  void KeepFirstOfLine(size_t limit) {
    const auto line_begin = report_.findings.begin() + static_cast<std::ptrdiff_t>(line_first_);
    std::sort(line_begin, report_.findings.end(),
              [](const SecurityFinding& a, const SecurityFinding& b) {
                if (a.line != b.line || a.column != b.column || a.rule_id != b.rule_id ||
                    a.original_severity != b.original_severity) {
                  return SpotThenSeverity(a, b);
                }
                return a.matched_text < b.matched_text;
              });
    report_.findings.erase(
        std::unique(line_begin, report_.findings.end(), SamePlaceAndRule<SecurityFinding>),
        report_.findings.end());
    for (size_t i = std::max(limit, line_first_); i < report_.findings.size(); ++i) {
      line_counted_.push_back(Counted(report_.findings[i]));
    }
    if (report_.findings.size() > limit) report_.findings.resize(std::max(limit, line_first_));
  }

  // Matches the rules against `line`, which is the line itself, or its
  // folded copy (`folded`, whose findings are reported at the line's own
  // columns and with its own text).
  void ScanText(std::string_view line, const FoldedLine* folded, int line_no,
                const std::string& context, const std::string& language, bool inline_markdown,
                const JoinedLines* joined = nullptr) {
    if (line.empty()) return;
    std::vector<std::pair<size_t, size_t>> spans;
    std::vector<std::pair<size_t, size_t>> quotes;
    bool spans_done = false;
    const CompiledRules& rules = Compiled();
    std::vector<int> candidates;
    RE2::Set::ErrorInfo error;
    if (!rules.set->Match(re2::StringPiece(line.data(), line.size()), &candidates, &error)) {
      if (error.kind == RE2::Set::kNoError) return;  // nothing can match here
      // The set's DFA ran out of memory on this line: try every pattern.
      candidates.clear();
      for (size_t i = 0; i < rules.patterns.size(); ++i) candidates.push_back(static_cast<int>(i));
    }
    std::sort(candidates.begin(), candidates.end());
    for (int index : candidates) {
      const CompiledPattern& cp = rules.patterns[index];
      re2::StringPiece input(line.data(), line.size());
      re2::StringPiece match;
      size_t start = 0;
      while (start <= line.size() &&
             cp.re->Match(input, start, line.size(), RE2::UNANCHORED, &match, 1)) {
        const size_t offset = match.data() - line.data();
        start = offset + std::max<size_t>(match.size(), 1);
        if (joined != nullptr &&
            (match.empty() ||
             joined->Place(offset).first == joined->Place(offset + match.size() - 1).first)) {
          continue;  // within one line: that line's own scan has it
        }
        if (!spans_done && inline_markdown) {
          spans = CodeSpans(line);
          quotes = QuotedSpans(line);
          spans_done = true;
        }
        SecurityFinding f =
            Assess(cp, line, line_no, offset, std::string_view(match.data(), match.size()), context,
                   language, spans, quotes);
        if (folded != nullptr) {
          // Where the match is in the line as written.
          const size_t begin = folded->original[offset];
          const size_t end = folded->original[offset + match.size()];
          f.column = static_cast<int>(begin) + 1;
          f.matched_text = Clip(folded->source.substr(begin, end - begin));
        }
        if (joined != nullptr) {
          std::tie(f.line, f.column) = joined->Place(offset);
        } else {
          f.column += line_indent_;
        }
        Add(std::move(f));
      }
    }
  }

  // A match as a finding: its context and its severity, lowered where the
  // text says it is an example or a prohibition.
  SecurityFinding Assess(const CompiledPattern& cp, std::string_view line, int line_no,
                         size_t offset, std::string_view matched, const std::string& context,
                         const std::string& language,
                         const std::vector<std::pair<size_t, size_t>>& spans,
                         const std::vector<std::pair<size_t, size_t>>& quotes) {
    SecurityFinding f;
    f.rule_id = cp.rule->id;
    f.rule_name = cp.rule->name;
    f.line = line_no;
    f.column = static_cast<int>(offset) + 1;
    f.context = context;
    f.language = language;
    if (InsideSpan(spans, offset, offset + 1)) f.context = "inline_code";
    f.matched_text = Clip(matched);
    f.message = cp.pattern->what;
    f.original_severity = cp.pattern->severity;
    f.adjusted_severity = f.original_severity;
    std::vector<std::string> reasons;
    if (f.context == "code_block") {
      f.adjusted_severity = Lower(f.adjusted_severity);
      reasons.push_back(language.empty() ? std::string("inside a code example")
                                         : absl::StrCat("inside a ", language, " code example"));
    } else if (f.context == "inline_code") {
      f.adjusted_severity = Lower(f.adjusted_severity);
      reasons.push_back("inside inline code");
    } else if (InsideSpan(quotes, offset, offset + matched.size())) {
      f.adjusted_severity = Lower(f.adjusted_severity);
      reasons.push_back("quoted as a phrase");
    }
    const size_t sentence = SentenceStart(line, offset);
    if (f.context != "code_block" &&
        RE2::PartialMatch(re2::StringPiece(line.data() + sentence, offset - sentence),
                          ProhibitionRe())) {
      f.adjusted_severity = Lower(f.adjusted_severity);
      reasons.push_back("the sentence forbids it");
    } else if (reasons.empty() && forbidding_heading_ != nullptr && !forbidding_heading_->empty() &&
               f.context != "front_matter" && f.context != "heading") {
      // Not on top of another adjustment: a dangerous command cannot drop two
      // levels by standing in a code block under a "Don'ts" heading.
      f.adjusted_severity = Lower(f.adjusted_severity);
      reasons.push_back(absl::StrCat("listed under '", *forbidding_heading_, "'"));
    }
    for (size_t i = 0; i < reasons.size(); ++i) {
      if (i > 0) f.adjustment_reason += "; ";
      f.adjustment_reason += reasons[i];
    }
    return f;
  }

  // A line's findings are listed, up to the limit, by column, whatever the
  // order the patterns find them in; so a line with more matches than that
  // is trimmed to its first ones whenever it holds twice the limit, and
  // memory stays bounded on a line of a million matches. Once earlier lines
  // fill the list, only what the counts need is kept.
  void Add(SecurityFinding f) {
    if (line_first_ >= max_findings_listed_) {
      line_counted_.push_back(Counted(f));
      return;
    }
    report_.findings.push_back(std::move(f));
    if (report_.findings.size() >= 2 * max_findings_listed_) {
      KeepFirstOfLine(max_findings_listed_);
    }
  }

  // What the counts need of a finding (a rule id is short enough to need no
  // allocation).
  struct CountedFinding {
    int line;
    int column;
    std::string rule_id;
    Severity original_severity;
    Severity adjusted_severity;
  };
  // By line (the phrases of a joined paragraph start on several), column and
  // rule, then the most severe first. For SecurityFinding and CountedFinding.
  template <typename Finding>
  static bool SpotThenSeverity(const Finding& a, const Finding& b) {
    if (a.line != b.line) return a.line < b.line;
    if (a.column != b.column) return a.column < b.column;
    if (a.rule_id != b.rule_id) return a.rule_id < b.rule_id;
    return a.original_severity > b.original_severity;
  }
  // One finding of a rule per place: what de-duplication keeps (the first,
  // the most severe after SpotThenSeverity).
  template <typename Finding>
  static bool SamePlaceAndRule(const Finding& a, const Finding& b) {
    return a.line == b.line && a.column == b.column && a.rule_id == b.rule_id;
  }
  static CountedFinding Counted(const SecurityFinding& f) {
    return {f.line, f.column, f.rule_id, f.original_severity, f.adjusted_severity};
  }

  const size_t max_findings_listed_;
  SecurityReport report_;
  size_t line_first_ = 0;  // the current line's first finding in report_.findings
  std::vector<CountedFinding> line_counted_;  // the current line's, not listed
  int line_indent_ = 0;  // bytes of the file line before the text ScanLine scans
  const std::string* forbidding_heading_ = nullptr;
};

}  // namespace

nlohmann::ordered_json SecurityReport::ToJson(std::string_view source_label) const {
  using Json = nlohmann::ordered_json;
  Json out;
  out["source"] = source_label;
  out["scanner"] = "skillstore-security 1.0.0";
  out["risk_score"] = risk_score;
  out["risk_level"] = risk_level;
  Json by_severity = Json::object();
  for (Severity severity :
       {Severity::kCritical, Severity::kHigh, Severity::kMedium, Severity::kLow, Severity::kInfo}) {
    by_severity[std::string(SeverityName(severity))] =
        count_by_severity[static_cast<int>(severity)];
  }
  Json by_rule = Json::object();
  for (const SecurityRule& r : SecurityRules()) {
    const auto it = count_by_rule.find(r.id);
    by_rule[r.id] = it == count_by_rule.end() ? 0 : it->second;
  }
  out["summary"] = {{"findings", total_findings},
                    {"findings_omitted", total_findings - static_cast<int64_t>(findings.size())},
                    {"by_severity", by_severity},
                    {"by_rule", by_rule}};
  Json list = Json::array();
  for (const SecurityFinding& f : findings) {
    Json j;
    j["rule_id"] = f.rule_id;
    j["rule_name"] = f.rule_name;
    j["line"] = f.line;
    j["column"] = f.column;
    j["context"] = f.context;
    if (!f.language.empty()) j["language"] = f.language;
    j["matched_text"] = f.matched_text;
    j["message"] = f.message;
    j["original_severity"] = SeverityName(f.original_severity);
    j["adjusted_severity"] = SeverityName(f.adjusted_severity);
    if (!f.adjustment_reason.empty()) j["adjustment_reason"] = f.adjustment_reason;
    list.push_back(std::move(j));
  }
  out["findings"] = std::move(list);
  return out;
}

absl::StatusOr<SecurityReport> ScanSkill(std::string_view content, const EngineLimits& limits) {
  // Lone CRs read as LF (input_guard.h): without this, everything after the
  // first line of a lone-CR file went unscanned.
  std::string lf_storage;
  content = LoneCrAsLineFeed(content, &lf_storage);
  absl::StatusOr<FrontMatter> fm = ParseFrontMatter(content, limits);
  if (!fm.ok()) return fm.status();
  absl::StatusOr<MarkdownDocument> doc =
      ParseMarkdown(content, fm->body_offset, fm->body_first_line, limits);
  if (!doc.ok()) return doc.status();

  Scanner scanner(limits);
  if (fm->present) {
    // Front matter lines 2 .. body_first_line-2 (between the fences).
    std::string_view yaml = content.substr(0, fm->body_offset);
    scanner.ScanLines(yaml, 1, "front_matter", "", false, 0);
  }
  // Each section's nearest heading of things not to do: its own, else its
  // parent's (parents come first), empty when there is none.
  std::vector<std::string> forbidding(doc->sections.size());
  for (size_t i = 1; i < doc->sections.size(); ++i) {
    const Section& section = doc->sections[i];
    if (RE2::PartialMatch(section.title, ForbiddingHeadingRe())) {
      forbidding[i] = Clip(section.title);
    } else if (section.parent >= 0) {
      forbidding[i] = forbidding[section.parent];
    }
  }
  // Lines of the body in no block: link reference definitions (`[ref]: URL`,
  // which cmark keeps out of the tree, and which give `![x][ref]` its URL),
  // thematic breaks, blank lines. Scanned as prose, so a URL is not out of
  // sight for standing on a line of its own.
  std::vector<bool> in_block(static_cast<size_t>(std::count(content.begin(), content.end(), '\n')) +
                             2);
  for (const MarkdownBlock& b : doc->blocks) {
    for (int line = b.line_start; line <= b.line_end && line < static_cast<int>(in_block.size());
         ++line) {
      in_block[line] = true;
    }
  }
  {
    size_t pos = fm->body_offset;
    for (int line = fm->body_first_line; pos < content.size(); ++line) {
      size_t eol = content.find('\n', pos);
      if (eol == std::string_view::npos) eol = content.size();
      if (!in_block[line]) {
        scanner.ScanLines(content.substr(pos, eol - pos), line, "prose", "", true, 0);
      }
      pos = eol + 1;
    }
  }
  for (const MarkdownBlock& b : doc->blocks) {
    scanner.SetUnderForbiddingHeading(forbidding[b.section]);
    // A paragraph or heading's source starts after its line's markers
    // ("  - ", "> ", "## "), which are all that stands before it on its line.
    size_t indent = 0;
    while (indent < b.offset && content[b.offset - indent - 1] != '\n') ++indent;
    switch (b.kind) {
      case BlockKind::kHeading:
        scanner.ScanLines(b.source, b.line_start, "heading", "", true, indent);
        break;
      case BlockKind::kParagraph: {
        const std::string context = b.in_quote ? "quote" : (b.in_list ? "list_item" : "prose");
        scanner.ScanLines(b.source, b.line_start, context, "", true, indent);
        scanner.ScanAcrossLines(b.source, b.line_start, context, indent);
        break;
      }
      case BlockKind::kTableHeader:
      case BlockKind::kTableRow:
      case BlockKind::kHtml:
        scanner.ScanLines(b.source, b.line_start, "prose", "", true, indent);
        break;
      case BlockKind::kCodeBlock:
        scanner.ScanLines(b.source, b.line_start, "code_block", b.language, false, indent);
        break;
    }
  }
  return scanner.Finish();
}

}  // namespace skillstore
