// In-memory progress figures: task counts per status, recent throughput and
// active workers, so GetProgress and WatchProgress never touch the database.
//
// The counts are loaded once at startup (COUNT(*) through the indexes, see
// Load) and from then on change only through Apply(), which the write loop
// calls after each COMMIT with the net effect of that transaction; they
// therefore always equal the committed database state.
#ifndef SKILLSTORE_SERVER_PROGRESS_H_
#define SKILLSTORE_SERVER_PROGRESS_H_

#include <array>
#include <cstdint>
#include <mutex>

#include "absl/status/statusor.h"
#include "codec.h"
#include "sqlite.h"
#include "task_writer.h"

namespace skillstore::server {

class ProgressTracker {
 public:
  // Reads the committed counts from `db`.
  absl::Status Load(Db& db, int64_t now_ms);

  void Apply(const TxnEffects& effects, int64_t now_ms);
  void SetActiveWorkers(int count);

  v1::Progress Snapshot(int64_t now_ms) const;

  // Increases whenever a snapshot would differ in counts or workers.
  uint64_t version() const;

 private:
  static constexpr int kWindowSeconds = 60;
  void RecordFinishedLocked(int64_t count, int64_t now_ms);

  mutable std::mutex mu_;
  std::array<int64_t, 6> counts_{};  // indexed by v1::TaskStatus
  int active_workers_ = 0;
  uint64_t version_ = 0;
  // finished_[s % 60] counts tasks finished in Unix second s (stamped in
  // bucket_second_ so stale buckets read as zero).
  std::array<int64_t, kWindowSeconds> finished_{};
  std::array<int64_t, kWindowSeconds> bucket_second_{};
  int64_t started_ms_ = 0;
};

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_PROGRESS_H_
