// libskillstore_slow_fsync.so: an LD_PRELOAD shim that makes every fsync and
// fdatasync of the process it is loaded into wait SLOW_FSYNC_US microseconds
// (default 4000) before doing the real one, to stand in for a disk whose
// flush takes milliseconds (network block storage, a busy or rotating disk)
// on a machine whose own flush takes ~1 ms. For bench/slow_disk.sh only.
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

namespace {

using SyncFn = int (*)(int);

void Delay() {
  static const long delay_us = [] {
    const char* value = std::getenv("SLOW_FSYNC_US");
    return value != nullptr ? std::atol(value) : 4000L;
  }();
  if (delay_us > 0) usleep(static_cast<useconds_t>(delay_us));
}

}  // namespace

extern "C" int fsync(int fd) {
  static const auto real = reinterpret_cast<SyncFn>(dlsym(RTLD_NEXT, "fsync"));
  Delay();
  return real(fd);
}

extern "C" int fdatasync(int fd) {
  static const auto real = reinterpret_cast<SyncFn>(dlsym(RTLD_NEXT, "fdatasync"));
  Delay();
  return real(fd);
}
