// Disk full: the database on a small tmpfs that fills up. 64 MiB, not less:
// once the filler is gone the run needs room for its results and for the
// server's WAL, which reaches ~16 MiB in normal operation before a
// checkpoint resets it (measured: a 20,000-task run). Enqueue then fails
// with RESOURCE_EXHAUSTED, nothing acknowledged is lost, and once space
// returns (the filler file is deleted) the server accepts work again and
// completes it. Needs root to mount the tmpfs; skips with a message otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <set>

#include "absl/strings/str_cat.h"
#include "fault_harness.h"

namespace skillstore::fault {
namespace {

using ::skillstore::testing::ServerProcess;
using ::skillstore::testing::TempDir;

// A tmpfs of `size` mounted on a fresh directory; unmounted on destruction.
class SmallTmpfs {
 public:
  explicit SmallTmpfs(const std::string& dir) : dir_(dir) {}
  ~SmallTmpfs() {
    if (mounted_ && umount2(dir_.c_str(), 0) != 0) umount2(dir_.c_str(), MNT_DETACH);
  }
  absl::Status Mount(const std::string& size) {
    if (mkdir(dir_.c_str(), 0755) != 0) return absl::InternalError("mkdir " + dir_);
    const std::string opts = "size=" + size;
    if (mount("tmpfs", dir_.c_str(), "tmpfs", 0, opts.c_str()) != 0) {
      return absl::UnavailableError(absl::StrCat("mount -t tmpfs: ", strerror(errno)));
    }
    mounted_ = true;
    return absl::OkStatus();
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  bool mounted_ = false;
};

// Writes `path` until the file system is full. Returns bytes written.
int64_t FillUp(const std::string& path) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  std::string chunk(4096, 'f');
  int64_t total = 0;
  for (;;) {
    const ssize_t n = write(fd, chunk.data(), chunk.size());
    if (n <= 0) break;
    total += n;
  }
  close(fd);
  return total;
}

std::string Tail(const std::string& log) {
  return log.size() > 4000 ? log.substr(log.size() - 4000) : log;
}

TEST(DiskFullTest, EnqueueFailsWithResourceExhaustedAndTheServerRecovers) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs (uid " << geteuid() << ")";
  TempDir dir;
  SmallTmpfs fs(dir.File("small"));
  if (absl::Status s = fs.Mount("64m"); !s.ok()) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << s;
  }
  const std::string db = fs.dir() + "/full.db";
  auto server = ServerProcess::Start(db, dir.File("server.log"));
  ASSERT_TRUE(server.ok()) << server.status();
  Client client((*server)->address());

  // Some work acknowledged before the disk fills.
  std::set<std::string> acknowledged;
  int next = 0;
  auto enqueue_batch = [&](int n, std::vector<std::string>* ids) {
    const grpc::Status st = client.Enqueue(TinyParseTasks("full", next, n, 3), ids);
    next += n;
    return st;
  };
  for (int i = 0; i < 2; ++i) {
    std::vector<std::string> ids;
    const grpc::Status st = enqueue_batch(100, &ids);
    ASSERT_TRUE(st.ok()) << st.error_message();
    acknowledged.insert(ids.begin(), ids.end());
  }

  // Fill the file system, then keep enqueueing until the server says so.
  const std::string filler = fs.dir() + "/filler";
  ASSERT_GT(FillUp(filler), 0);
  grpc::Status refusal;
  for (int attempt = 0; attempt < 400; ++attempt) {
    std::vector<std::string> ids;
    const grpc::Status st = enqueue_batch(100, &ids);
    if (st.ok()) {
      acknowledged.insert(ids.begin(), ids.end());
      FillUp(filler + std::to_string(attempt));  // whatever the server freed
      continue;
    }
    refusal = st;
    break;
  }
  ASSERT_FALSE(refusal.ok()) << "the disk never filled up";
  EXPECT_EQ(refusal.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << "Enqueue on a full disk answered code " << refusal.error_code() << ": "
      << refusal.error_message();
  EXPECT_FALSE(refusal.error_message().empty());
  ASSERT_TRUE((*server)->process().Running()) << "the server died on a full disk";
  // Reads still work while the disk is full.
  auto progress = client.Progress();
  ASSERT_TRUE(progress.ok()) << progress.status();
  EXPECT_EQ(progress->total(), static_cast<int64_t>(acknowledged.size()));

  // Space returns: the server accepts again (perhaps after a retry or two).
  std::string out;
  RunCommand("rm -f " + filler + "*", &out);
  bool accepted_again = false;
  for (int attempt = 0; attempt < 100 && !accepted_again; ++attempt) {
    std::vector<std::string> ids;
    const grpc::Status st = enqueue_batch(100, &ids);
    if (st.ok()) {
      acknowledged.insert(ids.begin(), ids.end());
      accepted_again = true;
    } else {
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  ASSERT_TRUE(accepted_again) << "the server did not accept work after space returned";

  // The work gets done, and a kill -9 right after loses nothing.
  auto worker = StartWorker((*server)->address(), "full-w0", dir.File("worker.log"),
                            {"--concurrency", "2"});
  ASSERT_TRUE(worker.ok()) << worker.status();
  const int64_t total = static_cast<int64_t>(acknowledged.size());
  const absl::Status finished = client.WaitAllFinished(total, absl::Minutes(2));
  std::string space;
  if (!finished.ok()) RunCommand("df -k " + fs.dir() + "; ls -la " + fs.dir(), &space);
  ASSERT_TRUE(finished.ok()) << finished << "\n--- space:\n" << space << "\n--- server log (end):\n"
                             << Tail((*server)->process().ReadLog()) << "\n--- worker log (end):\n"
                             << Tail((*worker)->ReadLog());
  (*worker)->Signal(SIGTERM);
  EXPECT_TRUE((*worker)->Wait(absl::Seconds(60)).ok());
  (*server)->process().Kill();
  std::string files;
  RunCommand("ls -la " + fs.dir(), &files);
  std::cout << "database files after the run:\n" << files;

  auto report = InspectDatabase(db);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(ExactlyOnceProblems(*report, total), "") << Describe(*report);
  std::set<std::string> stored(report->task_ids.begin(), report->task_ids.end());
  for (const std::string& id : acknowledged) {
    EXPECT_TRUE(stored.count(id)) << "acknowledged task " << id << " was lost";
  }
}

}  // namespace
}  // namespace skillstore::fault
