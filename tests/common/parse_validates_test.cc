// parse over generated SKILL.md variations: for every one, parse either fails
// with a clear error (InvalidArgument / ResourceExhausted with a message) or
// gives a decomposition that the project's own validate accepts, whose
// provenance points at the lines the text came from, and whose bytes are the
// same on a second run (apart from parse_timestamp). The same skill with
// CRLF or lone-CR line ends, or with a byte order mark, must give the same
// decomposition as with LF.
//
// Inputs come from a fixed seed, so a failure names a case that the next run
// reproduces. Everything goes through RunTask, as the worker runs it.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/skill_id.h"
#include "common/task_executor.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace skillstore {
namespace {

using nlohmann::json;

constexpr const char* kKinds[] = {"actions", "rules", "directives"};

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  // mt19937_64's output is fixed by the standard (distributions are not):
  // the same seed gives the same cases with any standard library.
  size_t Below(size_t n) { return static_cast<size_t>(gen_() % n); }
  bool OneIn(size_t n) { return Below(n) == 0; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }

 private:
  std::mt19937_64 gen_;
};

// ---------------------------------------------------------------------------
// Text pieces.

const std::vector<std::string>& Sentences() {
  static const auto* v = new std::vector<std::string>{
      "Run `npm test` before committing any change.",
      "Always check the output of the build for warnings.",
      "If the file already exists, skip it and report the path.",
      "Never delete files outside the project directory.",
      "Use the Read tool to open each file before editing it.",
      "The API returns JSON with a `data` field.",
      "Ask the user to confirm before pushing to the remote.",
      "Write the summary to `REPORT.md` in the repository root.",
      "Prefer small commits with clear messages.",
      "When the tests fail, stop and show the failing test names.",
      "This skill helps you review pull requests.",
      "Validate that the input is a valid YAML document.",
      "Make sure the version number matches the changelog.",
      "Deploy only after the staging checks pass.",
      "使用此技能来审查代码。每次提交前运行测试。",
      "コードを確認してください。",
      "🚀 Ship it when the pipeline is green 🎉.",
      "Ünïcödé text with àccents, ß and Ωmega.",
      "Run `curl -fsSL https://example.com/install.sh | bash` to install.",
      "See [the docs](https://example.com/docs) and ![diagram](https://example.com/d.png \"d\").",
      "Check <https://example.com> and contact admin@example.com.",
      "Escape \\*stars\\* and use **bold**, _italic_ and ~~strike~~ text.",
      "Values like 1,000 or 3.14 or 0x1F matter.",
      "Tabs\tinside\ta sentence.",
      "A line with trailing spaces for a hard break.  ",
      "A backslash hard break follows.\\",
      "&amp; &lt;tag&gt; &#0; &#x1F600; &bogus; entities.",
      "Zero\u200Bwidth and right\u202Eto-left and NBSP\u00A0here.",
      "C1 control\u0085NEL and line\u2028separator.",
      "!!!???...;;;---",
      "1234567890 0987654321",
      "Footnote reference[^1] and [ref link][ref].",
      "<span>inline html</span> stays in the text.",
  };
  return *v;
}

// Values for name / description as raw text (before YAML quoting).
std::vector<std::string> ValueTexts() {
  std::string long_ascii;
  while (long_ascii.size() < 12000) long_ascii += "very long skill name words ";
  std::string long_word(11000, 'x');
  std::string long_cjk;
  while (long_cjk.size() < 30000) long_cjk += "技能名称";
  std::string long_emoji;
  while (long_emoji.size() < 12000) long_emoji += "🚀🔥";
  return {"pdf-processing",
          "My Great Skill",
          "",
          "   ",
          long_ascii,
          long_word,
          long_cjk,
          long_emoji,
          "数据分析",
          "🚀🎉",
          "!!!",
          "...",
          "---",
          "#",
          "12345",
          "3.14",
          "007",
          "v2 api 3000",
          "true",
          "null",
          "a\tb",
          "Über-Skill / C++ & C#",
          "ends with colon:",
          "has: colon inside",
          "quote \" and ' inside",
          "back\\slash",
          "x" + std::string(1, '\x7F') + "y",
          "nel\u0085here",
          std::string(1100, 'n') + "-" + std::string(10, 'm')};
}

std::string DoubleQuoted(const std::string& t) {
  std::string out = "\"";
  for (char c : t) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\t') {
      out += "\\t";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string SingleQuoted(const std::string& t) {
  std::string out = "'";
  for (char c : t) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

bool IsBlank(const std::string& s) { return s.find_first_not_of(" \t") == std::string::npos; }

// What parse reports for a front matter string: blanks at either end removed.
std::string Stripped(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// At most 200 bytes of `s`, for failure messages.
std::string Short(const std::string& s) {
  return s.size() <= 200 ? "'" + s + "'"
                         : "'" + s.substr(0, 200) + "...' (" + std::to_string(s.size()) + " bytes)";
}

// A front matter value: the YAML text after "key:" (may span lines, each
// continuation line indented) and, when certain, the string parse must
// report for it.
struct YamlValue {
  std::string yaml;
  std::optional<std::string> expect;
};

YamlValue MakeValue(Rng& rng) {
  static const std::vector<std::string> texts = ValueTexts();
  const std::string& t = rng.Pick(texts);
  const bool plain_ok = !IsBlank(t) && t.find_first_of("\t\"'\\\x7F") == std::string::npos;
  switch (rng.Below(12)) {
    case 0:
    case 1:
      return {" " + DoubleQuoted(t),
              IsBlank(t) ? std::nullopt : std::optional<std::string>(Stripped(t))};
    case 2:
      return {" " + SingleQuoted(t), IsBlank(t) || t.find('\t') != std::string::npos
                                         ? std::nullopt
                                         : std::optional<std::string>(Stripped(t))};
    case 3:
    case 4:
      return {" " + t, std::nullopt};  // plain: YAML decides (may be an error)
    case 5:
      return {" |\n  " + (plain_ok ? t : std::string("line one")) + "\n  second line\n",
              std::nullopt};
    case 6:
      return {" >-\n  " + (plain_ok ? t : std::string("folded")) + "\n  more text\n", std::nullopt};
    case 7:
      return {rng.Pick(std::vector<std::string>{" 42", " -3.5e2", " 0x1F", " .inf", " 1e400",
                                                " true", " false", " yes", " ~", " null", "",
                                                " 123456789012345678901234567890"}),
              std::nullopt};
    case 8:
      return {rng.Pick(std::vector<std::string>{" [a, b]", " {k: v}", "\n  - one\n  - two\n",
                                                "\n  nested: map\n  other: 1\n", " []", " {}"}),
              std::nullopt};
    case 9:
      // YAML escapes that give control characters, and a lone surrogate.
      return {rng.Pick(std::vector<std::string>{" \"bell\\a and nul\\0 here\"",
                                                " \"esc\\e\\x01\\u0002\"", " \"\\ud800 lone\"",
                                                " \"\\U0001F600 smile\"", " \"line\\nbreak\"",
                                                " \"cr\\rinside\"", " \"\\N\\_\\L\\P\""}),
              std::nullopt};
    case 10:
      return {" &anchor " + std::string(plain_ok ? t : "anchored"), std::nullopt};
    default:
      return {" !!str " + std::string(plain_ok ? t : "tagged"), std::nullopt};
  }
}

struct Generated {
  std::string what;                           // for failure messages
  std::string content;                        // LF line ends: front_matter + body
  std::string front_matter;                   // "---\n...---\n" or empty
  std::optional<std::string> name;            // meta.name parse must give
  std::optional<std::string> description;     // meta.description parse must give
  std::string label = "skills/gen/SKILL.md";  // the task's skill_path
};

// skill_path labels as tasks carry them (any text: the worker passes it on).
const std::vector<std::string>& Labels() {
  static const auto* v = new std::vector<std::string>{"skills/gen/SKILL.md",
                                                      "SKILL.md",
                                                      "",
                                                      "/",
                                                      "a/b/",
                                                      "C:\\skills\\win\\SKILL.md",
                                                      "技能/数据/SKILL.md",
                                                      "../../etc/passwd",
                                                      "x/" + std::string(3000, 'd') + "/SKILL.md",
                                                      "dir with spaces/My Skill.md",
                                                      "skills/v2.0-beta/skill.md"};
  return *v;
}

// Extra front matter lines of published skills (Anthropic-style, MCP-style,
// and the odd YAML feature).
const std::vector<std::string>& ExtraKeys() {
  static const auto* v = new std::vector<std::string>{
      "license: MIT\n",
      "license: Complete terms in LICENSE.txt\n",
      "allowed-tools: Bash, Read, Write\n",
      "allowed-tools: [Bash, Read, \"Bash(git:*)\"]\n",
      "allowed-tools:\n  - Bash\n  - Read\n  - mcp__github__create_issue\n",
      "metadata:\n  version: \"1.0\"\n  author: Example Team\n  tags: [review, git]\n",
      "metadata:\n  a:\n    b:\n      c:\n        d: deep\n",
      "version: 1.2.3\n",
      "version: 2\n",
      "model: claude-3-5-sonnet\n",
      "disable-model-invocation: true\n",
      "argument-hint: [file] [mode]\n",
      "server: github\ntool: create_issue\n",
      "inputSchema:\n  type: object\n  properties:\n    title:\n      type: string\n"
      "    labels:\n      type: array\n      items: {type: string}\n  required: [title]\n",
      "annotations:\n  readOnlyHint: true\n  destructiveHint: false\n",
      "arguments:\n  - name: repo\n    required: true\n  - name: branch\n",
      "base: &b {x: 1, y: [1, 2]}\nderived: *b\n",
      "created: 2024-01-01\n",
      "data: !!binary aGVsbG8=\n",
      "custom: !mytag value\n",
      "1: one\n",
      "~: null key\n",
      "? [complex, key]\n: complex value\n",
      "\"\": empty key\n",
      "név: unicode key\n",
      "true: boolean key\n",
      "# a comment line\n",
      "empty:\n",
      "multi: first line\n  continues here\n",
      "triggers: \"*.md, **/docs/*\"\n",
      "list-of-maps:\n- a: 1\n- b: 2\n",
      "weird: value # trailing comment\n",
      "tabbed:\tvalue\n",
  };
  return *v;
}

std::string MakeFrontMatter(Rng& rng, Generated* g) {
  switch (rng.Below(14)) {
    case 0:
      g->what += " fm=none";
      return "";
    case 1:
      g->what += " fm=empty";
      return "---\n---\n";
    case 2:
      g->what += " fm=blank";
      return "---\n\n   \n---\n";
    case 3:
      g->what += " fm=comment-only";
      return "---\n# nothing here\n---\n";
    case 4:
      g->what += " fm=dots-close";
      return "---\nname: dotted\n...\n";
    default:
      break;
  }
  std::string fm = rng.OneIn(8) ? "---   \n" : "---\n";
  std::vector<std::string> lines;
  if (!rng.OneIn(6)) {
    YamlValue v = MakeValue(rng);
    lines.push_back("name:" + v.yaml + (v.yaml.back() == '\n' ? "" : "\n"));
    g->name = v.expect;
    g->what += " name=" + v.yaml.substr(0, 30);
  }
  if (!rng.OneIn(6)) {
    YamlValue v = MakeValue(rng);
    lines.push_back("description:" + v.yaml + (v.yaml.back() == '\n' ? "" : "\n"));
    g->description = v.expect;
    g->what += " description=" + v.yaml.substr(0, 30);
  }
  for (size_t n = rng.Below(5); n > 0; --n) {
    const std::string& extra = rng.Pick(ExtraKeys());
    lines.push_back(extra);
    g->what += " +" + extra.substr(0, extra.find_first_of(":\n"));
  }
  // Keys in any order (name need not come first).
  for (size_t i = lines.size(); i > 1; --i) std::swap(lines[i - 1], lines[rng.Below(i)]);
  for (const std::string& l : lines) fm += l;
  return fm + "---\n";
}

// ---------------------------------------------------------------------------
// Markdown blocks.

std::string Paragraph(Rng& rng) {
  std::string p;
  for (size_t n = 1 + rng.Below(4); n > 0; --n) {
    if (!p.empty()) p += rng.OneIn(3) ? "\n" : " ";
    std::string sentence = rng.Pick(Sentences());
    // Sometimes wrapped inside the sentence, as editors wrap long lines.
    const size_t space = sentence.find(' ', rng.Below(sentence.size()));
    if (space != std::string::npos && rng.OneIn(3)) sentence[space] = '\n';
    p += sentence;
  }
  return p + "\n";
}

std::string Block(Rng& rng, std::string* what) {
  switch (rng.Below(23)) {
    case 0: {
      *what += " heading";
      static const std::vector<std::string> h = {"#\n",
                                                 "##   \n",
                                                 "# Workflow\n",
                                                 "## 🚀 Deploy\n",
                                                 "###### Rules\n",
                                                 "# `code` *heading*\n",
                                                 "Setext title\n====\n",
                                                 "Setext two\n---\n",
                                                 "#    #\n",
                                                 "# When to use this skill\n"};
      return rng.Pick(h);
    }
    case 1:
    case 2:
    case 3:
      *what += " para";
      return Paragraph(rng);
    case 4:
    case 5: {
      *what += " list";
      std::string out;
      const bool ordered = rng.OneIn(2);
      for (size_t i = 0, n = 1 + rng.Below(8); i < n; ++i) {
        const size_t depth = rng.Below(4);
        out += std::string(depth * (ordered ? 3 : 2), ' ');
        out += ordered ? absl::StrCat(i + 1, ". ") : std::string(rng.OneIn(2) ? "- " : "* ");
        out += rng.OneIn(5) ? std::string("[ ] ") : std::string();
        out += rng.Pick(Sentences()) + "\n";
      }
      return out;
    }
    case 6: {
      // Deep lists and quotes, sometimes past the engine's nesting limit.
      const size_t depth = rng.OneIn(3) ? 200 + rng.Below(120) : 10 + rng.Below(40);
      *what += absl::StrCat(" deep", depth);
      std::string out;
      switch (rng.Below(3)) {
        case 0:
          for (size_t i = 0; i < depth; ++i) {
            out += std::string(2 * i, ' ') + "- Level " + std::to_string(i) + " item.\n";
          }
          return out;
        case 1:
          for (size_t i = 0; i < depth; ++i) out += "- ";
          return out + "compact deep item\n";
        default:
          return std::string(depth, '>') + " deep quote text here.\n";
      }
    }
    case 7:
    case 8: {
      *what += " fence";
      static const std::vector<std::string> langs = {
          "bash",  "sh",  "console",    "python", "",
          "shell", "zsh", "powershell", "json",   "bash {linenos}"};
      const std::string fence = rng.OneIn(3) ? "~~~" : "```";
      std::string out = fence + rng.Pick(langs) + "\n";
      static const std::vector<std::string> cmds = {"npm install",
                                                    "$ git status",
                                                    "sudo apt-get install -y jq",
                                                    "echo 'hi' \\\n  | tee x",
                                                    "cd /tmp && rm -rf build",
                                                    "# comment",
                                                    "",
                                                    "for f in *.md; do wc -l \"$f\"; done",
                                                    "python3 -c 'print(1)'",
                                                    "   ",
                                                    "export TOKEN=abc123",
                                                    "A=1 B=2 \\\n  cd /srv && make",
                                                    "make\\\n  install",
                                                    "sudo \\\n  apt-get update"};
      for (size_t n = rng.Below(6); n > 0; --n) out += rng.Pick(cmds) + "\n";
      if (!rng.OneIn(4)) {
        out += fence + "\n";
      } else {
        *what += "(unclosed)";
      }
      return out;
    }
    case 9: {
      *what += " html";
      static const std::vector<std::string> h = {
          "<div>\n<p>Run the linter first.</p>\n</div>\n",
          "<!-- a comment\nover lines -->\n",
          "<details><summary>More</summary>\n\nHidden text is a sentence.\n\n</details>\n",
          "<script>alert(1)</script>\n",
          "<img src=\"x.png\" alt=\"img\">\n",
          "<table><tr><td>cell</td></tr></table>\n",
          "<?php echo 1; ?>\n",
          "<!DOCTYPE html>\n"};
      return rng.Pick(h);
    }
    case 10:
    case 11: {
      *what += " table";
      std::string out =
          rng.OneIn(4) ? "| |\n|---|\n" : "| Step | What to do | Notes |\n|---|:---:|--:|\n";
      for (size_t n = rng.Below(6); n > 0; --n) {
        if (rng.OneIn(3)) {
          out += "| 1 | x |\n";  // fewer cells than the header
        } else {
          out += "| " + std::to_string(n) + " | " + rng.Pick(Sentences()) +
                 " | see `docs` \\| escaped pipe |\n";
        }
      }
      return out;
    }
    case 12:
      *what += " links";
      return "[link](https://example.com) ![image](https://example.com/i.png)\n\n"
             "[ref]: https://example.com/ref \"Title\"\n[^1]: A footnote sentence.\n";
    case 13: {
      // Huge lines are slow to check (hundreds of statements each): rarer.
      if (!rng.OneIn(3)) {
        *what += " para";
        return Paragraph(rng);
      }
      *what += " huge-line";
      std::string line;
      const size_t target = 40000 + rng.Below(60000);
      switch (rng.Below(3)) {
        case 0:
          while (line.size() < target) line += rng.Pick(Sentences()) + " ";
          break;
        case 1:
          line.assign(target, 'w');  // one huge word
          break;
        default:
          // A huge heading: the skill's name when the front matter has none.
          line = "# ";
          while (line.size() < target) line += "Heading words " + std::to_string(line.size()) + " ";
          break;
      }
      return line + "\n";
    }
    case 14:
      *what += " quote";
      return "> " + rng.Pick(Sentences()) + "\n> " + rng.Pick(Sentences()) +
             "\n>\n> - quoted item\n";
    case 15:
      *what += " rule";
      return rng.Pick(std::vector<std::string>{"---\n", "***\n", "___\n", "- - -\n"});
    case 16:
      *what += " indented-code";
      return "    indented code line\n    second line\n";
    case 17:
      *what += " blank-lines";
      return "\n\n   \n\t\n";
    case 18:
      *what += " fm-in-body";
      return "---\nname: not-front-matter\n---\n";
    case 19:
      *what += " controls";
      return rng.Pick(std::vector<std::string>{
          "Form\ffeed inside a sentence.\n", "\tTab-indented line of text.\n",
          "Delete\x7F byte in text.\n", "Vertical\vtab is refused.\n"});
    case 20:
      *what += " punctuation";
      return rng.Pick(std::vector<std::string>{"!!!\n", "...\n", "1234\n", "- \n", "1.\n",
                                               "* * *\n", "|\n", "`\n", "<\n", "[]\n", "\\\n"});
    case 21: {
      // Constructs the engine guards against (markdown_document.cc): a few
      // are ordinary, many in one paragraph are refused or read as text.
      const size_t n = rng.OneIn(3) ? 20000 : 1 + rng.Below(20);
      *what += absl::StrCat(" hazard", n);
      std::string out;
      switch (rng.Below(5)) {
        case 0:
          for (size_t i = 0; i < n; ++i) out += "![[]()";
          break;
        case 1:
          for (size_t i = 0; i < n; ++i) out += "a <![CDATA[";
          break;
        case 2:
          for (size_t i = 0; i < n; ++i) out += "a <? ";
          break;
        case 3:
          for (size_t i = 0; i < n; ++i) out += "a <!A ";
          break;
        default:
          out = "|";
          for (size_t i = 0; i < n / 20 + 2; ++i) out += " cell text |";
          out += "\n|";
          for (size_t i = 0; i < n / 20 + 2; ++i) out += "---|";
          out += "\n| the first row of the table |\n";
          return out;
      }
      return out + "\n";
    }
    default:
      *what += " task-list";
      return "- [x] Done task sentence.\n- [ ] Open task sentence.\n";
  }
}

// Many lines: distinct sentences (each a statement), repeats (merged into
// the first) and code and data lines (not statements). Distinct statements
// stay under 1000 of each kind; see ManyElementsOfOneKind for more.
std::string ManyLines(Rng& rng, size_t lines) {
  std::string out = "# Reference\n\n";
  for (size_t i = 0; i < lines; ++i) {
    switch (rng.Below(4)) {
      case 0:
        out += "- Item " + std::to_string(i) + " is documented here.\n";
        break;
      case 1:
        out += "- " + rng.Pick(Sentences()) + "\n";
        break;
      case 2:
        out += "| " + std::to_string(i) + " | " + std::to_string(i * 7) + " |\n";
        break;
      default:
        out += "\n";
        break;
    }
  }
  return out;
}

Generated MakeSkill(Rng& rng, size_t index) {
  Generated g;
  g.what = absl::StrCat("case ", index, ":");
  std::string body;
  if (rng.OneIn(50)) {
    g.what += " many-lines";
    body = ManyLines(rng, 1200 + rng.Below(1200));
  } else {
    for (size_t n = rng.Below(12); n > 0; --n) {
      body += Block(rng, &g.what);
      if (!rng.OneIn(4)) body += "\n";
    }
  }
  if (!rng.OneIn(10) && !body.empty() && body.back() == '\n' && rng.OneIn(5)) {
    body.pop_back();  // no final line break
    g.what += " no-final-newline";
  }
  if (rng.OneIn(4)) {
    g.label = rng.Pick(Labels());
    g.what += " label=" + g.label.substr(0, 30);
  }
  g.front_matter = MakeFrontMatter(rng, &g);
  g.content = g.front_matter + body;
  return g;
}

// ---------------------------------------------------------------------------
// Checks.

std::string WithLineEnds(const std::string& lf, const std::string& eol) {
  std::string out;
  out.reserve(lf.size() + lf.size() / 8);
  for (char c : lf) {
    if (c == '\n') {
      out += eol;
    } else {
      out += c;
    }
  }
  return out;
}

// Each line end LF, CR LF or CR, in turn; but never an LF right after a CR
// (the two would be one CR LF line end, not two line ends).
std::string MixedLineEnds(const std::string& lf) {
  static const char* const kEnds[] = {"\n", "\r\n", "\r"};
  std::string out;
  size_t n = 0;
  for (char c : lf) {
    if (c == '\n') {
      const char* end = kEnds[n++ % 3];
      out += !out.empty() && out.back() == '\r' && end[0] == '\n' ? "\r" : end;
    } else {
      out += c;
    }
  }
  return out;
}

// Byte offsets of line starts, with CR LF, LF and lone CR each ending a
// line (as CommonMark and YAML count them).
std::vector<size_t> LineStarts(const std::string& s) {
  std::vector<size_t> starts = {0};
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n'))) {
      starts.push_back(i + 1);
    }
  }
  return starts;
}

// Lines [first, last] of `content`, line ends included.
std::string_view LineSpan(const std::string& content, const std::vector<size_t>& starts, int first,
                          int last) {
  if (first < 1 || last < first || static_cast<size_t>(first) > starts.size()) return {};
  const size_t begin = starts[first - 1];
  const size_t end = static_cast<size_t>(last) < starts.size() ? starts[last] : content.size();
  return std::string_view(content).substr(begin, end - begin);
}

// The output without parse_timestamp's value (the one field allowed to
// differ between runs).
std::string WithoutTimestamp(std::string out) {
  const std::string key = "\"parse_timestamp\":";
  size_t at = out.find(key);
  if (at == std::string::npos) return out;
  size_t open = out.find('"', at + key.size());
  size_t close = out.find('"', open + 1);
  if (open == std::string::npos || close == std::string::npos) return out;
  return out.erase(open + 1, close - open - 1);
}

bool IdCharsOk(const std::string& id) {
  // ^(claude|mcp)__[a-z_]+__[a-z_]+$ without std::regex (which recurses per
  // character): the prefix, then a group and a name of [a-z_]+ split at a
  // "__" (the regex may split at any "__" whose two parts are non-empty).
  std::string rest;
  if (id.rfind("claude__", 0) == 0) {
    rest = id.substr(8);
  } else if (id.rfind("mcp__", 0) == 0) {
    rest = id.substr(5);
  } else {
    return false;
  }
  for (char c : rest) {
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  }
  for (size_t at = rest.find("__", 1); at != std::string::npos; at = rest.find("__", at + 1)) {
    if (at + 2 < rest.size()) return true;
  }
  return false;
}

// The one way parse output may fail the schema, by design: a skill with more
// than 999 elements of one kind keeps them all (nothing is truncated to a
// fixed count), but the schema's ids have three digits, so ids from _1000 on
// cannot match their pattern, and parser_meta says so. True when that is all
// that is wrong with `doc`.
bool OnlyIdsPast999(const json& doc, const json& errors) {
  if (errors.empty() || doc["parser_meta"].value("inconsistency_detected", false) != true) {
    return false;
  }
  for (const json& e : errors) {
    const std::string path = e.value("path", "");
    bool matched = false;
    for (const char* kind : kKinds) {
      const std::string head = std::string("/decomposition/") + kind + "/";
      if (path.rfind(head, 0) != 0 || path.size() < head.size() + 4) continue;
      const std::string rest = path.substr(head.size());
      const size_t slash = rest.find('/');
      if (slash == std::string::npos || rest.substr(slash) != "/id") continue;
      const std::string index = rest.substr(0, slash);
      if (index.find_first_not_of("0123456789") != std::string::npos) continue;
      matched = std::stoul(index) >= 999 && doc["decomposition"][kind].size() > 999;
    }
    if (!matched) return false;
  }
  return true;
}

struct Outcome {
  bool ok = false;
  absl::StatusCode code = absl::StatusCode::kOk;
  json doc;  // parse's output with original_text line ends made LF, and no timestamp
};

// Runs parse on `content` and checks everything that must hold for one
// input; returns what the cross-variant checks compare. The `primary` input
// (LF line ends) is also parsed twice (same bytes), given to validate, and
// its output given back to parse; the variants are compared with it.
Outcome CheckOne(const std::string& what, const std::string& content, const Generated& g,
                 bool primary) {
  Outcome outcome;
  absl::StatusOr<std::string> out = RunTask(TaskKind::kParse, content, g.label);
  if (primary) {
    // analyze reads the same front matter and Markdown: it succeeds when
    // parse does, and fails as clearly when parse fails.
    absl::StatusOr<std::string> report = RunTask(TaskKind::kAnalyze, content, g.label);
    EXPECT_EQ(report.ok(), out.ok())
        << what << ": analyze " << report.status() << ", parse " << out.status();
    if (report.ok()) {
      EXPECT_FALSE(json::parse(*report, nullptr, false).is_discarded()) << what;
    } else {
      EXPECT_EQ(report.status().code(), out.status().code()) << what;
    }
  }
  if (!out.ok()) {
    outcome.code = out.status().code();
    EXPECT_TRUE(out.status().code() == absl::StatusCode::kInvalidArgument ||
                out.status().code() == absl::StatusCode::kResourceExhausted)
        << what << ": " << out.status();
    EXPECT_GE(out.status().message().size(), 10u) << what << ": " << out.status();
    return outcome;
  }
  outcome.ok = true;
  if (primary) {
    // Determinism: a second run gives the same bytes apart from the timestamp.
    absl::StatusOr<std::string> again = RunTask(TaskKind::kParse, content, g.label);
    EXPECT_TRUE(again.ok()) << what << ": " << again.status();
    if (again.ok()) EXPECT_TRUE(WithoutTimestamp(*out) == WithoutTimestamp(*again)) << what;
  }

  json doc = json::parse(*out, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    ADD_FAILURE() << what << ": parse output is not JSON (or not UTF-8)";
    return outcome;
  }
  // The other line-end variants are compared with the LF one instead: equal
  // but for the line ends inside original_text, they are valid with it.
  absl::StatusOr<std::string> verdict = primary ? RunTask(TaskKind::kValidate, *out, "out.json")
                                                : absl::StatusOr<std::string>(R"({"valid": true})");
  EXPECT_TRUE(verdict.ok()) << what << ": " << verdict.status();
  if (verdict.ok()) {
    json v = json::parse(*verdict);
    EXPECT_TRUE(v["valid"] == true || OnlyIdsPast999(doc, v["errors"]))
        << what << ": " << v["errors"].dump().substr(0, 2000);
  }

  if (primary && content.size() < 20000) {
    // A decomposition given back to parse is normalised and validated: it
    // must come back as the same JSON (or, for the one schema exception,
    // be refused with the reason).
    absl::StatusOr<std::string> back = RunTask(TaskKind::kParse, *out, "round-trip.json");
    if (back.ok()) {
      EXPECT_TRUE(json::parse(*back) == doc) << what << ": round trip changed the document";
    } else {
      EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument) << what;
      EXPECT_TRUE(doc["parser_meta"].value("inconsistency_detected", false))
          << what << ": " << back.status();
    }
  }

  const json& meta = doc["meta"];
  const std::string id = meta.value("skill_id", "");
  EXPECT_TRUE(IdCharsOk(id)) << what << ": skill_id " << id.substr(0, 200);
  EXPECT_LE(id.size(), std::string("claude__skill__").size() + kMaxSlugChars) << what;
  if (g.name.has_value()) {
    EXPECT_TRUE(meta.value("name", "") == *g.name)
        << what << ": name " << Short(meta.value("name", "")) << ", want " << Short(*g.name);
  }
  if (g.description.has_value()) {
    EXPECT_TRUE(meta.value("description", "") == *g.description)
        << what << ": description " << Short(meta.value("description", "")) << ", want "
        << Short(*g.description);
  }
  EXPECT_FALSE(meta.value("name", "").empty()) << what;

  // Provenance: every original_text is verbatim within its lines.
  const std::vector<size_t> starts = LineStarts(content);
  for (const char* kind : kKinds) {
    for (json& e : doc["decomposition"][kind]) {
      json& p = e["provenance"];
      const int first = p["location"]["line_start"];
      const int last = p["location"]["line_end"];
      std::string text = p["original_text"];
      EXPECT_FALSE(text.empty()) << what << ": " << e["id"];
      const std::string locator = p["location"]["locator"];
      const std::string line_suffix = "#L" + std::to_string(first);
      EXPECT_TRUE(locator.size() > line_suffix.size() &&
                  locator.compare(locator.size() - line_suffix.size(), line_suffix.size(),
                                  line_suffix) == 0)
          << what << ": locator " << Short(locator);
      EXPECT_NE(LineSpan(content, starts, first, last).find(text), std::string_view::npos)
          << what << ": " << e["id"] << " '" << text.substr(0, 200) << "' not at lines " << first
          << "-" << last;
      // For the comparison across line-end variants.
      std::string lf;
      for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r') {
          lf += '\n';
          if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else {
          lf += text[i];
        }
      }
      p["original_text"] = lf;
    }
  }
  doc["meta"].erase("parse_timestamp");
  outcome.doc = std::move(doc);
  return outcome;
}

// The engine reads front matter of simple "key: value" lines itself and
// leaves the rest to yaml-cpp (front_matter.cc); the two must agree. A nested
// key added at the end sends the same front matter through yaml-cpp: meta,
// the other keys and the repair flag must not change.
void CheckFrontMatterReaders(const Generated& g, const Outcome& lf) {
  if (g.front_matter.size() < 8 || !lf.ok) return;
  const size_t close = g.front_matter.rfind("---\n");
  if (close == std::string::npos || close < 4) return;
  const std::string what = g.what + " [through yaml-cpp]";
  const std::string content = g.front_matter.substr(0, close) + "zz-forced-nested:\n  - x\n" +
                              g.front_matter.substr(close) +
                              g.content.substr(g.front_matter.size());
  const Outcome o = CheckOne(what, content, g, false);
  ASSERT_TRUE(o.ok) << what;
  json od = o.doc["original_definition"];
  EXPECT_EQ(od["zz-forced-nested"], json::array({"x"})) << what;
  od.erase("zz-forced-nested");
  EXPECT_TRUE(od == lf.doc["original_definition"])
      << what << ": " << json::diff(lf.doc["original_definition"], od).dump(1).substr(0, 2000);
  EXPECT_TRUE(o.doc["meta"] == lf.doc["meta"])
      << what << ": " << json::diff(lf.doc["meta"], o.doc["meta"]).dump(1).substr(0, 2000);
  EXPECT_EQ(o.doc["parser_meta"].value("front_matter_repaired", false),
            lf.doc["parser_meta"].value("front_matter_repaired", false))
      << what;
}

void CheckVariants(const Generated& g) {
  const Outcome lf = CheckOne(g.what + " [LF]", g.content, g, true);
  CheckFrontMatterReaders(g, lf);
  struct Variant {
    const char* name;
    std::string content;
  };
  const Variant variants[] = {
      {"CRLF", WithLineEnds(g.content, "\r\n")},
      {"CR", WithLineEnds(g.content, "\r")},
      {"BOM", "\xEF\xBB\xBF" + g.content},
      {"mixed", MixedLineEnds(g.content)},
  };
  for (const Variant& v : variants) {
    const std::string what = g.what + " [" + v.name + "]";
    const Outcome o = CheckOne(what, v.content, g, false);
    EXPECT_EQ(o.ok, lf.ok) << what << ": " << (o.ok ? "parsed" : "failed") << ", LF "
                           << (lf.ok ? "parsed" : "failed");
    if (o.ok && lf.ok) {
      EXPECT_TRUE(o.doc == lf.doc) << what << ": differs from LF\n"
                                   << json::diff(lf.doc, o.doc).dump(1).substr(0, 3000);
    } else {
      EXPECT_EQ(o.code, lf.code) << what;
    }
  }
}

// The input for a failure message: lines cut at 160 bytes, 80 lines at most.
std::string Excerpt(const std::string& content) {
  std::string out;
  size_t pos = 0;
  for (int n = 0; n < 80 && pos < content.size(); ++n) {
    size_t eol = content.find('\n', pos);
    if (eol == std::string::npos) eol = content.size();
    const size_t len = eol - pos;
    out.append(content, pos, std::min<size_t>(len, 160));
    if (len > 160) absl::StrAppend(&out, "... (", len, " bytes)");
    out += '\n';
    pos = eol + 1;
  }
  return out;
}

// SKILLSTORE_PARSE_SEED and SKILLSTORE_PARSE_CASES change the seed and the
// number of cases, to hunt further by hand; ctest runs the fixed default.
uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

TEST(ParseValidatesTest, GeneratedSkills) {
  Rng rng(EnvNumber("SKILLSTORE_PARSE_SEED", 20261126));
  const size_t cases = EnvNumber("SKILLSTORE_PARSE_CASES", 400);
  for (size_t i = 0; i < cases; ++i) {
    const Generated g = MakeSkill(rng, i);
    CheckVariants(g);
    if (::testing::Test::HasFailure()) {
      // One case's failures are enough to act on; the rest would repeat them.
      ADD_FAILURE() << "first failing input (LF, long lines cut):\n" << Excerpt(g.content);
      return;
    }
  }
}

// Layouts of published skills, with what parse must report for them; each
// also goes through every check and line-end variant above.
TEST(ParseValidatesTest, RealSkillLayouts) {
  struct Layout {
    const char* what;
    std::string content;
    std::string name;
    std::string description;
    json original_definition;
  };
  const std::vector<Layout> layouts = {
      {"anthropic-style",
       "---\n"
       "name: pdf-processing\n"
       "description: Extract text and tables from PDF files, fill forms, merge documents. Use "
       "when working with PDF files or when the user mentions PDFs, forms, or document "
       "extraction.\n"
       "license: Complete terms in LICENSE.txt\n"
       "allowed-tools: Read, Bash(python:*), Write\n"
       "metadata:\n  version: \"1.2\"\n  author: example\n  tags: [pdf, documents]\n"
       "---\n\n"
       "# PDF Processing\n\n## Quick start\n\nUse pdfplumber to extract text:\n\n"
       "```python\nimport pdfplumber\nwith pdfplumber.open(\"doc.pdf\") as pdf:\n"
       "    text = pdf.pages[0].extract_text()\n```\n\n"
       "## Requirements\n\nInstall the packages first:\n\n```bash\npip install pypdf "
       "pdfplumber\n```\n\n"
       "- Always check that the file is a PDF before opening it.\n"
       "- Never modify the original file; write to a copy.\n\n"
       "For advanced form filling, see [FORMS.md](FORMS.md).\n",
       "pdf-processing",
       "Extract text and tables from PDF files, fill forms, merge documents. Use when working "
       "with PDF files or when the user mentions PDFs, forms, or document extraction.",
       {{"license", "Complete terms in LICENSE.txt"},
        {"allowed-tools", "Read, Bash(python:*), Write"},
        {"metadata", {{"version", "1.2"}, {"author", "example"}, {"tags", {"pdf", "documents"}}}}}},
      {"folded-description-and-tool-list",
       "---\r\nname: \"Code Reviewer\"\r\ndescription: >\r\n  Reviews pull requests for bugs,\r\n"
       "  style and missing tests.\r\nallowed-tools:\r\n  - Read\r\n  - Grep\r\n"
       "model: claude-sonnet-4\r\n---\r\n# Review\r\n\r\n1. Read the diff.\r\n"
       "2. If a test is missing, ask for one.\r\n",
       "Code Reviewer",
       "Reviews pull requests for bugs, style and missing tests.",
       {{"allowed-tools", {"Read", "Grep"}}, {"model", "claude-sonnet-4"}}},
      {"mcp-tool",
       "---\nname: github_create_issue\ndescription: |\n  Create a new issue in a GitHub "
       "repository.\n  Requires a token with repo scope.\nserver: github\n"
       "inputSchema:\n  type: object\n  properties:\n    owner: {type: string}\n"
       "    title: {type: string, maxLength: 256}\n  required: [owner, title]\n"
       "annotations:\n  readOnlyHint: false\n---\n"
       "## Parameters\n\n| Name | Type | Description |\n|---|---|---|\n"
       "| owner | string | The account that owns the repository |\n"
       "| title | string | The title of the new issue to create |\n\n"
       "Call this tool only when the user asks to file an issue.\n",
       "github_create_issue",
       "Create a new issue in a GitHub repository.\nRequires a token with repo scope.",
       {{"server", "github"},
        {"inputSchema",
         {{"type", "object"},
          {"properties",
           {{"owner", {{"type", "string"}}}, {"title", {{"type", "string"}, {"maxLength", 256}}}}},
          {"required", {"owner", "title"}}}},
        {"annotations", {{"readOnlyHint", false}}}}},
      {"copilot-instructions",
       "---\napplyTo: \"**/*.ts,**/*.tsx\"\n---\n# TypeScript conventions\n\n"
       "Use strict mode. Prefer `const` over `let`.\n\n<!-- generated from "
       ".github/copilot-instructions.md -->\n",
       "TypeScript conventions",
       "Use strict mode. Prefer `const` over `let`.",
       {{"applyTo", "**/*.ts,**/*.tsx"}}},
      {"no-front-matter-bom-crlf",
       "\xEF\xBB\xBF# Git Helper\r\n\r\nHelps with git.\r\n\r\n```console\r\n$ git status\r\n"
       "On branch main\r\n```\r\n",
       "Git Helper", "Helps with git.", json::object()},
  };
  for (const Layout& l : layouts) {
    // The variants are made from the layout with LF line ends and no BOM.
    Generated g;
    g.what = l.what;
    for (size_t i = l.content.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0; i < l.content.size(); ++i) {
      if (l.content[i] != '\r') g.content += l.content[i];
    }
    g.name = l.name;
    g.description = l.description;
    const size_t close = g.content.find("\n---", 4);
    if (g.content.rfind("---", 0) == 0 && close != std::string::npos) {
      g.front_matter = g.content.substr(0, g.content.find('\n', close + 1) + 1);
    }
    CheckVariants(g);
    // And the layout as written.
    absl::StatusOr<std::string> out = RunTask(TaskKind::kParse, l.content, "skills/x/SKILL.md");
    ASSERT_TRUE(out.ok()) << l.what << ": " << out.status();
    const json doc = json::parse(*out);
    EXPECT_EQ(doc["meta"]["name"], l.name) << l.what;
    EXPECT_EQ(doc["meta"]["description"], l.description) << l.what;
    EXPECT_EQ(doc["original_definition"], l.original_definition) << l.what;
    size_t elements = 0;
    for (const char* kind : kKinds) elements += doc["decomposition"][kind].size();
    EXPECT_GE(elements, 2u) << l.what;
  }
}

// The schema's ids have three digits. Up to 999 elements of a kind the
// output is valid; from the 1000th on, nothing is dropped, the ids past _999
// are the only thing validate reports, and parser_meta says why.
TEST(ParseValidatesTest, ElementCountsAroundTheIdLimit) {
  for (int n : {999, 1000, 1500}) {
    std::string md = "# Notes\n\n";
    for (int i = 0; i < n; ++i) md += "- Fact number " + std::to_string(i) + " is recorded here.\n";
    absl::StatusOr<std::string> out = RunTask(TaskKind::kParse, md, "SKILL.md");
    ASSERT_TRUE(out.ok()) << out.status();
    const json doc = json::parse(*out);
    ASSERT_EQ(doc["decomposition"]["directives"].size(), static_cast<size_t>(n));
    absl::StatusOr<std::string> verdict = RunTask(TaskKind::kValidate, *out, "out.json");
    ASSERT_TRUE(verdict.ok()) << verdict.status();
    const json v = json::parse(*verdict);
    if (n <= 999) {
      EXPECT_EQ(v["valid"], true) << v["errors"].dump().substr(0, 500);
      EXPECT_EQ(doc["parser_meta"]["inconsistency_detected"], false);
    } else {
      EXPECT_EQ(v["valid"], false);
      EXPECT_EQ(v["errors"].size(), static_cast<size_t>(n - 999));
      EXPECT_EQ(v["errors"][0]["path"], "/decomposition/directives/999/id");
      EXPECT_TRUE(OnlyIdsPast999(doc, v["errors"]));
    }
  }
}

}  // namespace
}  // namespace skillstore
