// A disk whose flush fails: the server's fdatasync of the WAL, or of the
// database file after a checkpoint, returns EIO (a shim preloaded into the
// real skillstore-server, libskillstore_fsync_fault.so). The server must stop
// at once with a line that says why, answer nothing it could not make
// durable, and lose nothing it acknowledged: restarted on a healthy disk,
// every acknowledged task is there and the file is intact.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "fault_harness.h"

namespace skillstore::fault {
namespace {

using ::skillstore::testing::ServerProcess;
using ::skillstore::testing::TempDir;

// Starts the server with the shim: syncs fail once `marker` exists, only
// those of files ending in `only` when it is not empty.
absl::StatusOr<std::unique_ptr<ServerProcess>> StartOnFailingDisk(const TempDir& dir,
                                                                  const std::string& db,
                                                                  const std::string& marker,
                                                                  const std::string& only) {
  ::setenv("LD_PRELOAD", SKILLSTORE_FSYNC_FAULT_SHIM, 1);
  ::setenv("SKILLSTORE_FAIL_FSYNC_WHEN", marker.c_str(), 1);
  if (!only.empty()) ::setenv("SKILLSTORE_FAIL_FSYNC_ONLY", only.c_str(), 1);
  auto server = ServerProcess::Start(db, dir.File("server.log"));
  ::unsetenv("LD_PRELOAD");
  ::unsetenv("SKILLSTORE_FAIL_FSYNC_WHEN");
  ::unsetenv("SKILLSTORE_FAIL_FSYNC_ONLY");
  return server;
}

// Restarted on a healthy disk: every acknowledged task is there, queued,
// and the file passes integrity_check.
void ExpectNothingAcknowledgedLost(const TempDir& dir, const std::string& db,
                                   const std::vector<std::string>& acknowledged) {
  auto server = ServerProcess::Start(db, dir.File("server.log"));
  ASSERT_TRUE(server.ok()) << server.status();
  Client again((*server)->address());
  for (const std::string& id : acknowledged) {
    absl::StatusOr<v1::GetTaskResponse> task = again.GetTask(id);
    ASSERT_TRUE(task.ok()) << "acknowledged task " << id << " lost: " << task.status();
    EXPECT_EQ(task->task().status(), v1::TASK_STATUS_QUEUED) << id;
  }
  (*server)->process().Signal(SIGTERM);
  ASSERT_TRUE((*server)->process().Wait(absl::Seconds(30)).ok());
  absl::StatusOr<DbReport> report = InspectDatabase(db);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->integrity, "ok");
  EXPECT_GE(report->tasks, static_cast<int64_t>(acknowledged.size()));
}

TEST(FsyncFailureTest, AFailedWalSyncStopsTheServerAndLosesNothingAcknowledged) {
  TempDir dir;
  const std::string db = dir.File("store.db");
  const std::string marker = dir.File("disk-fails-now");
  auto server = StartOnFailingDisk(dir, db, marker, "");
  ASSERT_TRUE(server.ok()) << server.status();

  Client client((*server)->address());
  std::vector<std::string> acknowledged;
  for (int batch = 0; batch < 3; ++batch) {
    std::vector<std::string> ids;
    const grpc::Status status = client.Enqueue(TinyParseTasks("ok", batch * 10, 10, 3), &ids);
    ASSERT_TRUE(status.ok()) << status.error_message();
    acknowledged.insert(acknowledged.end(), ids.begin(), ids.end());
  }

  // The disk fails: the next sync (the next commit's, or the reaper's tick)
  // gets EIO.
  std::ofstream(marker) << "now";
  std::vector<std::string> unacknowledged;
  const grpc::Status late = client.Enqueue(TinyParseTasks("late", 0, 10, 3), &unacknowledged);
  EXPECT_FALSE(late.ok()) << "a reply for a commit whose sync failed";
  absl::StatusOr<int> code = (*server)->process().Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << "the server went on after a failed fsync";
  EXPECT_EQ(*code, 128 + SIGABRT);
  const std::string log = (*server)->process().ReadLog();
  EXPECT_NE(log.find("fdatasync of the WAL"), std::string::npos) << log;
  EXPECT_NE(log.find("stopping now"), std::string::npos) << log;

  // A healthy disk again: everything acknowledged is there.
  std::remove(marker.c_str());
  ExpectNothingAcknowledgedLost(dir, db, acknowledged);
}

// The WAL syncs work, the database file's fail: commits are acknowledged
// until a checkpoint copies the WAL back and its fsync of the file fails.
// SQLite counts the frames a checkpoint copied as copied before the file is
// synced, and a failed fsync may have dropped those pages: going on could
// let the WAL start over without them, so the server stops.
TEST(FsyncFailureTest, AFailedDatabaseFileSyncAfterACheckpointStopsTheServer) {
  TempDir dir;
  const std::string db = dir.File("store.db");
  const std::string marker = dir.File("disk-fails-now");
  auto server = StartOnFailingDisk(dir, db, marker, "store.db");
  ASSERT_TRUE(server.ok()) << server.status();
  std::ofstream(marker) << "now";  // after the migrations' own checkpoint

  // 64 MiB of WAL starts a checkpoint (checkpointer.h): batches of 40 tasks
  // of ~256 KiB each, 10 MiB per commit.
  Client client((*server)->address());
  std::vector<std::string> acknowledged;
  bool stopped = false;
  for (int batch = 0; batch < 30 && !stopped; ++batch) {
    std::vector<v1::TaskSpec> specs = TinyParseTasks("big", batch * 40, 40, 3);
    for (v1::TaskSpec& spec : specs) spec.mutable_content()->append(256 << 10, 'x');
    std::vector<std::string> ids;
    if (client.Enqueue(specs, &ids).ok()) {
      acknowledged.insert(acknowledged.end(), ids.begin(), ids.end());
    } else {
      stopped = true;
    }
  }
  absl::StatusOr<int> code = (*server)->process().Wait(absl::Seconds(60));
  ASSERT_TRUE(code.ok()) << "the server went on after a failed fsync of the database file";
  EXPECT_EQ(*code, 128 + SIGABRT);
  const std::string log = (*server)->process().ReadLog();
  EXPECT_NE(log.find("fdatasync of " + db + " (the database file, after a checkpoint)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("stopping now"), std::string::npos) << log;
  EXPECT_GT(acknowledged.size(), 0u);

  std::remove(marker.c_str());
  ExpectNothingAcknowledgedLost(dir, db, acknowledged);
}

}  // namespace
}  // namespace skillstore::fault
