#include "common/skill_id.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/text_util.h"

namespace skillstore {

namespace {

// Writes '_' and FNV-1a over the name's bytes as 8 letters 'a'..'p' (one per
// nibble) at `out`, and returns the end: the id may only hold [a-z_], so the
// hash is spelled in letters, not hex.
char* AppendNameHash(std::string_view name, char* out) {
  uint32_t h = 2166136261u;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  *out++ = '_';
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>('a' + (h & 0xF));
    h >>= 4;
  }
  return out + 8;
}

}  // namespace

std::string MakeSkillId(std::string_view name) {
  static constexpr std::string_view kDigits[] = {"zero", "one", "two",   "three", "four",
                                                 "five", "six", "seven", "eight", "nine"};
  // The slug is written through a pointer after the prefix, into a buffer
  // sized for the worst case, then cut to length: this runs once per task,
  // and appending a byte at a time (a capacity check and a call per digit
  // word) cost more than the rest of the meta block.
  constexpr std::string_view kPrefix = "claude__skill__";
  constexpr std::string_view kUnnamed = "unnamed";
  // The writing stops a little past kMaxSlugChars, so the buffer needs that
  // much plus the longest step (a separator, a digit word such as "seven"
  // and its trailing '_': 7 bytes); never more than the name could fill.
  const size_t room = std::min(7 * name.size(), kMaxSlugChars + 2 + 7);
  std::string id(kPrefix.size() + std::max(room, kUnnamed.size() + 9), '\0');
  std::memcpy(id.data(), kPrefix.data(), kPrefix.size());
  char* const slug = id.data() + kPrefix.size();
  char* o = slug;
  bool cut = false;
  for (char raw : name) {
    // Two past the cap: however the rest of the name reads, the finished
    // slug (with at most one trailing '_' taken off) is over the cap.
    if (static_cast<size_t>(o - slug) >= kMaxSlugChars + 2) {
      cut = true;
      break;
    }
    const unsigned char c = static_cast<unsigned char>(raw);
    if (absl::ascii_isalpha(c)) {
      *o++ = static_cast<char>(absl::ascii_tolower(c));
      continue;
    }
    // Every other byte is a separator; runs of them give one '_', and
    // none at the start.
    if (o != slug && o[-1] != '_') *o++ = '_';
    if (absl::ascii_isdigit(c)) {
      const std::string_view word = kDigits[c - '0'];
      std::memcpy(o, word.data(), word.size());
      o += word.size();
      *o++ = '_';
    }
  }
  while (o != slug && o[-1] == '_') --o;
  if (cut || static_cast<size_t>(o - slug) > kMaxSlugChars) {
    // Too long: the head of the slug, '_' and a hash of the whole name, so
    // that names differing only past the cut still get different ids.
    o = slug + kMaxSlugChars - 9;
    while (o != slug && o[-1] == '_') --o;
    o = AppendNameHash(name, o);
  }
  if (o == slug) {
    std::memcpy(o, kUnnamed.data(), kUnnamed.size());
    o += kUnnamed.size();
    // Names in other scripts all end here: without the hash every Chinese
    // or Japanese skill was claude__skill__unnamed.
    if (!name.empty()) o = AppendNameHash(name, o);
  }
  id.resize(static_cast<size_t>(o - id.data()));
  return id;
}

namespace {

// `label` without trailing separators, and where its file name starts.
std::string_view TrimmedLabel(std::string_view label, size_t* file_start) {
  while (!label.empty() && (label.back() == '/' || label.back() == '\\')) label.remove_suffix(1);
  const size_t slash = label.find_last_of("/\\");
  *file_start = slash == std::string_view::npos ? 0 : slash + 1;
  return label;
}

}  // namespace

std::string SkillFolderName(std::string_view label) {
  size_t file_start = 0;
  const std::string_view l = TrimmedLabel(label, &file_start);
  if (file_start == 0 || !EqualsIgnoreCase(l.substr(file_start), "SKILL.md")) return "";
  const std::string_view dir = l.substr(0, file_start - 1);
  const size_t s2 = dir.find_last_of("/\\");
  const std::string_view d = s2 == std::string_view::npos ? dir : dir.substr(s2 + 1);
  if (d.empty() || d == "." || d == "..") return "";
  return std::string(d);
}

std::string NameFromLabel(std::string_view label) {
  if (std::string folder = SkillFolderName(label); !folder.empty()) return folder;
  size_t file_start = 0;
  std::string_view file = TrimmedLabel(label, &file_start).substr(file_start);
  size_t dot = file.rfind('.');
  if (dot != std::string_view::npos && dot > 0) file = file.substr(0, dot);
  return file.empty() ? std::string("unnamed") : std::string(file);
}

std::string ShortName(std::string_view text, size_t max_chars) {
  // No more bytes than max_chars means no more code points either: the
  // text is kept whole, as the loop below would find.
  if (text.size() <= max_chars) return std::string(text);
  // Count code points; remember byte offsets of spaces.
  size_t chars = 0;
  size_t cut = text.size();
  size_t last_space = std::string_view::npos;
  const size_t budget = max_chars >= 3 ? max_chars - 3 : max_chars;
  size_t budget_end = std::string_view::npos;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    if (chars == budget && budget_end == std::string_view::npos) budget_end = i;
    if (chars == max_chars) {
      cut = i;
      break;
    }
    if (c == ' ' && budget_end == std::string_view::npos) last_space = i;
    ++chars;
  }
  if (cut == text.size()) return std::string(text);
  size_t end = (last_space != std::string_view::npos && last_space > budget_end / 2)
                   ? last_space
                   : budget_end;
  std::string out(StripTrailing(text.substr(0, end)));
  while (!out.empty() && (out.back() == ',' || out.back() == ';' || out.back() == ':')) out.pop_back();
  return out + "...";
}

}  // namespace skillstore
