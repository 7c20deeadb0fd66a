// The read side of the task store: listings and lookups on read-only
// connections. WAL mode lets these run beside the writer without blocking it,
// and each sees a committed snapshot.
#ifndef SKILLSTORE_SERVER_TASK_READER_H_
#define SKILLSTORE_SERVER_TASK_READER_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "codec.h"
#include "sqlite.h"

namespace skillstore::server {

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
