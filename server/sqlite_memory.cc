#include "sqlite_memory.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace skillstore::server {
namespace {

// Every block starts with this header; SQLite gets the bytes after it, so
// they keep malloc's 16-byte alignment. `usable` is what xSize reports.
struct alignas(16) BlockHeader {
  uint32_t size_class;  // kUncached: allocated and freed with plain malloc
  uint64_t usable;
};
static_assert(sizeof(BlockHeader) == 16);

// Classes: every multiple of 16 bytes up to 1 KiB (SQLite's small objects
// come in many sizes), then 2 KiB and 4 KiB (row and record buffers; a
// tiny task's result row is about 2.7 KiB).
constexpr uint32_t kSmallClasses = 1024 / 16;
constexpr uint32_t kClasses = kSmallClasses + 2;
constexpr uint32_t kUncached = UINT32_MAX;

constexpr uint64_t ClassBytes(uint32_t size_class) {
  return size_class < kSmallClasses ? (uint64_t{size_class} + 1) * 16
                                    : uint64_t{2048} << (size_class - kSmallClasses);
}
static_assert(ClassBytes(kClasses - 1) == kMaxCachedBlockBytes);

uint32_t ClassFor(uint64_t bytes) {
  if (bytes <= 1024) return bytes == 0 ? 0 : static_cast<uint32_t>((bytes - 1) / 16);
  if (bytes <= 2048) return kSmallClasses;
  if (bytes <= 4096) return kSmallClasses + 1;
  return kUncached;
}

struct FreeBlock {
  FreeBlock* next;
};

// Trivially destructible, so it stays usable while the thread's other
// thread_local objects are destroyed (SQLite may free memory then too).
struct ThreadCache {
  FreeBlock* lists[kClasses];
  uint32_t blocks;
  uint64_t bytes;
  bool guard_armed;  // ThreadCacheGuard constructed for this thread
  bool closed;       // the thread is ending: free everything for real
};
thread_local ThreadCache cache;

void FreeAll(ThreadCache& c) {
  for (FreeBlock*& list : c.lists) {
    while (list != nullptr) {
      FreeBlock* next = list->next;
      std::free(reinterpret_cast<BlockHeader*>(list) - 1);
      list = next;
    }
  }
  c.blocks = 0;
  c.bytes = 0;
}

// Its destructor returns the thread's cache to malloc when the thread ends.
struct ThreadCacheGuard {
  bool armed = false;
  ~ThreadCacheGuard() {
    cache.closed = true;
    FreeAll(cache);
  }
};
thread_local ThreadCacheGuard guard;

void* Allocate(int requested) {
  if (requested < 0) return nullptr;
  const auto bytes = static_cast<uint64_t>(requested);
  ThreadCache& c = cache;
  const uint32_t size_class = ClassFor(bytes);
  if (size_class != kUncached && c.lists[size_class] != nullptr) {
    FreeBlock* block = c.lists[size_class];
    c.lists[size_class] = block->next;
    --c.blocks;
    c.bytes -= ClassBytes(size_class);
    return block;
  }
  const uint64_t usable = size_class == kUncached ? bytes : ClassBytes(size_class);
  auto* header = static_cast<BlockHeader*>(std::malloc(sizeof(BlockHeader) + usable));
  if (header == nullptr) return nullptr;
  header->size_class = size_class;
  header->usable = usable;
  return header + 1;
}

void Free(void* p) {
  if (p == nullptr) return;
  BlockHeader* header = static_cast<BlockHeader*>(p) - 1;
  ThreadCache& c = cache;
  const uint32_t size_class = header->size_class;
  if (size_class == kUncached || c.closed || c.bytes + header->usable > kMaxCachedBytes) {
    std::free(header);
    return;
  }
  if (!c.guard_armed) {
    // First block this thread caches: construct its guard, so the cache
    // is freed when the thread ends.
    guard.armed = true;
    c.guard_armed = true;
  }
  auto* block = static_cast<FreeBlock*>(p);
  block->next = c.lists[size_class];
  c.lists[size_class] = block;
  ++c.blocks;
  c.bytes += header->usable;
}

int Size(void* p) {
  return p == nullptr ? 0 : static_cast<int>((static_cast<BlockHeader*>(p) - 1)->usable);
}

void* Reallocate(void* p, int requested) {
  if (p == nullptr) return Allocate(requested);
  if (requested < 0) return nullptr;
  const BlockHeader* header = static_cast<BlockHeader*>(p) - 1;
  // A block of the right class already: keep it (SQLite grows buffers in
  // small steps).
  if (header->size_class != kUncached &&
      header->size_class == ClassFor(static_cast<uint64_t>(requested))) {
    return p;
  }
  void* moved = Allocate(requested);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, p, std::min<uint64_t>(header->usable, static_cast<uint64_t>(requested)));
  Free(p);
  return moved;
}

int Roundup(int requested) {
  const uint32_t size_class = ClassFor(static_cast<uint64_t>(requested < 0 ? 0 : requested));
  if (size_class != kUncached) return static_cast<int>(ClassBytes(size_class));
  return (requested + 7) & ~7;
}

int Init(void*) { return SQLITE_OK; }
void Shutdown(void*) {}

}  // namespace

int InstallSqliteMemory() {
  static const sqlite3_mem_methods kMethods = {Allocate, Free,     Reallocate, Size,
                                               Roundup,  Init,     Shutdown,   nullptr};
  return sqlite3_config(SQLITE_CONFIG_MALLOC, &kMethods);
}

size_t SqliteMemoryCachedBlocks() { return cache.blocks; }
size_t SqliteMemoryCachedBytes() { return cache.bytes; }

}  // namespace skillstore::server
