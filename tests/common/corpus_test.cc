// The "must show" checks over the Skill-0 corpus in ../shared (skipped when
// the corpus is not next to the project):
//  - every corpus skill parses; the output validates against the REFERENCE
//    schema; every element's original_text is verbatim at its lines; two
//    runs give the same bytes apart from parse_timestamp;
//  - validate accepts every reference decomposition and rejects mutated
//    copies with the JSON path of each error.
// The first check also runs over every SKILL.md (or skill.md) under the folder named by
// SKILLSTORE_EXTRA_SKILLS, when set: skills from other sources (see
// docs/skill-engine.md for the published packages it was run on).
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/schema_validator.h"
#include "common/text_util.h"
#include "common/task_executor.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test_util.h"

namespace skillstore {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::ReadFile;
using testing::SharedDir;

std::vector<fs::path> Files(const fs::path& dir, const std::string& pattern_file,
                            const std::string& extension) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!pattern_file.empty()) {
      fs::path p = entry.path() / pattern_file;
      if (fs::is_regular_file(p)) out.push_back(p);
    } else if (entry.path().extension() == extension) {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

class CorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    corpus_ = SharedDir() / "corpus/skill0";
    if (!fs::is_directory(corpus_)) {
      GTEST_SKIP() << "no corpus at " << corpus_ << " (../shared is optional)";
    }
    absl::StatusOr<std::unique_ptr<SchemaValidator>> v = SchemaValidator::Create(
        ReadFile(SharedDir() / "reference/skill0-decomposition.schema.json"));
    ASSERT_TRUE(v.ok()) << v.status();
    reference_ = std::move(*v);
  }
  fs::path corpus_;
  std::unique_ptr<SchemaValidator> reference_;
};

// Parses `path` twice and checks the result: same bytes both times (apart
// from parse_timestamp), valid against `reference`, every element's
// original_text verbatim at its lines; analyze succeeds too. Returns the
// number of elements.
size_t CheckSkill(const fs::path& path, const SchemaValidator& reference) {
  SCOPED_TRACE(path.string());
  const std::string content = ReadFile(path);
  absl::StatusOr<std::string> first = RunTask(TaskKind::kParse, content, path.string());
  EXPECT_TRUE(first.ok()) << first.status();
  if (!first.ok()) return 0;
  absl::StatusOr<std::string> second = RunTask(TaskKind::kParse, content, path.string());
  EXPECT_TRUE(second.ok()) << second.status();
  if (!second.ok()) return 0;
  json a = json::parse(*first);
  json b = json::parse(*second);
  a["meta"].erase("parse_timestamp");
  b["meta"].erase("parse_timestamp");
  EXPECT_EQ(a.dump(), b.dump()) << "output differs between runs";

  json doc = json::parse(*first);
  ValidationReport report = reference.Validate(doc);
  EXPECT_TRUE(report.valid) << report.ToJson().dump(2);

  size_t elements = 0;
  for (const char* kind : {"actions", "rules", "directives"}) {
    for (const json& e : doc["decomposition"][kind]) {
      ++elements;
      const json& p = e["provenance"];
      const int line_start = p["location"]["line_start"];
      const int line_end = p["location"]["line_end"];
      const std::string text = p["original_text"];
      EXPECT_FALSE(text.empty()) << e["id"];
      EXPECT_NE(testing::Lines(content, line_start, line_end).find(text), std::string::npos)
          << e["id"] << " '" << text << "' is not at lines " << line_start << "-" << line_end;
      EXPECT_EQ(p["location"]["locator"],
                path.filename().string() + "#L" + std::to_string(line_start));
      EXPECT_LE(e["name"].get<std::string>().size(), 80u * 4);  // 80 code points
    }
  }
  absl::StatusOr<std::string> analysis = RunTask(TaskKind::kAnalyze, content, path.string());
  EXPECT_TRUE(analysis.ok()) << analysis.status();
  return elements;
}

TEST_F(CorpusTest, EverySkillParsesValidatesAndTracesToItsSource) {
  const std::vector<fs::path> skills = Files(corpus_ / "skills", "SKILL.md", "");
  EXPECT_EQ(skills.size(), 164u);
  size_t elements = 0;
  for (const fs::path& path : skills) elements += CheckSkill(path, *reference_);
  EXPECT_GT(elements, skills.size());
  std::printf("corpus: %zu skills, %zu elements, all valid against the reference schema\n",
              skills.size(), elements);
}

TEST_F(CorpusTest, ExtraSkillsFromOtherSources) {
  const char* extra = std::getenv("SKILLSTORE_EXTRA_SKILLS");
  if (extra == nullptr || *extra == '\0') {
    GTEST_SKIP() << "set SKILLSTORE_EXTRA_SKILLS=DIR to check every SKILL.md (or skill.md) under DIR";
  }
  std::vector<fs::path> skills;
  for (const auto& entry : fs::recursive_directory_iterator(extra)) {
    // Some packages spell it skill.md.
    if (entry.is_regular_file() && EqualsIgnoreCase(entry.path().filename().string(), "SKILL.md")) {
      skills.push_back(entry.path());
    }
  }
  std::sort(skills.begin(), skills.end());
  ASSERT_FALSE(skills.empty()) << "no SKILL.md under " << extra;
  size_t elements = 0;
  for (const fs::path& path : skills) elements += CheckSkill(path, *reference_);
  std::printf("extra skills: %zu skills, %zu elements\n", skills.size(), elements);
}

TEST_F(CorpusTest, ValidateAcceptsEveryReferenceDecomposition) {
  const std::vector<fs::path> files = Files(corpus_ / "parsed", "", ".json");
  EXPECT_EQ(files.size(), 196u);
  for (const fs::path& path : files) {
    SCOPED_TRACE(path.string());
    absl::StatusOr<std::string> out = RunTask(TaskKind::kValidate, ReadFile(path), path.string());
    ASSERT_TRUE(out.ok()) << out.status();
    json r = json::parse(*out);
    EXPECT_EQ(r["valid"], true) << r.dump(2);
  }
}

// Applies `mutate` to every reference decomposition and expects validate to
// reject it with an error at `path_of(doc)`.
void ExpectRejected(const std::vector<fs::path>& files, const char* what,
                    const std::function<std::string(json&)>& mutate) {
  size_t checked = 0;
  for (const fs::path& path : files) {
    json doc = json::parse(ReadFile(path));
    const std::string want_path = mutate(doc);
    if (want_path.empty()) continue;  // mutation does not apply to this file
    ++checked;
    absl::StatusOr<std::string> out = RunTask(TaskKind::kValidate, doc.dump(), path.string());
    ASSERT_TRUE(out.ok()) << out.status();
    json r = json::parse(*out);
    EXPECT_EQ(r["valid"], false) << what << " " << path;
    std::set<std::string> paths;
    for (const json& e : r["errors"]) paths.insert(e["path"].get<std::string>());
    EXPECT_TRUE(paths.count(want_path)) << what << " " << path << ": want " << want_path
                                        << " in " << r.dump(2);
  }
  EXPECT_GT(checked, 100u) << what;
}

TEST_F(CorpusTest, ValidateRejectsMutatedCopiesWithPaths) {
  const std::vector<fs::path> files = Files(corpus_ / "parsed", "", ".json");
  ExpectRejected(files, "missing required field", [](json& doc) -> std::string {
    doc["meta"].erase("skill_id");
    return "/meta/skill_id";
  });
  ExpectRejected(files, "wrong enum", [](json& doc) -> std::string {
    doc["meta"]["skill_layer"] = "desktop_widget";
    return "/meta/skill_layer";
  });
  ExpectRejected(files, "bad id pattern", [](json& doc) -> std::string {
    for (const char* kind : {"actions", "rules", "directives"}) {
      json& list = doc["decomposition"][kind];
      if (list.is_array() && !list.empty()) {
        list[0]["id"] = "item-one";
        return std::string("/decomposition/") + kind + "/0/id";
      }
    }
    return "";
  });
  ExpectRejected(files, "wrong enum in an element", [](json& doc) -> std::string {
    json& list = doc["decomposition"]["directives"];
    if (!list.is_array() || list.empty()) return "";
    list[0]["directive_type"] = "vibe";
    return "/decomposition/directives/0/directive_type";
  });
}

}  // namespace
}  // namespace skillstore
