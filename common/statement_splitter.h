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
// Code spans and link targets are never split. Spans are trimmed; spans
// without a letter or digit are dropped.
std::vector<SourceSpan> SplitSentences(std::string_view paragraph);
// The same, written over *out: a caller splitting many paragraphs reuses
// one vector instead of allocating one per paragraph.
void SplitSentences(std::string_view paragraph, std::vector<SourceSpan>* out);

// If `s[i]` opens a Markdown code span (a run of N backticks closed by a run
// of exactly N), the offset just past the closing run; otherwise npos.
size_t CodeSpanEnd(std::string_view s, size_t i);

// Commands of a shell code block's source lines (fence lines excluded by the
// caller). Joins backslash continuations, skips comments, blank lines,
// heredoc bodies, bare control keywords / braces, function headers and
// plain variable assignments; strips a leading "$ " / "> " prompt; for
// `console` sessions keeps only prompt lines.
std::vector<SourceSpan> SplitShellCommands(std::string_view code, bool prompts_only);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_STATEMENT_SPLITTER_H_
