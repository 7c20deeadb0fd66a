#include "tiny_skill.h"

#include <cstdio>

namespace skillstore::bench {

std::string TinySkill(long index) {
  char id[32];
  std::snprintf(id, sizeof id, "%09ld", index);
  std::string s;
  s.reserve(kTinySkillBytes);
  s += "---\nname: bench-skill-";
  s += id;
  s += "\ndescription: A tiny benchmark skill.\n---\n# Bench skill ";
  s += id;
  s += "\n\n## Instructions\n- Always list the files first.\n"
       "- Never delete files without asking.\n\nRun `ls -la` to see them.\n";
  // Pad with a prose paragraph so every task has the same size.
  if (s.size() < kTinySkillBytes) {
    std::string pad = "\n";
    while (s.size() + pad.size() + 1 < kTinySkillBytes) pad += 'z';
    pad += '\n';
    s += pad;
  }
  s.resize(kTinySkillBytes, '\n');
  return s;
}

}  // namespace skillstore::bench
