// skillstore-parse-bench: single-thread throughput of the skill engine.
//
// Runs each executor (parse, validate, analyze) over the Skill-0 corpus in
// ../shared (when present) plus the project's fixtures, repeating until a
// minimum time has passed, and prints skills/s and MB/s per executor.
//
//   skillstore-parse-bench [--min-seconds N] [--source-dir DIR] [--only parse|validate|analyze]
//   skillstore-parse-bench --tiny N
//   --compact: results in the compact layout, as skill-worker asks for them
//
// --tiny N parses N distinct 256-byte skills (bench/peers TinySkill, the task
// of bench/compare.sh) and prints the CPU time per task: the engine's fixed
// per-call cost, which dominates tiny tasks.
#include <time.h>

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
#include "tiny_skill.h"

namespace {

namespace fs = std::filesystem;
using skillstore::JsonLayout;
using skillstore::RunTask;
using skillstore::TaskKind;

JsonLayout g_layout = JsonLayout::kIndented;

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
  double seconds = 0;      // wall clock
  double cpu_seconds = 0;  // this thread's CPU time: the figure that holds on a busy machine
};

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

Result Run(TaskKind kind, const std::vector<Input>& inputs, double min_seconds) {
  Result r;
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = ThreadCpuSeconds();
  do {
    for (const Input& in : inputs) {
      auto out = RunTask(kind, in.content, in.label, g_layout);
      if (!out.ok()) ++r.failures;
      r.bytes += in.content.size();
      ++r.tasks;
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.cpu_seconds = ThreadCpuSeconds() - cpu_start;
  } while (r.cpu_seconds < min_seconds);
  return r;
}

void Print(const char* name, const Result& r, size_t distinct) {
  const double mb = r.bytes / (1024.0 * 1024.0);
  std::printf("%-9s %4zu inputs %6zu runs | per CPU second: %8.1f skills/s %7.2f MB/s"
              " | wall: %8.1f skills/s %7.2f MB/s | failures %zu\n",
              name, distinct, r.tasks, r.tasks / r.cpu_seconds, mb / r.cpu_seconds,
              r.tasks / r.seconds, mb / r.seconds, r.failures);
}

// Parses `count` distinct tiny skills (built before timing starts).
int RunTiny(long count) {
  std::vector<std::string> inputs;
  inputs.reserve(count);
  for (long i = 0; i < count; ++i) inputs.push_back(skillstore::bench::TinySkill(i));
  size_t failures = 0;
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = ThreadCpuSeconds();
  for (const std::string& in : inputs) {
    if (!RunTask(TaskKind::kParse, in, "bench/tiny/SKILL.md", g_layout).ok()) ++failures;
  }
  const double cpu = ThreadCpuSeconds() - cpu_start;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("tiny parse: %ld tasks of %zu bytes | CPU %.2f us/task | wall %.2f us/task"
              " | failures %zu\n",
              count, skillstore::bench::kTinySkillBytes, 1e6 * cpu / count, 1e6 * wall / count,
              failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  double min_seconds = 3.0;
  std::string only;
  long tiny = 0;
  fs::path source_dir = SKILLSTORE_SOURCE_DIR;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--min-seconds") == 0 && i + 1 < argc) {
      min_seconds = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else if (std::strcmp(argv[i], "--source-dir") == 0 && i + 1 < argc) {
      source_dir = argv[++i];
    } else if (std::strcmp(argv[i], "--compact") == 0) {
      g_layout = JsonLayout::kCompact;
    } else if (std::strcmp(argv[i], "--tiny") == 0 && i + 1 < argc) {
      tiny = std::atol(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--compact] [--min-seconds N] [--source-dir DIR]"
                   " [--only parse|validate|analyze]\n"
                   "       %s [--compact] --tiny N\n",
                   argv[0], argv[0]);
      return 2;
    }
  }
  if (tiny > 0) return RunTiny(tiny);
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
  std::printf("one thread; each executor repeated for at least %.1f CPU seconds\n", min_seconds);
  if (only.empty() || only == "parse") {
    Print("parse", Run(TaskKind::kParse, skills, min_seconds), skills.size());
  }
  if (only.empty() || only == "validate") {
    Print("validate", Run(TaskKind::kValidate, decompositions, min_seconds), decompositions.size());
  }
  if (only.empty() || only == "analyze") {
    Print("analyze", Run(TaskKind::kAnalyze, skills, min_seconds), skills.size());
  }
  return 0;
}
