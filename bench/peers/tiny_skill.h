// The task every system in bench/compare.sh moves: a tiny, valid SKILL.md of
// exactly kTinySkillBytes bytes, unique per index (so nothing can be
// deduplicated or cached), parsed by the worker of each system with the same
// skillstore::RunTask(kParse, ...) call.
#ifndef SKILLSTORE_BENCH_PEERS_TINY_SKILL_H_
#define SKILLSTORE_BENCH_PEERS_TINY_SKILL_H_

#include <cstddef>
#include <string>

namespace skillstore::bench {

inline constexpr size_t kTinySkillBytes = 256;

// Front matter, a heading, two rules and a directive, padded to 256 bytes.
std::string TinySkill(long index);

}  // namespace skillstore::bench

#endif  // SKILLSTORE_BENCH_PEERS_TINY_SKILL_H_
