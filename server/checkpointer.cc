#include "checkpointer.h"

#include <fcntl.h>
#include <pthread.h>

#include <cerrno>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "server_metrics.h"
#include "spdlog/spdlog.h"
#include "status_macros.h"
#include "wal_sync.h"

namespace skillstore::server {
namespace {

double MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Checkpointer>> Checkpointer::Start(const std::string& db_path,
                                                                  Db& writer,
                                                                  const Options& options) {
  SKS_ASSIGN_OR_RETURN(std::unique_ptr<Db> own, Db::Open(db_path, Db::Mode::kReadWrite));
  SKS_RETURN_IF_ERROR(own->Exec(options.synchronous_full ? "PRAGMA synchronous = FULL"
                                                         : "PRAGMA synchronous = NORMAL"));
  // Read-only is enough: fdatasync writes back the file's pages whichever
  // descriptor asks.
  UniqueFd db_file(::open(db_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!db_file.valid()) {
    const int error = errno;
    return ErrnoError(absl::StrCat("opening the database ", db_path, " to sync it"), error);
  }
  auto checkpointer = std::unique_ptr<Checkpointer>(
      new Checkpointer(writer, std::move(own), std::move(db_file),
                       absl::StrCat(db_path, " (the database file, after a checkpoint)"), options));
  // Replaces the writer's automatic checkpoint, which is itself a WAL hook.
  sqlite3_wal_hook(writer.raw(), &Checkpointer::OnCommit, checkpointer.get());
  checkpointer->thread_ = std::thread([c = checkpointer.get()] {
    pthread_setname_np(pthread_self(), "checkpointer");  // for top -H, perf, gdb
    c->Loop();
  });
  return checkpointer;
}

Checkpointer::~Checkpointer() { Stop(); }

void Checkpointer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  // Back to SQLite's own automatic checkpoints (this also removes our hook).
  sqlite3_wal_autocheckpoint(writer_.raw(), options_.threshold_frames);
}

int64_t Checkpointer::background_checkpoints() const {
  std::lock_guard<std::mutex> lock(mu_);
  return background_checkpoints_;
}

int64_t Checkpointer::remainder_checkpoints() const {
  std::lock_guard<std::mutex> lock(mu_);
  return remainder_checkpoints_;
}

int Checkpointer::OnCommit(void* self, sqlite3* db, const char* schema, int wal_frames) {
  auto* checkpointer = static_cast<Checkpointer*>(self);
  const Options& options = checkpointer->options_;
  bool remainder = false;
  {
    std::lock_guard<std::mutex> lock(checkpointer->mu_);
    // A WAL shorter than the last pass left it has started over since.
    if (wal_frames < checkpointer->copied_frames_) {
      checkpointer->passed_ = false;
      checkpointer->passes_ = 0;
    }
    if (wal_frames < options.threshold_frames) return SQLITE_OK;
    if (checkpointer->wanted_) return SQLITE_OK;  // a pass is under way
    // What the last pass left is small (or the passes do not catch up):
    // copy it here, so the WAL starts over.
    remainder = checkpointer->passed_ &&
                (wal_frames - checkpointer->copied_frames_ <= options.remainder_frames ||
                 checkpointer->passes_ >= options.max_passes);
    checkpointer->passed_ = false;
    if (!remainder) checkpointer->wanted_ = true;
  }
  if (!remainder) {
    checkpointer->wake_.notify_one();
    return SQLITE_OK;
  }
  const auto start = std::chrono::steady_clock::now();
  int log = 0, copied = 0;
  const int rc = sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
    // Nothing lost: the frames stay in the WAL for the next pass.
    spdlog::warn("WAL checkpoint (remainder) failed: {}",
                 SqliteError(db, rc, "checkpoint").ToString());
  } else {
    const double ms = MillisecondsSince(start);
    spdlog::debug("WAL checkpoint (remainder, on the writer): {} of {} frames after {:.1f} ms",
                  copied, log, ms);
    if (options.metrics != nullptr) options.metrics->OnCheckpoint(true, ms / 1000);
  }
  std::lock_guard<std::mutex> lock(checkpointer->mu_);
  ++checkpointer->remainder_checkpoints_;
  return SQLITE_OK;  // anything else would be reported as the commit's error
}

void Checkpointer::Loop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return wanted_ || stopping_; });
      if (stopping_) return;
    }
    const auto start = std::chrono::steady_clock::now();
    int wal_frames = 0, copied_frames = 0;
    const int rc = sqlite3_wal_checkpoint_v2(own_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                             &wal_frames, &copied_frames);
    // The pages this pass copied, written back here rather than in the
    // writer's remainder (see the header).
    if (rc == SQLITE_OK) {
      if (absl::Status synced = SyncFileData(db_file_.get(), db_file_name_); !synced.ok()) {
        AbortOnFailedSync(synced,
                          "pages the checkpoint copied may not be in the database file, and "
                          "SQLite counts them as copied. Nothing acknowledged is lost: the WAL "
                          "still holds them. Check the disk (dmesg), then restart: SQLite "
                          "recovers from the WAL");
      }
    }
    const double ms = MillisecondsSince(start);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      // The frames stay in the WAL (nothing is lost); the next commit past
      // the threshold asks again.
      spdlog::warn("WAL checkpoint failed after {:.1f} ms: {}", ms,
                   SqliteError(own_->raw(), rc, "checkpoint").ToString());
    } else {
      spdlog::debug("WAL checkpoint: {} of {} frames in the database file after {:.1f} ms",
                    copied_frames, wal_frames, ms);
      if (options_.metrics != nullptr) options_.metrics->OnCheckpoint(false, ms / 1000);
    }
    std::lock_guard<std::mutex> lock(mu_);
    wanted_ = false;
    passed_ = rc == SQLITE_OK;
    copied_frames_ = copied_frames;
    ++passes_;
    ++background_checkpoints_;
  }
}

}  // namespace skillstore::server
