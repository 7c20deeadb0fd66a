// RunTask from several threads at once gives each thread the bytes a single
// thread gets. The engine keeps per-thread scratch state (the cmark arena,
// the classifier's word buffers, the timestamp text) and read-only tables
// built once; this checks none of it leaks between threads or tasks.
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/task_executor.h"
#include "gtest/gtest.h"
#include "test_util.h"

namespace skillstore {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string label;
  std::string content;
  JsonLayout layout;
};

// parse_timestamp may differ between runs; everything else may not.
std::string WithoutTimestamp(std::string s) {
  for (const char* key : {"\"parse_timestamp\": \"", "\"parse_timestamp\":\""}) {
    const size_t p = s.find(key);
    if (p == std::string::npos) continue;
    const size_t b = p + std::string_view(key).size();
    s.erase(b, s.find('"', b) - b);
  }
  return s;
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  for (const fs::path& dir :
       {testing::DataDir() / "skills", testing::SourceDir() / "examples/skills"}) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir)) {
      const fs::path p = entry.path() / "SKILL.md";
      if (!fs::is_regular_file(p)) continue;
      const std::string content = testing::ReadFile(p);
      cases.push_back({p.string(), content, JsonLayout::kIndented});
      cases.push_back({p.string(), content, JsonLayout::kCompact});
    }
  }
  // Small skills of different shapes: front matter read directly and
  // through yaml-cpp, a table, a shell block.
  for (int i = 0; i < 20; ++i) {
    const std::string n = std::to_string(i);
    cases.push_back({"tiny-" + n + "/SKILL.md",
                     "---\nname: tiny-" + n + "\ndescription: Does " + n +
                         " things: carefully.\n---\n# Tiny " + n +
                         "\n\n- Always check the input first.\n- Never skip step " + n +
                         ".\n\n| Step | What to do |\n|---|---|\n| one | run the whole suite "
                         "twice |\n\n```bash\nmake test-" + n + "\n```\n",
                     i % 2 ? JsonLayout::kCompact : JsonLayout::kIndented});
    cases.push_back({"nested-" + n + "/SKILL.md",
                     "---\nname: nested-" + n + "\nmetadata:\n  tags: [a, b]\n---\nRun `ls " +
                         n + "` now. Then verify that it worked.\n",
                     JsonLayout::kIndented});
  }
  return cases;
}

TEST(EngineThreadsTest, ConcurrentParsesMatchSingleThreadedOutput) {
  const std::vector<Case> cases = Cases();
  ASSERT_GT(cases.size(), 40u);
  std::vector<std::string> expected;
  for (const Case& c : cases) {
    absl::StatusOr<std::string> out = RunTask(TaskKind::kParse, c.content, c.label, c.layout);
    ASSERT_TRUE(out.ok()) << c.label << ": " << out.status();
    expected.push_back(WithoutTimestamp(*std::move(out)));
  }

  constexpr int kThreads = 4;
  constexpr int kRounds = 5;
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        // Each thread walks the cases from a different start, so different
        // skills are parsed at the same moment.
        for (size_t k = 0; k < cases.size(); ++k) {
          const size_t i = (k + t * 7 + round) % cases.size();
          absl::StatusOr<std::string> out =
              RunTask(TaskKind::kParse, cases[i].content, cases[i].label, cases[i].layout);
          if (!out.ok() || WithoutTimestamp(*std::move(out)) != expected[i]) ++mismatches;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace skillstore
