// server/sqlite.*: the process-wide SQLite configuration Db::Open applies,
// against a real database file.
#include "sqlite.h"

#include <gtest/gtest.h>
#include <malloc.h>
#include <sqlite3.h>

#include <cstring>
#include <thread>
#include <vector>

#include "process.h"
#include "server_test_util.h"
#include "sqlite_memory.h"

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

// Db::Open installs server/sqlite_memory before SQLite initializes: what a
// statement frees on this thread is then kept in this thread's cache.
TEST(SqliteMemoryTest, SqliteAllocatesThroughTheServersAllocator) {
  skillstore::testing::TempDir dir;
  std::unique_ptr<Db> db = testing::OpenWalDb(dir.path() + "/memory.db");
  ASSERT_TRUE(db->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)").ok());
  ASSERT_TRUE(db->Exec("INSERT INTO t (v) VALUES (hex(randomblob(1000)))").ok());
  EXPECT_GT(SqliteMemoryCachedBlocks(), 0u);
  EXPECT_GT(SqliteMemoryCachedBytes(), 0u);
  EXPECT_EQ(testing::QueryInt(*db, "SELECT length(v) FROM t"), 2000);
}

// xSize and xRealloc: a block reports at least what was asked, and keeps
// its bytes when it moves to a bigger class, to an uncached size and back.
TEST(SqliteMemoryTest, ReallocKeepsTheBytesAcrossClasses) {
  skillstore::testing::TempDir dir;
  testing::OpenWalDb(dir.path() + "/init.db");  // installs the allocator
  auto* p = static_cast<unsigned char*>(sqlite3_malloc(100));
  ASSERT_NE(p, nullptr);
  EXPECT_GE(sqlite3_msize(p), 100u);
  for (int i = 0; i < 100; ++i) p[i] = static_cast<unsigned char>(i);
  for (int size : {101, 1024, 1025, 3000, 4097, 100000, 2048, 64}) {
    p = static_cast<unsigned char*>(sqlite3_realloc(p, size));
    ASSERT_NE(p, nullptr) << size;
    EXPECT_GE(sqlite3_msize(p), static_cast<sqlite3_uint64>(size));
    for (int i = 0; i < 64; ++i) ASSERT_EQ(p[i], i) << "after realloc to " << size;
  }
  sqlite3_free(p);
}

// However much is freed, a thread keeps at most kMaxCachedBytes; blocks
// over kMaxCachedBlockBytes are never kept.
TEST(SqliteMemoryTest, TheCachePerThreadIsBounded) {
  skillstore::testing::TempDir dir;
  testing::OpenWalDb(dir.path() + "/init.db");
  std::thread([] {
    std::vector<void*> blocks;
    for (int i = 0; i < 4000; ++i) blocks.push_back(sqlite3_malloc(1000));
    for (void* block : blocks) sqlite3_free(block);
    EXPECT_GT(SqliteMemoryCachedBytes(), kMaxCachedBytes / 2);
    EXPECT_LE(SqliteMemoryCachedBytes(), kMaxCachedBytes);

    const size_t before = SqliteMemoryCachedBytes();
    sqlite3_free(sqlite3_malloc(static_cast<int>(kMaxCachedBlockBytes) + 1));
    EXPECT_EQ(SqliteMemoryCachedBytes(), before);
  }).join();
}

// A block freed on another thread joins that thread's cache; a thread's
// cache goes back to malloc when the thread ends.
TEST(SqliteMemoryTest, BlocksMoveBetweenThreadsAndAThreadsCacheIsFreedAtItsEnd) {
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
  GTEST_SKIP() << "AddressSanitizer's malloc keeps no mallinfo2 counts";
#endif
#endif
  skillstore::testing::TempDir dir;
  testing::OpenWalDb(dir.path() + "/init.db");
  std::vector<void*> blocks;
  for (int i = 0; i < 500; ++i) blocks.push_back(sqlite3_malloc(1000));
  const size_t in_use_before = mallinfo2().uordblks;
  std::thread([&blocks] {
    EXPECT_EQ(SqliteMemoryCachedBytes(), 0u);
    for (void* block : blocks) sqlite3_free(block);
    EXPECT_EQ(SqliteMemoryCachedBlocks(), 500u);
  }).join();
  // The 500 KB that thread cached is malloc's again (the main arena's
  // count: both threads' blocks came from it).
  EXPECT_LT(mallinfo2().uordblks + 400 * 1000, in_use_before);
}

}  // namespace
}  // namespace skillstore::server
