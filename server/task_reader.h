// The read side of the task store: listings and lookups on read-only
// connections. WAL mode lets these run beside the writer without blocking it,
// and each sees a committed snapshot.
#ifndef SKILLSTORE_SERVER_TASK_READER_H_
#define SKILLSTORE_SERVER_TASK_READER_H_

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "codec.h"
#include "sqlite.h"

namespace skillstore::server {

// The created_at (Unix seconds) of the oldest queued task, nullopt when
// none is queued. Task ids grow with enqueue time, so that is the queued
// task with the lowest id. tasks has no index on status alone (schema 3);
// tasks_claim_by_type orders each type's queued tasks by (priority DESC,
// task_id), so the first entry of each (type, priority) group is that
// group's oldest, and one index seek per group finds them: the cost grows
// with the number of priorities in use, not with the tasks stored. Past
// kMaxPriorityGroups groups of one type the walk stops (the answer is then
// the oldest of the groups seen).
inline constexpr int kMaxPriorityGroups = 1000;
absl::StatusOr<std::optional<double>> OldestQueuedCreatedAt(Db& db);

// ListTasks for status queued: a page of `page_size` queued tasks with ids
// above `after`, in id order, through the claim index. tasks has no index
// on status (schema 3), and a read in id order passed every finished task
// ahead of the first queued one: the first page on a store of a million
// completed tasks read all of them. tasks_claim_by_type orders each type's
// queued tasks by (priority DESC, task_id), so within one (type, priority)
// group they are in id order: the page is the smallest ids among each
// group's first page_size + 1 ids past `after`. Cost: an index seek per
// group and page_size + 1 index entries per group, whatever else is
// stored. Groups past kMaxPriorityGroups per type are not listed.
absl::StatusOr<v1::ListTasksResponse> ListQueued(Db& db, const v1::ListTasksRequest& request,
                                                 int64_t after, int page_size);

class TaskReader {
 public:
  // Connections are opened on demand, one per concurrent reader, and reused.
  explicit TaskReader(std::string db_path) : db_path_(std::move(db_path)) {}

  absl::StatusOr<v1::ListTasksResponse> ListTasks(const v1::ListTasksRequest& request);
  absl::StatusOr<v1::GetTaskResponse> GetTask(const v1::GetTaskRequest& request);
  absl::StatusOr<v1::GetResultResponse> GetResult(const v1::GetResultRequest& request);
  absl::StatusOr<v1::ListWorkersResponse> ListWorkers(const v1::ListWorkersRequest& request);

 private:
  // A connection borrowed from the pool, returned on destruction.
  class Connection {
   public:
    Connection(TaskReader& pool, std::unique_ptr<Db> db) : pool_(pool), db_(std::move(db)) {}
    ~Connection();
    Connection(Connection&&) = default;
    Db& operator*() { return *db_; }
    Db* operator->() { return db_.get(); }

   private:
    TaskReader& pool_;
    std::unique_ptr<Db> db_;
  };
  absl::StatusOr<Connection> Acquire();

  const std::string db_path_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Db>> idle_;  // guarded by mu_
};

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_TASK_READER_H_
