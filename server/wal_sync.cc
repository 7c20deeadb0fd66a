#include "wal_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "spdlog/spdlog.h"

namespace skillstore::server {

absl::Status SyncFileData(int fd, absl::string_view what) {
  while (::fdatasync(fd) != 0) {
    const int error = errno;
    if (error != EINTR) return ErrnoError(absl::StrCat("fdatasync of ", what), error);
  }
  return absl::OkStatus();
}

void AbortOnFailedSync(const absl::Status& status, absl::string_view consequence) {
  spdlog::critical("{}; stopping now: {}", std::string(status.message()), std::string(consequence));
  spdlog::default_logger()->flush();
  std::abort();
}

absl::StatusOr<std::unique_ptr<WalSync>> WalSync::ForWal(Db& db) {
  const char* db_file = sqlite3_db_filename(db.raw(), "main");
  if (db_file == nullptr || *db_file == '\0') {
    return absl::FailedPreconditionError("the database has no file, so no WAL to sync");
  }
  const std::string wal_path = sqlite3_filename_wal(db_file);
  UniqueFd wal(::open(wal_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!wal.valid()) {
    const int error = errno;
    return ErrnoError(absl::StrCat("opening the WAL ", wal_path, " to sync it"), error);
  }
  std::string dir = std::filesystem::path(wal_path).parent_path().string();
  if (dir.empty()) dir = ".";
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid() || ::fsync(dir_fd.get()) != 0) {
    const int error = errno;
    return ErrnoError(absl::StrCat("syncing the directory ", dir, " of the WAL"), error);
  }
  const int fd = wal.get();
  auto sync = std::make_unique<WalSync>(
      [fd, what = absl::StrCat("the WAL ", wal_path)] { return SyncFileData(fd, what); });
  sync->wal_ = std::move(wal);
  return sync;
}

std::optional<double> WalSync::WaitDurable(uint64_t commit) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (commit <= durable_) return std::nullopt;
  }
  // Read before the sync starts: every commit ended up to here has its
  // frames written, so this sync covers them all; later ones need another.
  const uint64_t covered = ended_.load();
  const auto start = std::chrono::steady_clock::now();
  if (absl::Status status = sync_(); !status.ok()) {
    AbortOnFailedSync(status,
                      "which commits reached the disk is unknown, and none of them has been "
                      "acknowledged. Check the disk (dmesg), then restart: SQLite recovers what "
                      "the disk holds");
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  {
    std::lock_guard<std::mutex> lock(mu_);
    durable_ = covered;
  }
  durable_cv_.notify_all();
  return seconds;
}

void WalSync::AwaitDurable(uint64_t commit) {
  std::unique_lock<std::mutex> lock(mu_);
  durable_cv_.wait(lock, [&] { return durable_ >= commit; });
}

}  // namespace skillstore::server
