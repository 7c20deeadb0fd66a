// meta.skill_id and element names: derived strings that must always be valid.
#ifndef SKILLSTORE_COMMON_SKILL_ID_H_
#define SKILLSTORE_COMMON_SKILL_ID_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace skillstore {

// The longest slug MakeSkillId gives. Ids name skills in stores, file names
// and logs, where a few words are enough to tell skills apart; a name of
// thousands of characters (a front matter `name` that is really a
// paragraph, or a huge first heading) must not give an id that long: the
// validator refuses strings over 1024 bytes under a pattern, and file
// systems refuse names over 255 bytes. 128 leaves room for both.
inline constexpr size_t kMaxSlugChars = 128;

// "claude__skill__<slug>" where <slug> is `name` in lower case with every run
// of other characters turned into one "_", digits spelled out ("v2" ->
// "v_two"), and "unnamed" when nothing is left: "unnamed" for an empty name,
// "unnamed_" and 8 letters of a hash of the name otherwise (a name with no
// ASCII letter or digit, say in Chinese or only emoji, so that two such
// skills still get different ids). A slug that would be longer
// than kMaxSlugChars is cut to its first 119 characters (and any trailing
// '_'), then "_" and 8 letters of a hash of the whole name: at most
// kMaxSlugChars, and still different for names that differ only past the
// cut. Always matches ^(claude|mcp)__[a-z_]+__[a-z_]+$.
std::string MakeSkillId(std::string_view name);

// The directory of a ".../<dir>/SKILL.md" label (any case of SKILL.md),
// which is the skill's name to every loader of skills; empty otherwise.
std::string SkillFolderName(std::string_view source_label);

// SkillFolderName when there is one, else the file name without extension
// ("unnamed" for an empty one).
std::string NameFromLabel(std::string_view source_label);

// At most `max_chars` characters (code points) of `text`, cut at a word
// boundary when one exists, with "..." appended when shortened.
std::string ShortName(std::string_view text, size_t max_chars);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_SKILL_ID_H_
