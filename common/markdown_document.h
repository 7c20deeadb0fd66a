// The Markdown body of a skill as a flat list of blocks, each with its exact
// source span, file line range, enclosing section and container context.
//
// Parsing is done by cmark-gfm (CommonMark + GFM tables) with source
// positions; the tree is walked once, iteratively, and flattened into the
// blocks the parser and the security scanner need. Nothing here classifies.
#ifndef SKILLSTORE_COMMON_MARKDOWN_DOCUMENT_H_
#define SKILLSTORE_COMMON_MARKDOWN_DOCUMENT_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/engine_limits.h"

namespace skillstore {

enum class BlockKind {
  kHeading,
  kParagraph,
  kCodeBlock,
  kTableRow,  // a body row of a GFM table (header rows are kTableHeader)
  kTableHeader,
  kHtml,
};

struct Section {
  std::string title;  // plain text of the heading
  int level = 0;      // 1..6; 0 for the implicit section before any heading
  int parent = -1;    // index of the enclosing section, -1 for none
};

struct MarkdownBlock {
  BlockKind kind = BlockKind::kParagraph;
  // 1-based lines in the whole file (front matter included).
  int line_start = 0;
  int line_end = 0;
  // Verbatim source of the block: for paragraphs and headings from the first
  // content byte to the last; for code blocks and table rows whole lines.
  std::string_view source;
  // Byte offset of `source` within the full content.
  size_t offset = 0;
  int section = 0;        // index into MarkdownDocument::sections
  bool in_list = false;   // inside a list item (at any depth)
  bool in_quote = false;  // inside a block quote (at any depth)
  bool fenced = false;    // code blocks: fenced (``` / ~~~) rather than indented
  std::string language;   // code blocks: first word of the info string, lower case
  std::string text;       // headings: plain text; table rows: cells joined by " | "
  std::vector<std::string> cells;  // table rows: plain text of each cell
  int heading_level = 0;
};

struct MarkdownDocument {
  std::vector<Section> sections;  // sections[0] is the implicit top section
  std::vector<MarkdownBlock> blocks;  // in document order
};

// True when `text` is nothing but markup: HTML/XML tags (`<rules>`,
// `</Steps>`, `<img src="x.png">`, `<Do_Not_Use_When>`) and comments,
// separated by whitespace. Such a line says nothing a reader would do.
bool IsMarkupOnly(std::string_view text);

// Parses `content.substr(body_offset)` (the body after any front matter);
// `body_first_line` is the file line number of the body's first line. Spans
// in the result point into `content`, which must outlive the document.
// Skills written as prompts wrap their instructions in XML-style tags
// (`<rules>` ... `</rules>` with no blank line between). CommonMark makes
// such a tag the start of an HTML block running to the next blank line, which
// would hide every instruction in it; so the tag lines of an HTML block that
// holds text are read as blank lines, and the text between them as Markdown.
// Each such line is still a kHtml block of its own (for the security scan).
// A line with more '|' than limits.max_table_row_cells, or more '|' in all
// than limits.max_table_cells, turns GFM tables off for the document
// (MarkdownHazards in the .cc).
//   ResourceExhausted: container nesting deeper than limits.max_markdown_depth;
//                      text on which cmark-gfm would rescan more than
//                      limits.max_markdown_rescan bytes / steps.
absl::StatusOr<MarkdownDocument> ParseMarkdown(std::string_view content,
                                               size_t body_offset,
                                               int body_first_line,
                                               const EngineLimits& limits);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_MARKDOWN_DOCUMENT_H_
