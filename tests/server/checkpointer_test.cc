// server/checkpointer: the WAL is copied back on the checkpointer's thread,
// stays bounded under a writer that never pauses, and loses nothing; a
// reader that pins an old snapshot only delays it; both kinds of copy are
// timed in the server's metrics.
#include "checkpointer.h"

#include <sys/stat.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/metrics/registry.h"
#include "exposition_parser.h"
#include "gtest/gtest.h"
#include "process.h"
#include "progress.h"
#include "server_metrics.h"
#include "server_test_util.h"
#include "sqlite.h"

namespace skillstore::server {
namespace {

constexpr int kThreshold = 64;  // frames

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

using testing::QueryInt;

std::unique_ptr<Db> OpenWal(const std::string& path) {
  std::unique_ptr<Db> db = testing::OpenWalDb(path);
  if (db != nullptr) EXPECT_TRUE(db->Exec("PRAGMA synchronous = FULL").ok());
  return db;
}

// One transaction adding a row with a value of `bytes` bytes (two 16 KiB
// pages or so per commit for the sizes used here).
void Append(Db& db, int id, size_t bytes) {
  auto txn = Transaction::Begin(db);
  ASSERT_TRUE(txn.ok()) << txn.status();
  absl::StatusOr<Statement> insert = db.Prepare("INSERT INTO blobs (id, value) VALUES (?, ?)");
  ASSERT_TRUE(insert.ok()) << insert.status();
  const std::string value(bytes, static_cast<char>('a' + id % 26));
  ASSERT_TRUE(insert->Bind(1, id).BindText(2, value).Run().ok());
  ASSERT_TRUE((*txn)->Commit().ok());
}

int64_t Count(Db& db) { return QueryInt(db, "SELECT count(*) FROM blobs"); }

// A database in WAL mode with one table, its writer connection, and a
// Checkpointer with a small threshold on it.
class CheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    writer = OpenWal(path);
    ASSERT_TRUE(writer->Exec("CREATE TABLE blobs (id INTEGER PRIMARY KEY, value TEXT)").ok());
    Restart(Checkpointer::Options());
  }

  // A new Checkpointer on the writer, with `options` and the small threshold.
  void Restart(Checkpointer::Options options) {
    checkpointer.reset();
    options.threshold_frames = kThreshold;
    absl::StatusOr<std::unique_ptr<Checkpointer>> started =
        Checkpointer::Start(path, *writer, options);
    ASSERT_TRUE(started.ok()) << started.status();
    checkpointer = *std::move(started);
  }

  // Appends rows [0, rows) of ~20 KB each without a pause; returns the
  // largest the WAL grew meanwhile.
  int64_t AppendWithoutPause(int rows) {
    int64_t largest_wal = 0;
    for (int i = 0; i < rows; ++i) {
      Append(*writer, i, 20000);
      largest_wal = std::max(largest_wal, FileSize(path + "-wal"));
    }
    return largest_wal;
  }

  skillstore::testing::TempDir dir;
  const std::string path = dir.File("c.db");
  std::unique_ptr<Db> writer;
  std::unique_ptr<Checkpointer> checkpointer;  // declared last: stops first
};

TEST_F(CheckpointerTest, WalStaysBoundedUnderAWriterThatNeverPauses) {
  // ~40 times the threshold in frames, written without a pause.
  constexpr int kRows = 1200;
  const int64_t largest_wal = AppendWithoutPause(kRows);
  EXPECT_GT(checkpointer->background_checkpoints(), 0);
  EXPECT_GT(checkpointer->remainder_checkpoints(), 0);
  // The WAL started over again and again: it never held more than a few
  // thresholds' worth of 16 KiB frames (unbounded, it would hold ~2,400).
  EXPECT_LT(largest_wal, int64_t{6} * kThreshold * (kNewDatabasePageSize + 24))
      << "the WAL grew to " << largest_wal << " bytes";
  // The rows are in the database file itself, not only in the WAL.
  EXPECT_GT(FileSize(path), int64_t{kRows} * 20000 / 2);
  checkpointer->Stop();
  EXPECT_EQ(Count(*writer), kRows);
  writer.reset();

  std::unique_ptr<Db> reopened = OpenWal(path);
  EXPECT_EQ(Count(*reopened), kRows);
  absl::StatusOr<Statement> check = reopened->Prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.ok());
  ASSERT_TRUE(*check->Step());
  EXPECT_EQ(check->ColumnText(0), "ok");
}

// With a remainder limit no pass can reach, only the pass count makes the
// writer copy the rest: the WAL must stay bounded all the same.
TEST_F(CheckpointerTest, PassesThatNeverCatchUpStillLetTheWalStartOver) {
  Checkpointer::Options options;
  options.remainder_frames = -1;  // no remainder is ever small enough
  options.max_passes = 2;
  Restart(options);
  constexpr int kRows = 1200;
  const int64_t largest_wal = AppendWithoutPause(kRows);
  EXPECT_GE(checkpointer->background_checkpoints(), 2);
  EXPECT_GT(checkpointer->remainder_checkpoints(), 0);
  EXPECT_LT(largest_wal, int64_t{8} * kThreshold * (kNewDatabasePageSize + 24))
      << "the WAL grew to " << largest_wal << " bytes";
  checkpointer->Stop();
  EXPECT_EQ(Count(*writer), kRows);
}

TEST_F(CheckpointerTest, AReaderOnAnOldSnapshotOnlyDelaysTheCopy) {
  Append(*writer, 0, 100);

  absl::StatusOr<std::unique_ptr<Db>> reader = Db::Open(path, Db::Mode::kReadOnly);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_TRUE((*reader)->Exec("BEGIN").ok());
  EXPECT_EQ(Count(**reader), 1);  // the snapshot is taken here and held
  for (int i = 1; i < 400; ++i) Append(*writer, i, 20000);
  EXPECT_EQ(Count(**reader), 1);  // still its snapshot
  const int64_t pinned_wal = FileSize(path + "-wal");
  ASSERT_TRUE((*reader)->Exec("COMMIT").ok());

  // Released: the WAL is copied and starts over. Without that, 800 more
  // rows (~1,600 frames) would make it twice as long.
  const int64_t remainders = checkpointer->remainder_checkpoints();
  for (int i = 400; i < 1200; ++i) Append(*writer, i, 20000);
  EXPECT_GT(checkpointer->remainder_checkpoints(), remainders);
  EXPECT_LE(FileSize(path + "-wal"), pinned_wal * 5 / 4);
  EXPECT_EQ(Count(**reader), 1200);
  checkpointer->Stop();
  EXPECT_EQ(Count(*writer), 1200);
}

TEST_F(CheckpointerTest, PassesAndRemaindersAreTimedApartInTheMetrics) {
  metrics::Registry registry;
  ProgressTracker progress;
  ServerMetrics server_metrics(registry, progress, path, nullptr);
  Checkpointer::Options options;
  options.metrics = &server_metrics;
  Restart(options);
  AppendWithoutPause(600);
  checkpointer->Stop();  // reports nothing more, before server_metrics goes

  absl::StatusOr<metrics::testing::Exposition> exposition =
      metrics::testing::ParseExposition(registry.Expose());
  ASSERT_TRUE(exposition.ok()) << exposition.status();
  const std::string name = "skillstore_checkpoint_duration_seconds";
  EXPECT_EQ(exposition->Value(name + "_count", {{"phase", "background"}}).value_or(-1),
            static_cast<double>(checkpointer->background_checkpoints()));
  EXPECT_EQ(exposition->Value(name + "_count", {{"phase", "remainder"}}).value_or(-1),
            static_cast<double>(checkpointer->remainder_checkpoints()));
  EXPECT_GT(checkpointer->remainder_checkpoints(), 0);
  EXPECT_GT(exposition->Value(name + "_sum", {{"phase", "background"}}).value_or(-1), 0);
}

}  // namespace
}  // namespace skillstore::server
