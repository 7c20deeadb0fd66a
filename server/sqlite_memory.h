// The memory allocator SQLite uses in the server: malloc, with a small
// cache of freed blocks per thread and size class in front of it.
//
// Why: Debian builds SQLite with SQLITE_OMIT_LOOKASIDE, the per-connection
// cache of small blocks that normally serves SQLite's short-lived
// allocations (cursors, parse nodes, the buffer a row is built in). Without
// it every one of them is a malloc and a free: about 46 pairs per task in
// the write loop, 13% of its instructions (callgrind), most of it glibc's
// free path for blocks tcache does not keep. Freed blocks here go back on a
// per-thread list of their class and the next allocation of that class
// takes one off: a few instructions, no lock.
//
// Bounds: at most kMaxCachedBytes of freed blocks stay cached per thread
// (more are freed for real), blocks over kMaxCachedBlockBytes are never
// cached, and a thread's cache is freed when the thread ends. A block may be
// freed on another thread than the one that allocated it; it then joins
// that thread's cache.
#ifndef SKILLSTORE_SERVER_SQLITE_MEMORY_H_
#define SKILLSTORE_SERVER_SQLITE_MEMORY_H_

#include <cstddef>

namespace skillstore::server {

inline constexpr size_t kMaxCachedBytes = 1 << 20;
inline constexpr size_t kMaxCachedBlockBytes = 4096;

// Makes SQLite allocate through this allocator (SQLITE_CONFIG_MALLOC).
// Global: must run before SQLite initializes (Db::Open calls it once);
// returns SQLite's answer (SQLITE_MISUSE once SQLite is initialized).
int InstallSqliteMemory();

// Freed blocks the calling thread's cache holds, and their bytes (tests).
size_t SqliteMemoryCachedBlocks();
size_t SqliteMemoryCachedBytes();

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_SQLITE_MEMORY_H_
