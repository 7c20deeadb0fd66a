// Splits the source of a Markdown paragraph into sentences, and the source
// of a shell code block into commands. Both return spans of the original
// bytes, so every statement's text is a verbatim copy of the file.
#ifndef SKILLSTORE_COMMON_STATEMENT_SPLITTER_H_
#define SKILLSTORE_COMMON_STATEMENT_SPLITTER_H_

#include <string_view>
#include <vector>

namespace skillstore {

struct SourceSpan {
  size_t begin = 0;  // byte offsets into the split text
  size_t end = 0;
};

// Sentences of `paragraph` (Markdown inline source). A sentence ends at
// '.', '!' or '?' (or the CJK full stops) followed by white space, unless the
// period closes a known abbreviation ("e.g."), a number or a single initial.
// Code spans, link targets and double-quoted text closed on its line are
// never split. Spans are trimmed; spans without a letter or digit are dropped.
std::vector<SourceSpan> SplitSentences(std::string_view paragraph);
// The same, written over *out: a caller splitting many paragraphs reuses
// one vector instead of allocating one per paragraph.
void SplitSentences(std::string_view paragraph, std::vector<SourceSpan>* out);

// If `s[i]` opens a Markdown code span (a run of N backticks closed by a run
// of exactly N), the offset just past the closing run; otherwise npos.
size_t CodeSpanEnd(std::string_view s, size_t i);

// CodeSpanEnd for every backtick run of one text, found in one pass from
// its end (a run closes at the next run of the same length). Calling
// CodeSpanEnd for each opener scans to the end of the text for every run
// that never closes, so runs of 1, 2, 3, ... backticks made splitting and
// scanning quadratic (4.5 MB: 13 s). `s` must outlive the index.
class CodeSpanIndex {
 public:
  explicit CodeSpanIndex(std::string_view s);

  // CodeSpanEnd(s, i). Queries must come in increasing order of `i`.
  size_t SpanEnd(size_t i);

 private:
  struct Run {
    size_t start;
    size_t length;
    size_t span_end;  // past the closing run; npos: never closed
  };
  std::string_view s_;
  std::vector<Run> runs_;
  size_t cursor_ = 0;
};

// Commands of a shell code block's source lines (fence lines excluded by the
// caller). Joins backslash continuations, skips comments, blank lines,
// heredoc bodies, bare control keywords / braces, function headers and
// plain variable assignments; strips a leading "$ " / "> " prompt; for
// `console` sessions keeps only prompt lines.
std::vector<SourceSpan> SplitShellCommands(std::string_view code, bool prompts_only);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_STATEMENT_SPLITTER_H_
