// WalSync: the fsync that makes a commit durable, taken off the write loop.
//
// With PRAGMA synchronous=FULL, SQLite fsyncs the WAL inside every COMMIT,
// on the write loop: the one thread every request waits for sat idle for the
// whole flush, and the next batch could not start until the disk answered.
// So with --synchronous=full the writer connection runs with
// synchronous=NORMAL, under which SQLite still makes every sync that keeps
// the files consistent (the WAL before a checkpoint copies it, the database
// file after, the WAL header when the log starts over) and leaves out only
// the one FULL adds after each commit. That one is made here, by the write
// loop's wal-sync thread, before any reply that depends on the commit: the
// same syncs as FULL and the same promise for every acknowledgement, while
// the writer already runs the next transaction. One fdatasync covers every
// commit made before it began.
//
// Readers: a commit is visible to the other connections from its COMMIT on,
// a moment before it is on disk. So that no client sees a change a power cut
// could still take back, the server's reads answer only once every commit
// begun before they finished reading is durable (AwaitDurable; the write
// loop applies the progress counts after the sync too). Only something
// reading the file behind the server's back (sqlite3) can see a commit early.
// A process crash (kill -9) loses nothing either way: the frames are in the
// kernel's page cache from the COMMIT on.
//
// A failed fdatasync leaves it unknown which commits reached the disk (the
// kernel may drop the pages it could not write and report the error only
// once), so the server stops at once rather than answer; at the next start
// SQLite's recovery reads what the disk holds. Nothing was acknowledged that
// the failed sync was meant to cover.
#ifndef SKILLSTORE_SERVER_WAL_SYNC_H_
#define SKILLSTORE_SERVER_WAL_SYNC_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/unique_fd.h"
#include "sqlite.h"

namespace skillstore::server {

// fdatasync(fd), retried on EINTR; the error names `what` ("the WAL /x").
absl::Status SyncFileData(int fd, absl::string_view what);

// Stops the process after a failed fsync of one of the database's files:
// one critical log line (`status`, then `consequence`: what is unknown now
// and what to do), flushed, then abort. After a failed fsync the kernel may
// have dropped the pages it could not write and reports the error only
// once, so going on could acknowledge something that is not on disk, or let
// the WAL start over without pages the database file lost.
[[noreturn]] void AbortOnFailedSync(const absl::Status& status, absl::string_view consequence);

class WalSync {
 public:
  // Makes the commits so far durable; called by WaitDurable only.
  using SyncFn = std::function<absl::Status()>;

  // fdatasync of the WAL file of `db` (open in WAL mode, the file already
  // there). Its directory is synced once here, so the file's own name is on
  // disk too.
  static absl::StatusOr<std::unique_ptr<WalSync>> ForWal(Db& db);
  // Any other way to make commits durable (tests pass one that blocks).
  explicit WalSync(SyncFn sync) : sync_(std::move(sync)) {}
  WalSync(const WalSync&) = delete;
  WalSync& operator=(const WalSync&) = delete;

  // On the writer's thread, around each COMMIT: BeginCommit right before it
  // (the commit's number, 1, 2, ...), EndCommit with that number once it has
  // returned, whether it succeeded or not (its frames are written then).
  uint64_t BeginCommit() { return begun_.fetch_add(1) + 1; }
  void EndCommit(uint64_t commit) { ended_.store(commit); }
  // The number of the last commit begun (0 before the first).
  uint64_t LastBegun() const { return begun_.load(); }

  // On one thread only (the write loop's wal-sync thread), for an ended
  // commit: returns once commit `commit` is durable, with the seconds the
  // sync took, or nullopt when a sync made for a later commit already
  // covered it. A failed sync stops the process (see the file comment).
  std::optional<double> WaitDurable(uint64_t commit);

  // Any thread: returns once commit `commit` is durable. The commit must
  // have begun and must reach WaitDurable (the write loop sees to both).
  void AwaitDurable(uint64_t commit);

 private:
  SyncFn sync_;
  UniqueFd wal_;  // ForWal's file
  std::atomic<uint64_t> begun_{0};
  std::atomic<uint64_t> ended_{0};
  std::mutex mu_;
  std::condition_variable durable_cv_;
  uint64_t durable_ = 0;  // guarded by mu_; written by WaitDurable's thread only
};

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_WAL_SYNC_H_
