// Copies the write-ahead log back into the database file on a thread of its
// own, so the write loop never does.
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
// writer: after a background pass, the frames committed during it (a small
// remainder) are copied by the hook itself, on the writer, between two
// transactions, as SQLite's own automatic checkpoint would; the next
// transaction then starts the WAL over.
//
// Durability is SQLite's own: the checkpoint fsyncs the WAL before copying
// and the database file before marking frames as copied (synchronous is set
// on this connection as on the writer's).
#ifndef SKILLSTORE_SERVER_CHECKPOINTER_H_
#define SKILLSTORE_SERVER_CHECKPOINTER_H_

#include <sqlite3.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "sqlite.h"

namespace skillstore::server {

class Checkpointer {
 public:
  struct Options {
    // A checkpoint starts once the WAL holds this many frames (pages): 64 MiB
    // with the 16 KiB pages of new databases. A long WAL means fewer copies
    // of the pages every batch rewrites (the claim and lease indexes).
    int threshold_frames = 4000;
    bool synchronous_full = true;
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
  Checkpointer(Db& writer, std::unique_ptr<Db> own, const Options& options)
      : writer_(writer), own_(std::move(own)), options_(options) {}

  // sqlite3_wal_hook callback, on the writer's thread after each commit.
  static int OnCommit(void* self, sqlite3* db, const char* schema, int wal_frames);
  void Loop();

  Db& writer_;
  std::unique_ptr<Db> own_;  // used by the thread only
  const Options options_;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool wanted_ = false;   // the thread is asked for, or running, a pass
  bool passed_ = false;   // a pass ended and its remainder is not copied yet
  int copied_frames_ = 0;  // WAL frames in the database file after that pass
  bool stopping_ = false;
  bool stopped_ = false;
  int64_t background_checkpoints_ = 0;
  int64_t remainder_checkpoints_ = 0;
};

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_CHECKPOINTER_H_
