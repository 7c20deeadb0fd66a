// libskillstore_fsync_fault.so, preloaded into a server by
// fsync_failure_test: fsync and fdatasync fail with EIO while the file named
// by $SKILLSTORE_FAIL_FSYNC_WHEN exists (the test creates it when the disk
// is to "fail"), and do the real thing otherwise. With
// $SKILLSTORE_FAIL_FSYNC_ONLY set, only syncs of a file whose path ends with
// it fail (e.g. "store.db": the database file, not its "-wal").
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace {

using SyncFn = int (*)(int);

bool Failing(int fd) {
  const char* marker = std::getenv("SKILLSTORE_FAIL_FSYNC_WHEN");
  if (marker == nullptr || access(marker, F_OK) != 0) return false;
  const char* only = std::getenv("SKILLSTORE_FAIL_FSYNC_ONLY");
  if (only == nullptr) return true;
  char path[PATH_MAX];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = readlink(link.c_str(), path, sizeof path);
  if (n <= 0) return false;
  const std::string file(path, static_cast<size_t>(n));
  const std::string suffix(only);
  return file.size() >= suffix.size() &&
         file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

extern "C" int fsync(int fd) {
  static const auto real = reinterpret_cast<SyncFn>(dlsym(RTLD_NEXT, "fsync"));
  if (Failing(fd)) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

extern "C" int fdatasync(int fd) {
  static const auto real = reinterpret_cast<SyncFn>(dlsym(RTLD_NEXT, "fdatasync"));
  if (Failing(fd)) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}
