// Copies the write-ahead log back into the database file on a thread of its
// own, so the write loop copies only the last few MiB before the WAL starts
// over.
//
// SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL
// past its threshold, on the connection that committed: here the write
// loop, the one thread every enqueue, claim and result waits for. With large
// results that meant copying tens of megabytes and fsyncing the main file in
// the middle of a batch, while claims and acks queued behind it. Instead the
// writer's automatic checkpoint is off; a WAL hook, run by SQLite after each
// of its commits, only compares the WAL's length with the threshold and
// wakes this thread, which runs PASSIVE checkpoints over a connection of its
// own. A passive checkpoint copies committed frames without taking the write
// lock, so the writer goes on committing meanwhile.
//
// SQLite starts the WAL over from its beginning only at a write transaction
// that finds every frame copied; under steady load the writer appends while
// the background copy runs, so that never happens by itself and the WAL
// would grow without end. Hence the one piece of checkpointing left to the
// writer: once the background passes have left a small remainder (the
// frames committed during the last one), the hook copies it itself, on the
// writer, between two transactions, as SQLite's own automatic checkpoint
// would; the next transaction then starts the WAL over.
//
// What keeps that stall short is where the database file is fsynced. SQLite
// fsyncs it only in a checkpoint that reaches the end of the WAL, which a
// background pass under load never does, so every page the passes copied
// used to be written back inside the writer's remainder: 64 MiB of them
// once per WAL, 110-160 ms with no commit (measured on the 2-core bench
// host). So each background pass is followed by an fdatasync of the
// database file on this thread, and the remainder writes back only its own
// pages: 17-31 ms there. Because a pass now takes time in proportion to what
// it copies, repeated passes shrink: another pass runs until at most
// Options::remainder_frames are left (or Options::max_passes have run, so a
// writer faster than the disk still bounds the WAL). The disk does the same
// writing either way (tiny tasks/s unchanged); what changes is that commits
// go on while it does.
//
// Durability is SQLite's own: the checkpoint fsyncs the WAL before copying
// and the database file before the WAL may start over (synchronous is set
// on this connection as on the writer's). The extra fdatasync only moves
// work earlier; a failed one stops the server (AbortOnFailedSync), since
// SQLite, having marked those frames copied, would not copy them again.
#ifndef SKILLSTORE_SERVER_CHECKPOINTER_H_
#define SKILLSTORE_SERVER_CHECKPOINTER_H_

#include <sqlite3.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "sqlite.h"

namespace skillstore::server {

class ServerMetrics;

class Checkpointer {
 public:
  struct Options {
    // A checkpoint starts once the WAL holds this many frames (pages): 64 MiB
    // with the 16 KiB pages of new databases. A long WAL means fewer copies
    // of the pages every batch rewrites (the claim and lease indexes).
    int threshold_frames = 4000;
    // The writer copies what the passes left once it is at most this many
    // frames (8 MiB of 16 KiB pages: ~20-60 ms with its fsync), or after
    // max_passes passes since the WAL last started over.
    int remainder_frames = 512;
    int max_passes = 4;
    bool synchronous_full = true;
    // Told the time of every pass and remainder; optional, must outlive the
    // Checkpointer.
    ServerMetrics* metrics = nullptr;
  };

  // Opens a second connection to `db_path`, turns off `writer`'s automatic
  // checkpoints and hooks its commits. `writer` must outlive the
  // Checkpointer and must not be in use by another thread during Start and
  // Stop (the hook is installed and removed on it).
  static absl::StatusOr<std::unique_ptr<Checkpointer>> Start(const std::string& db_path, Db& writer,
                                                             const Options& options);
  ~Checkpointer();  // Stop()
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Waits for a running checkpoint, ends the thread and gives `writer` back
  // its automatic checkpoints. Idempotent.
  void Stop();

  // Background passes and writer-side remainders run so far (for tests).
  int64_t background_checkpoints() const;
  int64_t remainder_checkpoints() const;

 private:
  Checkpointer(Db& writer, std::unique_ptr<Db> own, UniqueFd db_file, std::string db_file_name,
               const Options& options)
      : writer_(writer),
        own_(std::move(own)),
        db_file_(std::move(db_file)),
        db_file_name_(std::move(db_file_name)),
        options_(options) {}

  // sqlite3_wal_hook callback, on the writer's thread after each commit.
  static int OnCommit(void* self, sqlite3* db, const char* schema, int wal_frames);
  void Loop();

  Db& writer_;
  std::unique_ptr<Db> own_;         // used by the thread only
  UniqueFd db_file_;                // the database file, for the fdatasync after a pass
  const std::string db_file_name_;  // for its error
  const Options options_;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool wanted_ = false;    // the thread is asked for, or running, a pass
  bool passed_ = false;    // a pass ended and its remainder is not copied yet
  int copied_frames_ = 0;  // WAL frames in the database file after that pass
  int passes_ = 0;         // background passes since the WAL last started over
  bool stopping_ = false;
  bool stopped_ = false;
  int64_t background_checkpoints_ = 0;
  int64_t remainder_checkpoints_ = 0;
};

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_CHECKPOINTER_H_
