// Limits the skill engine enforces on every input, in one place.
//
// They bound time and memory for hostile or broken input (alias bombs, deep
// nesting, huge files). Breaching one gives ResourceExhausted with a message
// that names the limit, so a task fails cleanly instead of hanging a worker.
#ifndef SKILLSTORE_COMMON_ENGINE_LIMITS_H_
#define SKILLSTORE_COMMON_ENGINE_LIMITS_H_

#include <cstddef>

namespace skillstore {

struct EngineLimits {
  // Whole input. The server's content limit is normally lower; this is the
  // engine's own backstop.
  size_t max_input_bytes = 32u << 20;
  // YAML front matter text.
  size_t max_front_matter_bytes = 256u << 10;
  // Nodes produced when the front matter is converted to JSON, counting each
  // alias expansion again: this is what stops "billion laughs" documents.
  size_t max_front_matter_nodes = 50000;
  // Flow-collection / block nesting inside the front matter (yaml-cpp parses
  // recursively, so depth is a stack-depth question).
  size_t max_front_matter_depth = 64;
  // Markdown container nesting (lists, block quotes). cmark-gfm's block parser
  // copes with deep nesting, but work per line grows with depth, and no real
  // skill nests more than a handful of levels.
  size_t max_markdown_depth = 256;
  // cmark-gfm 0.29.0.gfm.6 (Debian 12's) parses a GFM table row in time
  // quadratic in its cells. A document with a line of more '|' than this is
  // parsed without the table extension (its tables read as paragraphs): no
  // real table has hundreds of columns, and 512 cells cost about a
  // millisecond a row.
  size_t max_table_row_cells = 512;
  // The same cmark-gfm keeps a node, a buffer and a copy of the text for
  // every table cell: a 5.5 MB file of small cells took 1.5 GB (a
  // paragraph of the same text: 250 MB), so a hostile 8 MB task could make a
  // worker allocate gigabytes per running task. A document with more '|'
  // than this in all is parsed without the table extension too; a long real
  // table (1,000 rows of 10 columns) has about 11,000.
  size_t max_table_cells = 100000;
  // The same cmark-gfm rescans text for every unclosed "<![CDATA[", "<?"
  // and "<!DECLARATION" (to the end of its paragraph) and walks every
  // unclosed "![" for every link after it in a paragraph. Bytes / steps of
  // that work, estimated before parsing; over this, the input is refused
  // (~0.3 s of cmark's time at the limit).
  size_t max_markdown_rescan = 32u << 20;
  // The same cmark-gfm keeps ~200-250 bytes of nodes per line and per
  // inline-special byte ('!', '*', '_', '`', '[', '<', ...): 8 MB of "!" or
  // of "- a" list items took 1.5-2 GB. Their count (a line weighs 4) is
  // estimated before parsing; over this (~500 MB of nodes) the input is
  // refused. 8 MB of prose comes to ~0.5 million.
  size_t max_markdown_node_estimate = 2000000;
  // Statements in one decomposition. Real skills have tens to hundreds; the
  // limit bounds output size (each element is ~1 KB of JSON) for inputs
  // made of millions of tiny sentences.
  size_t max_elements = 50000;
  // Security findings listed in one analyze report (~400 bytes of JSON
  // each); the report counts and scores the rest. Real skills have tens; a
  // file of nothing but "rm -rf /" has millions.
  size_t max_findings_listed = 5000;
};

// The limits RunTask uses.
const EngineLimits& DefaultEngineLimits();

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_ENGINE_LIMITS_H_
