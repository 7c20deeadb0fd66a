// meta.skill_id and element names: derived strings that must always be valid.
#ifndef SKILLSTORE_COMMON_SKILL_ID_H_
#define SKILLSTORE_COMMON_SKILL_ID_H_

#include <string>
#include <string_view>

namespace skillstore {

// "claude__skill__<slug>" where <slug> is `name` in lower case with every run
// of other characters turned into one "_", digits spelled out ("v2" ->
// "v_two"), and "unnamed" when nothing is left. Always matches
// ^(claude|mcp)__[a-z_]+__[a-z_]+$.
std::string MakeSkillId(std::string_view name);

// The skill's name when the front matter has none: the directory of a
// ".../<dir>/SKILL.md" label, else the file name without extension.
std::string NameFromLabel(std::string_view source_label);

// At most `max_chars` characters (code points) of `text`, cut at a word
// boundary when one exists, with "..." appended when shortened.
std::string ShortName(std::string_view text, size_t max_chars);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_SKILL_ID_H_
