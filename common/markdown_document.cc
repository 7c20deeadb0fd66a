#include "common/markdown_document.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/text_util.h"

namespace skillstore {
namespace {

// RAII owners for cmark objects.
struct ParserDeleter {
  void operator()(cmark_parser* p) const { cmark_parser_free(p); }
};
struct NodeDeleter {
  void operator()(cmark_node* n) const { cmark_node_free(n); }
};
struct IterDeleter {
  void operator()(cmark_iter* i) const { cmark_iter_free(i); }
};
using ParserPtr = std::unique_ptr<cmark_parser, ParserDeleter>;
using NodePtr = std::unique_ptr<cmark_node, NodeDeleter>;
using IterPtr = std::unique_ptr<cmark_iter, IterDeleter>;

cmark_syntax_extension* TableExtension() {
  // Registration mutates a global list; do it exactly once, thread-safely.
  static cmark_syntax_extension* table = [] {
    cmark_gfm_core_extensions_ensure_registered();
    return cmark_find_syntax_extension("table");
  }();
  return table;
}

// A per-thread bump allocator for cmark, used for one parse at a time.
//
// cmark allocates every node, text buffer and inline scratch object with
// calloc/realloc and frees them one by one; for skills that was a large
// share of the parse (a task's document is gone when ParseMarkdown
// returns). Arena memory is handed out from big blocks and "freed" all at
// once by Reset. cmark_mem carries no context pointer, so the arena of
// the calling thread is found through a thread_local: nothing is shared
// between threads.
//
// Past kMaxArenaBytes in one parse (only huge or pathological documents),
// allocations come from the heap and are freed for real, so memory stays
// bounded as it was without the arena. Every allocation has a header that
// says which kind it is and how big it is (realloc needs the size).
class CmarkArena {
 public:
  ~CmarkArena() {
    for (Block& b : blocks_) std::free(b.data);
  }

  // Returns all arena memory, keeping the first block for the next parse.
  void Reset() {
    for (size_t i = 1; i < blocks_.size(); ++i) std::free(blocks_[i].data);
    if (blocks_.size() > 1) blocks_.resize(1);
    if (!blocks_.empty()) blocks_[0].used = 0;
    total_ = 0;
    heap_allocations_ = 0;
  }

  // True when every allocation since the last Reset came from the arena:
  // then Reset alone returns all of it, and freeing cmark's objects one by
  // one first (a walk over the whole tree) is wasted work.
  bool HoldsEverything() const { return heap_allocations_ == 0; }

  void* Calloc(size_t count, size_t size) {
    if (size != 0 && count > (SIZE_MAX - 2 * kHeader) / size) std::abort();  // as cmark on OOM
    const size_t bytes = count * size;
    void* p = Allocate(bytes);
    std::memset(p, 0, bytes);
    return p;
  }

  void* Realloc(void* p, size_t size) {
    if (p == nullptr) return Allocate(size);
    Header* h = HeaderOf(p);
    if (h->heap) {
      if (size > SIZE_MAX - kHeader) std::abort();
      void* grown = std::realloc(h, size + kHeader);
      if (grown == nullptr) std::abort();
      h = static_cast<Header*>(grown);
      h->size = size;
      return reinterpret_cast<char*>(h) + kHeader;
    }
    if (size <= h->size) return p;
    void* q = Allocate(size);
    std::memcpy(q, p, h->size);
    return q;
  }

  static void Free(void* p) {
    if (p == nullptr) return;
    Header* h = HeaderOf(p);
    if (h->heap) std::free(h);
    // Arena memory is returned by Reset.
  }

 private:
  struct Header {
    size_t size;
    size_t heap;  // 1: from the heap, freed by Free
  };
  static constexpr size_t kHeader = 16;  // keeps 16-byte alignment
  static_assert(sizeof(Header) <= kHeader, "header fits");
  static constexpr size_t kBlockBytes = 64 << 10;
  static constexpr size_t kMaxArenaBytes = 64 << 20;

  struct Block {
    char* data;
    size_t size;
    size_t used;
  };

  static Header* HeaderOf(void* p) {
    return reinterpret_cast<Header*>(static_cast<char*>(p) - kHeader);
  }

  void* Allocate(size_t bytes) {
    if (bytes > SIZE_MAX - 2 * kHeader) std::abort();
    const size_t need = kHeader + ((bytes + kHeader - 1) & ~(kHeader - 1));
    Header* h = nullptr;
    if (total_ + need > kMaxArenaBytes) {
      h = static_cast<Header*>(std::malloc(kHeader + bytes));
      if (h == nullptr) std::abort();
      h->heap = 1;
      ++heap_allocations_;
    } else {
      if (blocks_.empty() || blocks_.back().size - blocks_.back().used < need) {
        const size_t block = std::max(need, kBlockBytes);
        char* data = static_cast<char*>(std::malloc(block));
        if (data == nullptr) std::abort();
        blocks_.push_back(Block{data, block, 0});
      }
      Block& b = blocks_.back();
      h = reinterpret_cast<Header*>(b.data + b.used);
      b.used += need;
      total_ += need;
      h->heap = 0;
    }
    h->size = bytes;
    return reinterpret_cast<char*>(h) + kHeader;
  }

  std::vector<Block> blocks_;
  size_t total_ = 0;
  size_t heap_allocations_ = 0;  // since the last Reset
};

CmarkArena& ThreadArena() {
  thread_local CmarkArena arena;
  return arena;
}

void* ArenaCalloc(size_t count, size_t size) { return ThreadArena().Calloc(count, size); }
void* ArenaRealloc(void* p, size_t size) { return ThreadArena().Realloc(p, size); }
void ArenaFree(void* p) { CmarkArena::Free(p); }

cmark_mem kArenaMem = {ArenaCalloc, ArenaRealloc, ArenaFree};

// Resets the thread's arena when a parse is over. Declared before the
// parser and tree owners, so it runs after they are freed.
class ArenaScope {
 public:
  ArenaScope() = default;
  ~ArenaScope() { ThreadArena().Reset(); }
  ArenaScope(const ArenaScope&) = delete;
  ArenaScope& operator=(const ArenaScope&) = delete;
};

// Byte offsets of line starts in the body, to turn (line, column) into spans.
class LineIndex {
 public:
  explicit LineIndex(std::string_view body) : body_(body) {
    // Room for lines of 16 bytes on average (capped): small documents then
    // take one allocation instead of one per doubling.
    starts_.reserve(std::min<size_t>(body.size() / 16 + 2, 4096));
    starts_.push_back(0);
    // memchr skips the text between line breaks a word at a time.
    const char* const begin = body.data();
    const char* const end = begin + body.size();
    for (const char* p = begin; p < end;) {
      const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
      if (nl == nullptr) break;
      p = static_cast<const char*>(nl) + 1;
      starts_.push_back(static_cast<size_t>(p - begin));
    }
  }
  int line_count() const { return static_cast<int>(starts_.size()); }
  // Offset of 1-based (line, column); clamped into the body.
  size_t Offset(int line, int column) const {
    if (line < 1) line = 1;
    if (line > line_count()) return body_.size();
    size_t off = starts_[line - 1] + (column > 0 ? column - 1 : 0);
    return std::min(off, LineEnd(line));
  }
  // Offset just past the line's last content byte (before LF / CR LF).
  // Lines are clamped into the body: cmark can report a position one past
  // the last line for blocks that end at end of input.
  size_t LineEnd(int line) const {
    line = Clamp(line);
    size_t end = line < line_count() ? starts_[line] - 1 : body_.size();
    size_t begin = starts_[line - 1];
    if (end > begin && body_[end - 1] == '\r') --end;
    return end;
  }
  size_t LineStart(int line) const { return starts_[Clamp(line) - 1]; }
  int Clamp(int line) const { return line < 1 ? 1 : (line > line_count() ? line_count() : line); }

 private:
  std::string_view body_;
  std::vector<size_t> starts_;
};

// Concatenated literal text of a node's inline descendants (what a reader
// sees, without markup). Iterative: inline nesting can be deep.
std::string PlainText(cmark_node* node) {
  std::string out;
  IterPtr it(cmark_iter_new(node));
  cmark_event_type ev;
  while ((ev = cmark_iter_next(it.get())) != CMARK_EVENT_DONE) {
    if (ev != CMARK_EVENT_ENTER) continue;
    cmark_node* n = cmark_iter_get_node(it.get());
    switch (cmark_node_get_type(n)) {
      case CMARK_NODE_TEXT:
      case CMARK_NODE_CODE:
        if (const char* lit = cmark_node_get_literal(n)) out += lit;
        break;
      case CMARK_NODE_SOFTBREAK:
      case CMARK_NODE_LINEBREAK:
        out += ' ';
        break;
      default:
        break;
    }
  }
  return std::string(Strip(out));
}

// Upper bounds of the work cmark-gfm 0.29.0.gfm.6 does on its quadratic
// paths (several fixed in later releases, which Debian 12 does not ship):
// a few hundred KB of such text held a worker for seconds, and the 32 MB an
// input may have would hold it for hours. Measured in one pass over the body.
struct MarkdownHazards {
  // Most '|' on one line: each table row is parsed by appending its cells to
  // a linked list, walking the list each time.
  size_t max_pipes_per_line = 0;
  // '|' in the whole body: an upper bound of the table cells cmark keeps.
  size_t pipes = 0;
  // For each "<![CDATA[", the bytes up to the next "]]>" or the end of its
  // paragraph (a blank line), which the inline scanner reads looking for it.
  uint64_t cdata_scan = 0;
  // The same for each processing instruction "<?" (up to the next "?>") and
  // each declaration "<!" + an ASCII capital (up to the next '>'): the
  // scanner of inline HTML reads as far every time it fails to find one.
  uint64_t instruction_scan = 0;
  uint64_t declaration_scan = 0;
  // For each link closed in a paragraph, the unclosed image openers "!["
  // before it: cmark walks past each to deactivate earlier link openers.
  uint64_t bracket_walk = 0;
  // Lines (weighing kLineNodes) plus the bytes where cmark's inline parser
  // stops: about the nodes it allocates (EngineLimits).
  uint64_t node_estimate = 0;
};

constexpr uint64_t kLineNodes = 4;  // list item, paragraph, text, line break

// The bytes MeasureHazards looks at; it skips runs of others (almost all of
// a skill) with a table lookup each, so the measure costs ~1% of a parse.
struct HazardBytes {
  bool on[256];
  constexpr HazardBytes() : on() {
    for (char c : {'\n', '|', '\\', '<', '>', ']', '[', '!', '*', '_', '`', '&'}) {
      on[static_cast<unsigned char>(c)] = true;
    }
  }
};
constexpr HazardBytes kHazardBytes;

bool IsBlankLine(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// Openers of one kind still unclosed in the paragraph: each costs a scan
// from its offset to where it is closed (or the paragraph ends).
class UnclosedOpeners {
 public:
  void Open(size_t at) {
    ++open_;
    offset_sum_ += at;
  }
  // Adds the scans of every open opener, ended at `at`, to `*scan`.
  void CloseAt(size_t at, uint64_t* scan) {
    *scan += open_ * at - offset_sum_;
    open_ = 0;
    offset_sum_ = 0;
  }
  bool any() const { return open_ > 0; }

 private:
  uint64_t open_ = 0;
  uint64_t offset_sum_ = 0;
};

MarkdownHazards MeasureHazards(std::string_view body) {
  MarkdownHazards h;
  const char* const p = body.data();
  const size_t n = body.size();
  size_t pipes = 0;
  size_t line_start = 0;
  UnclosedOpeners cdata;
  UnclosedOpeners instructions;
  UnclosedOpeners declarations;
  // Open brackets of the paragraph, 1 for "![" (inline room for ordinary
  // text: no allocation per parse).
  absl::InlinedVector<uint8_t, 32> brackets;
  uint64_t images_open = 0;
  const auto end_paragraph = [&](size_t at) {
    cdata.CloseAt(at, &h.cdata_scan);
    instructions.CloseAt(at, &h.instruction_scan);
    declarations.CloseAt(at, &h.declaration_scan);
  };
  for (size_t i = 0; i < n; ++i) {
    while (i < n && !kHazardBytes.on[static_cast<unsigned char>(p[i])]) ++i;
    if (i == n) break;
    h.node_estimate += p[i] == '\n' ? kLineNodes : 1;
    switch (p[i]) {
      case '\n':
        h.max_pipes_per_line = std::max(h.max_pipes_per_line, pipes);
        pipes = 0;
        // A blank line ends the paragraph (checked only when it matters:
        // each line is looked at once at most).
        if ((cdata.any() || instructions.any() || declarations.any() || !brackets.empty()) &&
            IsBlankLine(body.substr(line_start, i - line_start))) {
          end_paragraph(i);
          brackets.clear();
          images_open = 0;
        }
        line_start = i + 1;
        break;
      case '|':
        ++pipes;
        ++h.pipes;
        break;
      case '\\':
        // An escaped character opens or closes nothing (a line break after
        // the backslash is still one).
        if (i + 1 < n && p[i + 1] != '\n') ++i;
        break;
      case '<':
        if (body.substr(i, 9) == "<![CDATA[") {
          cdata.Open(i);
        } else if (i + 2 < n && p[i + 1] == '!' && absl::ascii_isupper(p[i + 2])) {
          declarations.Open(i);
        } else if (i + 1 < n && p[i + 1] == '?') {
          instructions.Open(i);
        }
        break;
      case '>':
        declarations.CloseAt(i, &h.declaration_scan);
        if (i > 0 && p[i - 1] == '?') instructions.CloseAt(i, &h.instruction_scan);
        break;
      case ']':
        if (body.substr(i, 3) == "]]>") cdata.CloseAt(i, &h.cdata_scan);
        if (!brackets.empty()) {
          const bool image = brackets.back() != 0;
          brackets.pop_back();
          images_open -= image;
          const char next = i + 1 < n ? p[i + 1] : '\0';
          if (!image && (next == '(' || next == '[')) h.bracket_walk += images_open;
        }
        break;
      case '[':
        brackets.push_back(0);
        break;
      case '!':
        if (i + 1 < n && p[i + 1] == '[') {
          brackets.push_back(1);
          ++images_open;
          ++h.node_estimate;
          ++i;
        }
        break;
      default:  // '*', '_', '`', '&': counted above
        break;
    }
  }
  h.max_pipes_per_line = std::max(h.max_pipes_per_line, pipes);
  end_paragraph(n);
  return h;
}

bool IsContainer(cmark_node_type t) {
  return t == CMARK_NODE_LIST || t == CMARK_NODE_ITEM || t == CMARK_NODE_BLOCK_QUOTE;
}

// Length of the tag or comment `s` starts with; 0 when it starts with none.
// Looser than HTML on names (XML-style `Do_Not_Use_When` counts: prompts
// use them), strict on the rest: a name is followed by whitespace, '/' or
// '>', and quoted attribute values may hold '>'.
size_t MarkupLength(std::string_view s) {
  if (StartsWith(s, "<!--")) {
    const size_t end = s.find("-->", 4);
    return end == std::string_view::npos ? 0 : end + 3;
  }
  size_t i = 1;
  if (s.size() < 3 || s[0] != '<') return 0;
  if (s[i] == '/') ++i;
  if (i >= s.size() || !absl::ascii_isalpha(static_cast<unsigned char>(s[i]))) return 0;
  while (i < s.size() && (absl::ascii_isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' ||
                          s[i] == '-' || s[i] == '.')) {
    ++i;
  }
  if (i >= s.size() || !(IsAsciiSpace(s[i]) || s[i] == '/' || s[i] == '>')) return 0;
  char quote = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      return i + 1;
    } else if (c == '<' || c == '\n') {
      return 0;
    }
  }
  return 0;
}

// An HTML block that may wrap Markdown: one opened by a tag (CommonMark's
// kinds 6 and 7), not by a comment, a declaration, or the tags whose content
// is code or raw text (`<pre>`, `<script>`, `<style>`, `<textarea>`).
bool OpensWrappingTag(std::string_view first_line) {
  std::string_view s = StripLeading(first_line);
  if (MarkupLength(s) == 0 || StartsWith(s, "<!")) return false;
  s.remove_prefix(s[1] == '/' ? 2 : 1);
  size_t name_end = 0;
  while (name_end < s.size() && absl::ascii_isalpha(static_cast<unsigned char>(s[name_end]))) {
    ++name_end;
  }
  const std::string name = ToLowerAscii(s.substr(0, name_end));
  return name != "pre" && name != "script" && name != "style" && name != "textarea";
}

bool InBlockQuote(cmark_node* n) {
  for (cmark_node* p = cmark_node_parent(n); p != nullptr; p = cmark_node_parent(p)) {
    if (cmark_node_get_type(p) == CMARK_NODE_BLOCK_QUOTE) return true;
  }
  return false;
}

// The lines (1-based, in the body) to read as blank: the markup-only lines
// of every HTML block that opens with a wrapping tag and also holds text.
// Blocks in block quotes are left alone: their lines carry '>' markers.
std::vector<int> MarkupLinesAroundText(cmark_node* root, const LineIndex& lines,
                                       std::string_view body) {
  std::vector<int> markup_lines;
  IterPtr it(cmark_iter_new(root));
  cmark_event_type ev;
  while ((ev = cmark_iter_next(it.get())) != CMARK_EVENT_DONE) {
    cmark_node* n = cmark_iter_get_node(it.get());
    if (ev != CMARK_EVENT_ENTER || cmark_node_get_type(n) != CMARK_NODE_HTML_BLOCK) continue;
    const int first = lines.Clamp(cmark_node_get_start_line(n));
    const int last = std::max(first, lines.Clamp(cmark_node_get_end_line(n)));
    const auto line_text = [&](int line) {
      return body.substr(lines.LineStart(line), lines.LineEnd(line) - lines.LineStart(line));
    };
    if (!OpensWrappingTag(line_text(first)) || InBlockQuote(n)) continue;
    const size_t before = markup_lines.size();
    bool holds_text = false;
    for (int line = first; line <= last; ++line) {
      const std::string_view text = line_text(line);
      if (IsBlankLine(text)) continue;
      if (IsMarkupOnly(text)) {
        markup_lines.push_back(line);
      } else {
        holds_text = true;
      }
    }
    if (!holds_text) markup_lines.resize(before);
  }
  return markup_lines;
}

// Line breaks (soft or hard) inside a paragraph: its lines, less one.
int CountLineBreaks(cmark_node* paragraph) {
  int breaks = 0;
  IterPtr it(cmark_iter_new(paragraph));
  cmark_event_type ev;
  while ((ev = cmark_iter_next(it.get())) != CMARK_EVENT_DONE) {
    if (ev != CMARK_EVENT_ENTER) continue;
    const cmark_node_type type = cmark_node_get_type(cmark_iter_get_node(it.get()));
    if (type == CMARK_NODE_SOFTBREAK || type == CMARK_NODE_LINEBREAK) ++breaks;
  }
  return breaks;
}

// One blanked tag line as the kHtml block it was part of.
MarkdownBlock MarkupLineBlock(std::string_view content, size_t body_offset, const LineIndex& lines,
                              int line, int line_shift, int section) {
  MarkdownBlock block;
  block.kind = BlockKind::kHtml;
  block.line_start = block.line_end = line + line_shift;
  block.offset = body_offset + lines.LineStart(line);
  block.source = content.substr(block.offset, lines.LineEnd(line) - lines.LineStart(line));
  block.section = section;
  return block;
}

NodePtr RunCmark(std::string_view text, bool tables, ParserPtr* parser) {
  parser->reset(cmark_parser_new_with_mem(CMARK_OPT_SOURCEPOS, &kArenaMem));
  if (*parser == nullptr) return nullptr;
  if (tables) cmark_parser_attach_syntax_extension(parser->get(), TableExtension());
  cmark_parser_feed(parser->get(), text.data(), text.size());
  return NodePtr(cmark_parser_finish(parser->get()));
}

}  // namespace

bool IsMarkupOnly(std::string_view text) {
  text = Strip(text);
  if (text.empty()) return false;
  while (!text.empty()) {
    const size_t length = MarkupLength(text);
    if (length == 0) return false;
    text = StripLeading(text.substr(length));
  }
  return true;
}

absl::StatusOr<MarkdownDocument> ParseMarkdown(std::string_view content,
                                               size_t body_offset,
                                               int body_first_line,
                                               const EngineLimits& limits) {
  std::string_view body = content.substr(std::min(body_offset, content.size()));
  MarkdownDocument doc;
  // A few sections without regrowing (the implicit top one and headings).
  doc.sections.reserve(8);
  doc.sections.push_back(Section{});

  const MarkdownHazards hazards = MeasureHazards(body);
  if (hazards.cdata_scan > limits.max_markdown_rescan) {
    return absl::ResourceExhaustedError(
        absl::StrCat("Markdown has unclosed '<![CDATA[' sections that would be rescanned ",
                     hazards.cdata_scan, " bytes (over the limit of ", limits.max_markdown_rescan,
                     "): pathological input for the Markdown parser"));
  }
  if (hazards.instruction_scan > limits.max_markdown_rescan) {
    return absl::ResourceExhaustedError(
        absl::StrCat("Markdown has unclosed '<?' processing instructions that would be rescanned ",
                     hazards.instruction_scan, " bytes (over the limit of ",
                     limits.max_markdown_rescan, "): pathological input for the Markdown parser"));
  }
  if (hazards.declaration_scan > limits.max_markdown_rescan) {
    return absl::ResourceExhaustedError(
        absl::StrCat("Markdown has unclosed '<!' declarations that would be rescanned ",
                     hazards.declaration_scan, " bytes (over the limit of ",
                     limits.max_markdown_rescan, "): pathological input for the Markdown parser"));
  }
  if (hazards.node_estimate > limits.max_markdown_node_estimate) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "Markdown would need about ", hazards.node_estimate,
        " parser nodes (lines and inline markup characters; the limit is ",
        limits.max_markdown_node_estimate,
        "): too much memory for the Markdown parser; split the skill into smaller files"));
  }
  if (hazards.bracket_walk > limits.max_markdown_rescan) {
    return absl::ResourceExhaustedError(
        absl::StrCat("Markdown has links after many unclosed '![' image openers in one paragraph (",
                     hazards.bracket_walk, " bracket steps, over the limit of ",
                     limits.max_markdown_rescan, "): pathological input for the Markdown parser"));
  }

  const ArenaScope arena_scope;
  const bool tables = hazards.max_pipes_per_line <= limits.max_table_row_cells &&
                      hazards.pipes <= limits.max_table_cells;
  ParserPtr parser;
  NodePtr root = RunCmark(body, tables, &parser);
  if (root == nullptr) return absl::InternalError("cmark-gfm failed to parse");

  const LineIndex lines(body);
  // Tag lines around text become spaces (see the header) and the body is
  // parsed again: byte offsets stay those of `body`, so every span below
  // still points at the file's own text.
  // Unwrapping can show wrappers the pass before could not see: a blank line
  // inside a code fence within `<Good>` ends that HTML block early, the rest
  // of the fence then opened a code block that ran over `<Bad>` ... `</Bad>`,
  // and only the next parse, with the fence whole, finds that block. So the
  // passes go on while they find new tag lines, at most kMaxUnwrapPasses.
  constexpr int kMaxUnwrapPasses = 4;
  std::vector<int> markup_lines;
  std::string unwrapped;
  for (int pass = 0; pass < kMaxUnwrapPasses && body.find('<') != std::string_view::npos; ++pass) {
    const std::vector<int> found = MarkupLinesAroundText(
        root.get(), lines, unwrapped.empty() ? body : std::string_view(unwrapped));
    if (found.empty()) break;
    if (unwrapped.empty()) unwrapped.assign(body);
    for (int line : found) {
      std::fill(unwrapped.begin() + static_cast<std::ptrdiff_t>(lines.LineStart(line)),
                unwrapped.begin() + static_cast<std::ptrdiff_t>(lines.LineEnd(line)), ' ');
    }
    markup_lines.insert(markup_lines.end(), found.begin(), found.end());
    root.reset();
    parser.reset();
    root = RunCmark(unwrapped, tables, &parser);
    if (root == nullptr) return absl::InternalError("cmark-gfm failed to parse");
  }
  std::sort(markup_lines.begin(), markup_lines.end());
  const int line_shift = body_first_line - 1;
  // A block takes a line or more: reserving for about that many (capped)
  // saves moving every block (strings and all) as the vector grows.
  doc.blocks.reserve(std::min(static_cast<size_t>(lines.line_count()), size_t{1024}));

  int depth = 0;
  int list_depth = 0;
  int quote_depth = 0;
  int current_section = 0;
  int table_header_line = 0;  // > 0: the next table header row's true line
  IterPtr it(cmark_iter_new(root.get()));
  cmark_event_type ev;
  while ((ev = cmark_iter_next(it.get())) != CMARK_EVENT_DONE) {
    cmark_node* n = cmark_iter_get_node(it.get());
    const cmark_node_type type = cmark_node_get_type(n);
    if (IsContainer(type)) {
      const int delta = ev == CMARK_EVENT_ENTER ? 1 : -1;
      depth += delta;
      if (type == CMARK_NODE_ITEM) list_depth += delta;
      if (type == CMARK_NODE_BLOCK_QUOTE) quote_depth += delta;
      if (depth > static_cast<int>(limits.max_markdown_depth)) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "Markdown nests lists/block quotes more than ", limits.max_markdown_depth,
            " levels deep (at line ", cmark_node_get_start_line(n) + line_shift, ")"));
      }
      continue;
    }
    if (ev != CMARK_EVENT_ENTER) continue;

    const char* type_name = cmark_node_get_type_string(n);
    const std::string_view tname = type_name ? type_name : "";
    MarkdownBlock block;
    int sl = cmark_node_get_start_line(n);
    int sc = cmark_node_get_start_column(n);
    int el = cmark_node_get_end_line(n);
    int ec = cmark_node_get_end_column(n);
    if (sl < 1 && type == CMARK_NODE_PARAGRAPH) {
      // The text cmark-gfm split off a paragraph whose last line turned out
      // to be a table's header row. It has no position (0.29.0.gfm.6), but
      // it is the table's first lines: the table starts where it did.
      cmark_node* table = cmark_node_next(n);
      const int table_line = table != nullptr ? cmark_node_get_start_line(table) : 0;
      if (table_line >= 1 && std::string_view(cmark_node_get_type_string(table)) == "table") {
        sl = table_line;
        sc = cmark_node_get_start_column(table);
        el = sl + CountLineBreaks(n);
        ec = static_cast<int>(lines.LineEnd(el) - lines.LineStart(el));
        table_header_line = el + 1;
      }
    }
    if (tname == "table_header" && table_header_line > 0) {
      // That table's header row: cmark-gfm gives it the paragraph's line.
      sl = el = table_header_line;
      table_header_line = 0;
    }
    if (sl < 1) continue;
    if (el < sl) el = sl;
    if (sl > lines.line_count()) continue;  // nothing of the block is in the body
    if (el > lines.line_count()) el = lines.line_count();
    if (ec == 0 && el > sl) {  // ends before the line: the previous line ends it
      --el;
      ec = static_cast<int>(lines.LineEnd(el) - lines.LineStart(el));
    }
    block.line_start = sl + line_shift;
    block.line_end = el + line_shift;
    block.in_list = list_depth > 0;
    block.in_quote = quote_depth > 0;
    bool skip_children = true;
    size_t begin = 0, end = 0;

    if (type == CMARK_NODE_HEADING) {
      block.kind = BlockKind::kHeading;
      block.heading_level = cmark_node_get_heading_level(n);
      block.text = PlainText(n);
      begin = lines.Offset(sl, sc);
      end = lines.LineEnd(el);
      Section s;
      s.title = block.text;
      s.level = block.heading_level;
      int parent = current_section;
      while (parent > 0 && doc.sections[parent].level >= s.level) {
        parent = doc.sections[parent].parent;
      }
      s.parent = parent;
      doc.sections.push_back(std::move(s));
      current_section = static_cast<int>(doc.sections.size()) - 1;
    } else if (type == CMARK_NODE_PARAGRAPH) {
      block.kind = BlockKind::kParagraph;
      begin = lines.Offset(sl, sc);
      end = std::min(lines.Offset(el, ec) + 1, lines.LineEnd(el));
      if (end < begin) end = lines.LineEnd(el);
    } else if (type == CMARK_NODE_CODE_BLOCK) {
      block.kind = BlockKind::kCodeBlock;
      int fence_length = 0, fence_offset = 0;
      char fence_char = 0;
      block.fenced = cmark_node_get_fenced(n, &fence_length, &fence_offset, &fence_char) != 0;
      const char* info = cmark_node_get_fence_info(n);
      if (info != nullptr) {
        std::string_view i = StripLeading(info);
        i = i.substr(0, i.find_first_of(" \t{,"));
        block.language = ToLowerAscii(i);
      }
      begin = lines.LineStart(sl);
      end = lines.LineEnd(el);
    } else if (type == CMARK_NODE_HTML_BLOCK) {
      block.kind = BlockKind::kHtml;
      begin = lines.LineStart(sl);
      end = lines.LineEnd(el);
    } else if (tname == "table_row" || tname == "table_header") {
      block.kind = tname == "table_header" ? BlockKind::kTableHeader : BlockKind::kTableRow;
      for (cmark_node* cell = cmark_node_first_child(n); cell != nullptr;
           cell = cmark_node_next(cell)) {
        block.cells.push_back(PlainText(cell));
      }
      for (size_t i = 0; i < block.cells.size(); ++i) {
        if (i > 0) block.text += " | ";
        block.text += block.cells[i];
      }
      block.line_end = block.line_start;
      el = sl;
      begin = lines.LineStart(sl);
      end = lines.LineEnd(sl);
    } else {
      // document, table, inline nodes, thematic breaks: nothing of their own.
      skip_children = false;
    }
    if (!skip_children) continue;
    if (end < begin) end = begin;
    block.offset = body_offset + begin;
    block.source = content.substr(block.offset, end - begin);
    block.section = current_section;
    // Inline children of this block were handled through its span / text;
    // skip them by resetting the iterator to the block's exit event.
    cmark_iter_reset(it.get(), n, CMARK_EVENT_EXIT);
    doc.blocks.push_back(std::move(block));
  }
  if (!markup_lines.empty()) {
    // The blanked tag lines, each a kHtml block in document order, in the
    // section of the block before it.
    std::vector<MarkdownBlock> merged;
    merged.reserve(doc.blocks.size() + markup_lines.size());
    size_t next = 0;
    for (MarkdownBlock& block : doc.blocks) {
      for (; next < markup_lines.size() && markup_lines[next] + line_shift < block.line_start;
           ++next) {
        merged.push_back(MarkupLineBlock(content, body_offset, lines, markup_lines[next],
                                         line_shift, merged.empty() ? 0 : merged.back().section));
      }
      merged.push_back(std::move(block));
    }
    for (; next < markup_lines.size(); ++next) {
      merged.push_back(MarkupLineBlock(content, body_offset, lines, markup_lines[next], line_shift,
                                       merged.empty() ? 0 : merged.back().section));
    }
    doc.blocks = std::move(merged);
  }
  if (ThreadArena().HoldsEverything()) {
    // The arena scope's Reset takes back the iterator, tree and parser
    // (their memory is all arena memory): the release skips cmark's
    // per-node frees, which do nothing here.
    it.release();
    root.release();
    parser.release();
  }
  return doc;
}

}  // namespace skillstore
