// skillstore-parse-bench: single-thread throughput of the skill engine.
//
// Runs each executor (parse, validate, analyze) over the Skill-0 corpus in
// ../shared (when present) plus the project's fixtures, repeating until a
// minimum time has passed, and prints skills/s and MB/s per executor.
//
//   skillstore-parse-bench [--min-seconds N] [--source-dir DIR]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/task_executor.h"

namespace {

namespace fs = std::filesystem;
using skillstore::RunTask;
using skillstore::TaskKind;

struct Input {
  std::string label;
  std::string content;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void AddSkills(const fs::path& dir, std::vector<Input>* out) {
  if (!fs::is_directory(dir)) return;
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(dir)) {
    fs::path p = entry.path() / "SKILL.md";
    if (fs::is_regular_file(p)) paths.push_back(p);
  }
  std::sort(paths.begin(), paths.end());
  for (const fs::path& p : paths) out->push_back({p.string(), ReadFile(p)});
}

struct Result {
  size_t tasks = 0;
  size_t bytes = 0;
  size_t failures = 0;
  double seconds = 0;
};

Result Run(TaskKind kind, const std::vector<Input>& inputs, double min_seconds) {
  Result r;
  const auto start = std::chrono::steady_clock::now();
  do {
    for (const Input& in : inputs) {
      auto out = RunTask(kind, in.content, in.label);
      if (!out.ok()) ++r.failures;
      r.bytes += in.content.size();
      ++r.tasks;
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  } while (r.seconds < min_seconds);
  return r;
}

void Print(const char* name, const Result& r, size_t distinct) {
  std::printf("%-9s %6zu inputs  %8zu runs  %7.3f s  %9.1f skills/s  %7.2f MB/s  failures %zu\n",
              name, distinct, r.tasks, r.seconds, r.tasks / r.seconds,
              r.bytes / r.seconds / (1024.0 * 1024.0), r.failures);
}

}  // namespace

int main(int argc, char** argv) {
  double min_seconds = 3.0;
  fs::path source_dir = SKILLSTORE_SOURCE_DIR;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--min-seconds") == 0 && i + 1 < argc) {
      min_seconds = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--source-dir") == 0 && i + 1 < argc) {
      source_dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--min-seconds N] [--source-dir DIR]\n", argv[0]);
      return 2;
    }
  }
  std::vector<Input> skills;
  const fs::path corpus = source_dir.parent_path() / "shared/corpus/skill0/skills";
  AddSkills(corpus, &skills);
  const size_t corpus_count = skills.size();
  AddSkills(source_dir / "tests/common/data/skills", &skills);
  if (skills.empty()) {
    std::fprintf(stderr, "no skills found under %s\n", source_dir.c_str());
    return 1;
  }
  size_t total = 0;
  for (const Input& in : skills) total += in.content.size();
  std::printf("inputs: %zu skills (%zu from %s, %zu fixtures), %.2f MB\n", skills.size(),
              corpus_count, corpus_count ? corpus.c_str() : "(no corpus)",
              skills.size() - corpus_count, total / (1024.0 * 1024.0));

  // validate runs over the engine's own parse output of the same skills.
  std::vector<Input> decompositions;
  for (const Input& in : skills) {
    auto out = RunTask(TaskKind::kParse, in.content, in.label);
    if (out.ok()) decompositions.push_back({in.label, *out});
  }
  std::printf("one thread; each executor repeated for at least %.1f s\n", min_seconds);
  Print("parse", Run(TaskKind::kParse, skills, min_seconds), skills.size());
  Print("validate", Run(TaskKind::kValidate, decompositions, min_seconds), decompositions.size());
  Print("analyze", Run(TaskKind::kAnalyze, skills, min_seconds), skills.size());
  return 0;
}
