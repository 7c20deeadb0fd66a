// libskillstore_fsync_fault.so, preloaded into a server by
// fsync_failure_test: fsync and fdatasync fail with EIO while the file named
// by $SKILLSTORE_FAIL_FSYNC_WHEN exists (the test creates it when the disk
// is to "fail"), and do the real thing otherwise.
#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace {

using SyncFn = int (*)(int);

bool Failing() {
  const char* marker = std::getenv("SKILLSTORE_FAIL_FSYNC_WHEN");
  return marker != nullptr && access(marker, F_OK) == 0;
}

}  // namespace

extern "C" int fsync(int fd) {
  static const auto real = reinterpret_cast<SyncFn>(dlsym(RTLD_NEXT, "fsync"));
  if (Failing()) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

extern "C" int fdatasync(int fd) {
  static const auto real = reinterpret_cast<SyncFn>(dlsym(RTLD_NEXT, "fdatasync"));
  if (Failing()) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}
