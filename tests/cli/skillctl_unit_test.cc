// Unit tests of skillctl's building blocks: file discovery and output names,
// idempotency keys, tables and text formats, enum names, exit codes and the
// wording of connection errors.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/client.h"
#include "cli/discovery.h"
#include "cli/exit_codes.h"
#include "cli/idempotency.h"
#include "cli/progress_view.h"
#include "cli/table.h"
#include "cli/task_names.h"
#include "cli/text_format.h"
#include "gtest/gtest.h"
#include "process.h"

namespace skillstore::cli {
namespace {

namespace fs = std::filesystem;
using skillstore::testing::TempDir;

void Touch(const std::string& path, const std::string& content = "x") {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << content;
}

TEST(DiscoveryTest, FindsSkillFilesRecursivelyAndSkipsHiddenFolders) {
  TempDir dir;
  Touch(dir.File("b/SKILL.md"));
  Touch(dir.File("a/deep/er/SKILL.md"));
  Touch(dir.File("a/README.md"));
  Touch(dir.File(".git/x/SKILL.md"));
  Touch(dir.File("c/notes.json"));
  auto found = DiscoverInputs({dir.path()}, v1::TASK_TYPE_PARSE);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0], dir.File("a/deep/er/SKILL.md"));
  EXPECT_EQ((*found)[1], dir.File("b/SKILL.md"));

  auto json = DiscoverInputs({dir.path()}, v1::TASK_TYPE_VALIDATE);
  ASSERT_TRUE(json.ok());
  ASSERT_EQ(json->size(), 1u);
  EXPECT_EQ((*json)[0], dir.File("c/notes.json"));
}

TEST(DiscoveryTest, NamedFilesAreTakenAsTheyAreAndDeduplicated) {
  TempDir dir;
  Touch(dir.File("odd-name.md"));
  auto found = DiscoverInputs({dir.File("odd-name.md"), dir.File("odd-name.md")},
                              v1::TASK_TYPE_ANALYZE);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->size(), 1u);
}

TEST(DiscoveryTest, MissingPathIsNotFoundAndNamesThePath) {
  auto found = DiscoverInputs({"/no/such/skills"}, v1::TASK_TYPE_PARSE);
  ASSERT_TRUE(absl::IsNotFound(found.status()));
  EXPECT_NE(found.status().message().find("/no/such/skills"), std::string::npos);
}

// A path that exists but cannot be opened says why, not "no such file".
TEST(DiscoveryTest, ASymlinkLoopSaysSo) {
  TempDir dir;
  std::filesystem::create_symlink(dir.File("b.md"), dir.File("a.md"));
  std::filesystem::create_symlink(dir.File("a.md"), dir.File("b.md"));
  auto found = DiscoverInputs({dir.File("a.md")}, v1::TASK_TYPE_PARSE);
  ASSERT_FALSE(found.ok());
  EXPECT_NE(found.status().message().find("symbolic links"), std::string::npos) << found.status();
  EXPECT_EQ(found.status().message().find("no such file"), std::string::npos) << found.status();
}

TEST(OutputNameTest, DerivesNamesFromSkillPaths) {
  EXPECT_EQ(OutputBaseName("examples/skills/code-review/SKILL.md"), "code-review");
  EXPECT_EQ(OutputBaseName("x/skill.md"), "x");
  EXPECT_EQ(OutputBaseName("out/pdf-skill.json"), "pdf");
  EXPECT_EQ(OutputBaseName("notes.md"), "notes");
  EXPECT_EQ(OutputBaseName("a b/SKILL.md"), "a_b");
  EXPECT_EQ(OutputBaseName("SKILL.md"), "");
  EXPECT_EQ(OutputSuffix(v1::TASK_TYPE_PARSE), "-skill.json");
  EXPECT_EQ(OutputSuffix(v1::TASK_TYPE_VALIDATE), "-validation.json");
  EXPECT_EQ(OutputSuffix(v1::TASK_TYPE_ANALYZE), "-security.json");
}

TEST(OutputNameTest, UniqueNamerNumbersCollisions) {
  UniqueNamer namer;
  EXPECT_EQ(namer.Claim("a", "-skill.json"), "a-skill.json");
  EXPECT_EQ(namer.Claim("a", "-skill.json"), "a-2-skill.json");
  EXPECT_EQ(namer.Claim("a", "-security.json"), "a-security.json");
  EXPECT_EQ(namer.Claim("a-2", "-skill.json"), "a-2-2-skill.json");
  EXPECT_EQ(namer.Claim("a", "-skill.json"), "a-3-skill.json");
}

TEST(IdempotencyTest, Sha256MatchesKnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(IdempotencyTest, KeyDependsOnTypeAndContent) {
  const std::string key = IdempotencyKey(v1::TASK_TYPE_PARSE, "abc");
  EXPECT_EQ(key, "parse:sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_NE(key, IdempotencyKey(v1::TASK_TYPE_ANALYZE, "abc"));
  EXPECT_NE(key, IdempotencyKey(v1::TASK_TYPE_PARSE, "abd"));
}

TEST(TableTest, AlignsColumnsAndDoesNotPadTheLastOne) {
  Table table({"ID", "STATUS", "PATH"});
  table.AlignRight(0);
  table.AddRow({"1", "completed", "a/SKILL.md"});
  table.AddRow({"12", "failed", "b"});
  std::ostringstream out;
  table.Print(out);
  EXPECT_EQ(out.str(),
            "ID  STATUS     PATH\n"
            " 1  completed  a/SKILL.md\n"
            "12  failed     b\n");
}

TEST(TableTest, CellsFromTheServerCannotBreakLinesOrReachTheTerminal) {
  Table table({"WORKER", "PATH"});
  // A newline, an ANSI colour, an OSC window title, a C1 control, a
  // right-to-left override; and UTF-8 that is kept.
  table.AddRow({"w\n2", "\x1b[31mred\x1b]0;title\x07 \xc2\x9b \xe2\x80\xaegnp.exe caf\xc3\xa9"});
  std::ostringstream out;
  table.Print(out);
  EXPECT_EQ(out.str(),
            "WORKER  PATH\n"
            "w\\x0a2  \\x1b[31mred\\x1b]0;title\\x07 \\x9b \\u{202e}gnp.exe caf\xc3\xa9\n");
}

TEST(TextFormatTest, Durations) {
  EXPECT_EQ(FormatDuration(0.42), "0.4s");
  EXPECT_EQ(FormatDuration(42), "42s");
  EXPECT_EQ(FormatDuration(185), "3m05s");
  EXPECT_EQ(FormatDuration(7800), "2h10m");
  EXPECT_EQ(FormatDuration(-1), "-");
  EXPECT_EQ(FormatTimestamp(0), "-");
  EXPECT_EQ(FormatTimestamp(1700000000000), "2023-11-14 22:13:20Z");
}

TEST(TextFormatTest, BarIsClamped) {
  EXPECT_EQ(Bar(0.5, 4), "[##..]");
  EXPECT_EQ(Bar(2.0, 4), "[####]");
  EXPECT_EQ(Bar(-1, 4), "[....]");
}

TEST(ProgressViewTest, LinesShowCountsAndDone) {
  v1::Progress p;
  p.set_total(10);
  p.set_completed(8);
  p.set_failed(2);
  p.set_active_workers(3);
  EXPECT_TRUE(Idle(p));
  EXPECT_NE(ProgressBarLine(p).find("100%"), std::string::npos);
  EXPECT_NE(ProgressBarLine(p).find("ETA done"), std::string::npos);
  EXPECT_EQ(ProgressCountsLine(p),
            "queued 0  running 0  completed 8  failed 2  cancelled 0  workers 3");
}

TEST(TaskNamesTest, RoundTrips) {
  for (auto type : {v1::TASK_TYPE_PARSE, v1::TASK_TYPE_VALIDATE, v1::TASK_TYPE_ANALYZE}) {
    EXPECT_EQ(*ParseTaskType(TaskTypeName(type)), type);
  }
  for (auto status : {v1::TASK_STATUS_QUEUED, v1::TASK_STATUS_IN_PROGRESS,
                      v1::TASK_STATUS_COMPLETED, v1::TASK_STATUS_FAILED,
                      v1::TASK_STATUS_CANCELLED}) {
    EXPECT_EQ(*ParseTaskStatus(TaskStatusName(status)), status);
  }
  EXPECT_EQ(*ParseTaskStatus("running"), v1::TASK_STATUS_IN_PROGRESS);
  EXPECT_TRUE(absl::IsInvalidArgument(ParseTaskType("compile").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(ParseTaskStatus("done-ish").status()));
}

TEST(ExitCodeTest, DocumentedCodes) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCodeFor(absl::InternalError("x")), 1);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("x")), 2);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("x")), 3);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("x")), 4);
  EXPECT_EQ(ExitCodeFor(absl::AbortedError("x")), 5);
  EXPECT_EQ(ExitCodeFor(absl::DeadlineExceededError("x")), 6);
  EXPECT_EQ(ExitCodeFor(absl::CancelledError("x")), 130);
}

TEST(ClientErrorTest, UnavailableTellsWhatToDo) {
  absl::Status s = FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "connect failed"),
                                  "get progress", "10.0.0.9:50051");
  EXPECT_TRUE(absl::IsUnavailable(s));
  EXPECT_NE(s.message().find("cannot reach server at 10.0.0.9:50051"), std::string::npos);
  EXPECT_NE(s.message().find("--server"), std::string::npos);

  absl::Status nf = FromGrpcStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "no task 9"),
                                   "get task 9", "x:1");
  EXPECT_TRUE(absl::IsNotFound(nf));
  EXPECT_EQ(nf.message(), "get task 9: no task 9");
}

}  // namespace
}  // namespace skillstore::cli
