// server/sqlite.*: the process-wide SQLite configuration Db::Open applies,
// against a real database file.
#include "sqlite.h"

#include <gtest/gtest.h>

#include "process.h"
#include "server_test_util.h"

namespace skillstore::server {
namespace {

// A statement that may abort half-way keeps a statement journal of every
// page it changes. One far bigger than SQLite's in-memory spill size must
// move to a temporary file and work: with a spill size of 256 KiB or more
// configured, SQLite 3.40 failed such a statement with "database or disk is
// full" (a migration's DROP INDEX on a big database hit it).
TEST(SqliteTest, AStatementWithAStatementJournalOfManyMegabytesSucceeds) {
  skillstore::testing::TempDir dir;
  std::unique_ptr<Db> db = testing::OpenWalDb(dir.path() + "/big.db");
  ASSERT_TRUE(db->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL CHECK (v != 'x'))")
                  .ok());
  ASSERT_TRUE(db->Exec("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c "
                       "WHERE i < 100000) INSERT INTO t (v) SELECT hex(randomblob(100)) FROM c")
                  .ok());
  // ~20 MB of pages, all journaled by this one statement (CHECK: it may abort).
  ASSERT_TRUE(db->Exec("BEGIN").ok());
  const absl::Status update = db->Exec("UPDATE t SET v = v || 'y'");
  EXPECT_TRUE(update.ok()) << update;
  ASSERT_TRUE(db->Exec(update.ok() ? "COMMIT" : "ROLLBACK").ok());
  EXPECT_EQ(testing::QueryInt(*db, "SELECT count(*) FROM t WHERE v LIKE '%y'"),
            update.ok() ? 100000 : 0);
}

}  // namespace
}  // namespace skillstore::server
