#include "common/markdown_skill_parser.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/classification_tables.h"
#include "common/decomposition_builder.h"
#include "common/front_matter.h"
#include "common/input_guard.h"
#include "common/markdown_document.h"
#include "common/skill_id.h"
#include "common/statement_splitter.h"
#include "common/text_util.h"

namespace skillstore {
namespace {

// White space runs (including line breaks) become one space; for text in
// block quotes the '>' markers that start continuation lines are dropped.
// The bytes Collapse treats as white space.
struct CollapseSpaceTable {
  bool space[256];
  constexpr CollapseSpaceTable() : space() {
    for (char c : {' ', '\t', '\n', '\r', '\f'}) space[static_cast<unsigned char>(c)] = true;
  }
};
constexpr CollapseSpaceTable kCollapseSpace;

std::string Collapse(std::string_view s, bool in_quote) {
  // Written through a pointer into a buffer of the input's size (the output
  // is never longer): this runs over every byte of every statement.
  std::string out(s.size(), '\0');
  char* const begin = out.data();
  char* o = begin;
  const char* p = s.data();
  const char* const end = p + s.size();
  bool space = false;
  bool line_start = false;
  while (p < end) {
    const char c = *p;
    if (c == '\n') {
      line_start = true;
      space = true;
      ++p;
      continue;
    }
    if (kCollapseSpace.space[static_cast<unsigned char>(c)]) {
      space = true;
      ++p;
      continue;
    }
    if (line_start && in_quote && c == '>') {
      ++p;
      continue;
    }
    line_start = false;
    if (space && o != begin) *o++ = ' ';
    space = false;
    // The rest of the word is copied as it is.
    *o++ = c;
    for (++p; p < end && !kCollapseSpace.space[static_cast<unsigned char>(*p)]; ++p) *o++ = *p;
  }
  out.resize(static_cast<size_t>(o - begin));
  return out;
}

// A sentence of a block quote that starts a line starts with the quote's
// markers ("> Deploy only after ..."): they are markup, and Collapse only
// drops those after a line break inside the text. `text` starts at byte
// `begin` of the paragraph's `source`; returns it without leading markers
// when they are the first thing on their line.
std::string_view WithoutQuoteMarkers(std::string_view source, size_t begin, std::string_view text) {
  if (text.empty() || text[0] != '>') return text;
  for (size_t i = begin; i > 0 && source[i - 1] != '\n'; --i) {
    if (source[i - 1] != ' ' && source[i - 1] != '\t') return text;  // mid-line: a literal '>'
  }
  size_t skip = 0;
  while (skip < text.size() && (text[skip] == '>' || text[skip] == ' ' || text[skip] == '\t')) {
    ++skip;
  }
  return text.substr(skip);
}

// `text` without whole lines of markup before or after it. CommonMark does
// not take every tag for HTML (`<Why_This_Exists>`: '_' is not in HTML
// names); such a tag line then starts or ends a paragraph, and is no part of
// what the statement says.
std::string_view WithoutMarkupLines(std::string_view text) {
  // Sentences are trimmed: a line of markup first starts with '<', one last
  // ends with '>' (checked first: this runs for every sentence).
  while (!text.empty() && text.front() == '<') {
    const size_t newline = text.find('\n');
    if (!IsMarkupOnly(text.substr(0, newline))) break;
    text = newline == std::string_view::npos ? std::string_view()
                                             : StripLeading(text.substr(newline + 1));
  }
  while (!text.empty() && text.back() == '>') {
    const size_t newline = text.rfind('\n');
    if (!IsMarkupOnly(newline == std::string_view::npos ? text : text.substr(newline + 1))) break;
    text = newline == std::string_view::npos ? std::string_view()
                                             : StripTrailing(text.substr(0, newline));
  }
  return text;
}

// `text` without the checkbox of a task-list item ("[ ] ", "[x] "): list
// syntax, not part of the statement (original_text keeps it).
std::string_view WithoutTaskCheckbox(std::string_view text) {
  if (text.size() < 4 || text[0] != '[' || text[2] != ']' ||
      (text[1] != ' ' && text[1] != 'x' && text[1] != 'X') || (text[3] != ' ' && text[3] != '\t')) {
    return text;
  }
  text.remove_prefix(4);
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  return text;
}

int CountNewlines(std::string_view s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// Words of a table row or cell: runs between spaces and pipes, where each
// kana, Hangul or CJK character (a three-byte UTF-8 sequence led by
// 0xE3..0xED) counts as a word of its own, since those scripts put no
// spaces between words ("安装依赖" is a phrase, not one word).
size_t CountWords(std::string_view s) {
  size_t n = 0;
  bool in = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0xE3 && c <= 0xED && i + 2 < s.size()) {
      ++n;
      in = false;
      i += 2;
      continue;
    }
    const bool word = !(c == ' ' || c == '\t' || c == '|');
    if (word && !in) ++n;
    in = word;
  }
  return n;
}

bool IsShellLanguage(std::string_view lang) {
  static const auto* set = [] {
    auto* s = new absl::flat_hash_set<std::string_view>();
    for (const char* l : ShellLanguages()) s->insert(l);
    return s;
  }();
  return set->contains(lang);
}

std::string LocatorFile(std::string_view label) {
  size_t slash = label.find_last_of("/\\");
  std::string_view base = slash == std::string_view::npos ? label : label.substr(slash + 1);
  return base.empty() ? std::string("SKILL.md") : std::string(base);
}

// The program a shell command runs ("sudo apt-get ..." -> "apt-get"). Words
// end at any white space, and the backslash that continues a command on the
// next line is not part of them (a lone one is passed over like "sudo"):
// "A=1 \<line break> cd x" gave the program "\<line break>", and
// "make\<line break> install" the program "make\<line break>" (with CR LF line
// ends other names again).
std::string ProgramOf(std::string_view cmd) {
  for (int guard = 0; guard < 4; ++guard) {
    size_t end = cmd.find_first_of(" \t\r\n\f");
    std::string_view word = cmd.substr(0, end);
    if (end != std::string_view::npos && (cmd[end] == '\r' || cmd[end] == '\n') && !word.empty() &&
        word.back() == '\\') {
      word.remove_suffix(1);
    }
    const bool wrapper = word == "sudo" || word == "env" || word == "time" || word == "exec" ||
                         word == "nohup" || word.empty() ||
                         word.find('=') != std::string_view::npos;
    if (!wrapper || end == std::string_view::npos) return std::string(word);
    cmd = StripLeading(cmd.substr(end));
  }
  return std::string(cmd.substr(0, cmd.find_first_of(" \t\r\n\f")));
}

}  // namespace

ParserCapabilities MarkdownSkillParser::capabilities() const {
  ParserCapabilities c;
  c.front_matter = true;
  c.markdown = true;
  c.shell_commands = true;
  c.provenance = true;
  c.decomposition_input = false;
  return c;
}

ValidationReport MarkdownSkillParser::Validate(const nlohmann::json& decomposition) const {
  return ProjectSchemaValidator().Validate(decomposition);
}

absl::StatusOr<std::string> MarkdownSkillParser::Parse(std::string_view content,
                                                       std::string_view source_label,
                                                       JsonLayout layout) const {
  return ParseAt(content, source_label, NowTimestamp(), layout);
}

absl::StatusOr<std::string> MarkdownSkillParser::ParseAt(
    std::string_view content, std::string_view source_label, const std::string& timestamp,
    JsonLayout layout) const {
  // Lone CRs read as LF (input_guard.h). The copy has the same offsets, so
  // Verbatim maps each span of it back to the file's own bytes: provenance
  // keeps the original text exactly as written.
  const std::string_view original = content;
  std::string lf_storage;
  content = LoneCrAsLineFeed(content, &lf_storage);
  const auto Verbatim = [&](std::string_view span) {
    return original.substr(static_cast<size_t>(span.data() - content.data()), span.size());
  };
  absl::StatusOr<FrontMatter> fm = ParseFrontMatter(content, limits_);
  if (!fm.ok()) return fm.status();
  absl::StatusOr<MarkdownDocument> doc =
      ParseMarkdown(content, fm->body_offset, fm->body_first_line, limits_);
  if (!doc.ok()) return doc.status();

  // Each section's bias: its own heading's, else the nearest ancestor's.
  std::vector<SectionBias> bias(doc->sections.size(), SectionBias::kNone);
  for (size_t i = 1; i < doc->sections.size(); ++i) {
    bias[i] = SectionBiasFor(doc->sections[i].title);
    if (bias[i] == SectionBias::kNone && doc->sections[i].parent >= 0) {
      bias[i] = bias[doc->sections[i].parent];
    }
  }

  DecompositionBuilder builder(LocatorFile(source_label));
  auto TooManyStatements = [&] {
    return absl::ResourceExhaustedError(absl::StrCat(
        "skill yields more than ", limits_.max_elements,
        " statements; the engine's output limit (no real skill comes close)"));
  };
  // Most blocks give one statement or none; long paragraphs give more. The
  // cap keeps a document of a million empty blocks from reserving for them.
  builder.Reserve(std::min<size_t>(doc->blocks.size(), 1024));
  std::string first_paragraph;
  // Texts of doc's blocks, copied only when they name the skill.
  const std::string* first_title = nullptr;    // the first level-1 heading
  const std::string* first_heading = nullptr;  // of any level
  const std::vector<std::string>* table_header = nullptr;
  // Reused by every paragraph (a vector per paragraph was an allocation each).
  std::vector<SourceSpan> sentences;

  for (const MarkdownBlock& block : doc->blocks) {
    if (builder.size() > limits_.max_elements) return TooManyStatements();
    const std::string& section_title = doc->sections[block.section].title;
    const std::string_view section =
        block.section == 0 ? std::string_view("(top)") : std::string_view(section_title);
    const SectionBias section_bias = bias[block.section];
    switch (block.kind) {
      case BlockKind::kHeading:
        if (first_heading == nullptr && !block.text.empty()) first_heading = &block.text;
        if (first_title == nullptr && block.heading_level == 1 && !block.text.empty()) {
          first_title = &block.text;
        }
        break;
      case BlockKind::kHtml:
        break;
      case BlockKind::kTableHeader:
        table_header = &block.cells;
        break;
      case BlockKind::kTableRow: {
        // Rows of single words or numbers are data, not statements; a row
        // with a phrase in it says something ("`clear_selection` |
        // Deselect all").
        if (CountWords(block.text) < 3) break;
        bool phrase = false;
        for (const std::string& cell : block.cells) phrase = phrase || CountWords(cell) >= 2;
        if (!phrase) break;
        Statement s;
        std::string_view src = Strip(block.source);
        s.original_text = Verbatim(src);
        if (table_header != nullptr && table_header->size() == block.cells.size()) {
          for (size_t i = 0; i < block.cells.size(); ++i) {
            if (block.cells[i].empty()) continue;
            if (!s.description.empty()) s.description += "; ";
            s.description += (*table_header)[i].empty()
                                 ? block.cells[i]
                                 : absl::StrCat((*table_header)[i], ": ", block.cells[i]);
          }
        } else {
          s.description = block.text;
        }
        s.line_start = block.line_start;
        s.line_end = block.line_end;
        s.section = section;
        s.classification = ClassifyStatement(block.text, section_bias, StatementKind::kTableRow);
        builder.Add(std::move(s));
        break;
      }
      case BlockKind::kParagraph: {
        SplitSentences(block.source, &sentences);
        if (first_paragraph.empty() && !block.in_list && !sentences.empty()) {
          first_paragraph = Collapse(block.source, block.in_quote);
        }
        // Lines are counted incrementally: spans come in order, and a 20 MB
        // paragraph has hundreds of thousands of them.
        size_t counted_to = 0;
        int line = block.line_start;
        for (const SourceSpan& span : sentences) {
          std::string_view text = block.source.substr(span.begin, span.end - span.begin);
          if (block.in_quote) {
            text = WithoutQuoteMarkers(block.source, span.begin, text);
            if (text.empty()) continue;
          }
          if (!block.in_quote) {
            text = WithoutMarkupLines(text);
            if (text.empty()) continue;
          }
          const size_t at = static_cast<size_t>(text.data() - block.source.data());
          line += CountNewlines(block.source.substr(counted_to, at - counted_to));
          counted_to = at;
          Statement s;
          s.original_text = Verbatim(text);
          s.description = Collapse(
              block.in_list && span.begin == 0 ? WithoutTaskCheckbox(text) : text, block.in_quote);
          s.line_start = line;
          s.line_end = s.line_start + CountNewlines(text);
          s.section = section;
          s.classification = ClassifyStatement(
              text, section_bias,
              block.in_list ? StatementKind::kListItem : StatementKind::kSentence);
          builder.Add(std::move(s));
          if (builder.size() > limits_.max_elements) return TooManyStatements();
        }
        break;
      }
      case BlockKind::kCodeBlock: {
        if (!block.fenced || !IsShellLanguage(block.language)) break;
        // The lines between the fences; an unclosed fence runs to the end.
        std::string_view code = block.source;
        int first_line = block.line_start;
        size_t nl = code.find('\n');
        if (nl == std::string_view::npos) break;
        code.remove_prefix(nl + 1);
        ++first_line;
        size_t last_nl = code.rfind('\n');
        std::string_view last = last_nl == std::string_view::npos ? code : code.substr(last_nl + 1);
        std::string_view last_trim = Strip(last);
        if (!last_trim.empty() && (last_trim[0] == '`' || last_trim[0] == '~') &&
            block.line_end > block.line_start) {
          code = last_nl == std::string_view::npos ? std::string_view() : code.substr(0, last_nl);
        }
        const bool prompts_only = block.language == "console" ||
                                  block.language == "shell-session" ||
                                  block.language == "shellsession" || block.language == "terminal";
        size_t counted_to = 0;
        int line = first_line;
        for (const SourceSpan& span : SplitShellCommands(code, prompts_only)) {
          std::string_view cmd = code.substr(span.begin, span.end - span.begin);
          line += CountNewlines(code.substr(counted_to, span.begin - counted_to));
          counted_to = span.begin;
          Statement s;
          s.original_text = Verbatim(cmd);
          s.description = Collapse(cmd, block.in_quote);
          s.line_start = line;
          s.line_end = s.line_start + CountNewlines(cmd);
          s.section = section;
          s.shell_command = true;
          s.program = ProgramOf(cmd);
          s.classification.category = Category::kAction;
          s.classification.action_type = ActionType::kExternalCall;
          s.classification.confidence = 0.95;
          builder.Add(std::move(s));
          if (builder.size() > limits_.max_elements) return TooManyStatements();
        }
        break;
      }
    }
  }

  SkillMeta meta;
  // The front matter's strings are moved: fm is not read after this.
  if (fm->name.has_value()) {
    meta.name = std::move(*fm->name);
  } else {
    // A title, else the skill's folder (what loaders of skills call it),
    // else any heading: a skill without front matter is often a README
    // whose first "## Why this is deprecated" names no skill.
    std::string folder;
    if (first_title != nullptr) {
      meta.name = *first_title;
    } else if (folder = SkillFolderName(source_label); !folder.empty()) {
      meta.name = std::move(folder);
    } else {
      meta.name = first_heading == nullptr ? NameFromLabel(source_label) : *first_heading;
    }
  }
  meta.description =
      fm->description.has_value() ? std::move(*fm->description) : std::move(first_paragraph);
  meta.source_label = source_label;
  meta.front_matter_repaired = fm->repaired;
  meta.front_matter_fence_not_on_first_line = fm->fence_not_on_first_line;
  meta.front_matter_repeated_keys = std::move(fm->repeated_keys);
  meta.parser_name = name();
  meta.parser_version = version();
  // The front matter's keys are unique: appended, not looked up (a lookup in
  // an ordered_json is a linear scan).
  for (auto it = fm->fields.begin(); it != fm->fields.end(); ++it) {
    if (it.key() == "name" || it.key() == "description") continue;
    if (meta.original_definition.is_null())
      meta.original_definition = nlohmann::ordered_json::object();
    meta.original_definition.get_ref<nlohmann::ordered_json::object_t&>().emplace_back(it.key(),
                                                                                       it.value());
  }
  return builder.Build(meta, timestamp, layout);
}

std::vector<const SkillParser*> RegisteredSkillParsers() {
  static const MarkdownSkillParser* markdown = new MarkdownSkillParser();
  return {markdown};
}

const SkillParser& DefaultSkillParser() {
  // Looked up once: RegisteredSkillParsers builds a vector, and every task
  // asks for the default parser.
  static const SkillParser* const parser = RegisteredSkillParsers().front();
  return *parser;
}

const SkillParser* FindSkillParser(std::string_view name) {
  for (const SkillParser* p : RegisteredSkillParsers()) {
    if (p->name() == name) return p;
  }
  return nullptr;
}

}  // namespace skillstore
