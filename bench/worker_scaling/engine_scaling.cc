// skillstore-engine-scaling: the skill engine's own parallel speed-up, with
// no server and no RPC: N threads run RunTask(parse) over the corpus (the
// compact layout skill-worker uses), each taking the next skill from a shared
// counter, as skill-worker's executor threads take the next task.
//
// bench/worker_scaling.sh runs the real thing (a server and one skill-worker
// on the same two cores); this is the ceiling the worker's threads could
// reach if the server ran elsewhere. A ratio well under N here would point
// at contention inside the engine (allocator, shared caches, locks).
//
//   skillstore-engine-scaling [--dir CORPUS_DIR] [--threads N] [--seconds S]
//   (defaults: ../shared/corpus/skill0/skills, 2, 3)
// Prints skills/s for 1 thread and for N threads, and the ratio.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/task_executor.h"

namespace {

namespace fs = std::filesystem;

struct Skill {
  std::string path;
  std::string content;
};

std::vector<Skill> LoadCorpus(const fs::path& dir) {
  std::vector<Skill> skills;
  if (!fs::is_directory(dir)) return skills;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const fs::path file = entry.path() / "SKILL.md";
    if (!fs::is_regular_file(file)) continue;
    std::ifstream in(file, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    skills.push_back({file.string(), buffer.str()});
  }
  return skills;
}

// Skills parsed per second of wall time by `threads` threads in `seconds`;
// adds the skills that failed to *failures.
double Run(const std::vector<Skill>& skills, int threads, double seconds, size_t* failures) {
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::atomic<size_t> failed{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        const Skill& skill = skills[next.fetch_add(1) % skills.size()];
        if (!skillstore::RunTask(skillstore::TaskKind::kParse, skill.content, skill.path,
                                 skillstore::JsonLayout::kCompact)
                 .ok()) {
          failed.fetch_add(1);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& thread : pool) thread.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  *failures += failed.load();
  return static_cast<double>(next.load()) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = fs::path(SKILLSTORE_SOURCE_DIR).parent_path() / "shared/corpus/skill0/skills";
  int threads = 2;
  double seconds = 3;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
      dir = argv[++i];
    } else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--dir CORPUS_DIR] [--threads N] [--seconds S]\n", argv[0]);
      return 2;
    }
  }
  if (threads < 1 || seconds <= 0) {
    std::fprintf(stderr, "--threads must be >= 1 and --seconds > 0\n");
    return 2;
  }
  const std::vector<Skill> skills = LoadCorpus(dir);
  if (skills.empty()) {
    std::fprintf(stderr, "no */SKILL.md under %s\n", dir.c_str());
    return 1;
  }
  size_t failures = 0;
  Run(skills, 1, seconds / 3, &failures);  // warm-up: page cache, allocator arenas
  const double one = Run(skills, 1, seconds, &failures);
  const double many = Run(skills, threads, seconds, &failures);
  std::printf("engine scaling, %zu corpus skills, parse (compact), no server:\n", skills.size());
  std::printf("  1 thread:  %8.1f skills/s\n", one);
  std::printf("  %d threads: %8.1f skills/s\n", threads, many);
  std::printf("  speed-up:  %.2fx%s\n", many / one,
              failures > 0 ? " (some skills failed to parse!)" : "");
  return failures > 0 ? 1 : 0;
}
