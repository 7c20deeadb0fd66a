#include "common/auth/memory_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "common/unique_fd.h"

namespace skillstore::auth {

absl::StatusOr<int> MemoryFile::Write(const std::string& name, absl::string_view content,
                                      int64_t mtime_seconds) {
  UniqueFd fd(memfd_create(name.c_str(), MFD_CLOEXEC));
  if (fd.get() < 0) {
    const int error = errno;  // before StrCat, which may allocate and touch errno
    return ErrnoError(absl::StrCat("memfd_create(", name, ")"), error);
  }
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = write(fd.get(), content.data() + written, content.size() - written);
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      return ErrnoError(absl::StrCat("writing memfd ", name), error);
    }
    written += static_cast<size_t>(n);
  }
  // gRPC's watcher takes a pair only when the files' modification times, in
  // whole seconds, are the same before and after it read them, and reads
  // again otherwise: that is how it notices a replacement in the middle of
  // its reads. Two replacements within one second would look alike to it, so
  // each new file is dated a whole second past the one it replaces.
  const struct timespec times[2] = {{static_cast<time_t>(mtime_seconds), 0},
                                    {static_cast<time_t>(mtime_seconds), 0}};
  if (futimens(fd.get(), times) != 0) {
    const int error = errno;
    return ErrnoError(absl::StrCat("setting the time of memfd ", name), error);
  }
  return fd.release();
}

absl::StatusOr<std::unique_ptr<MemoryFile>> MemoryFile::Create(std::string name,
                                                               absl::string_view content) {
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  absl::StatusOr<int> fd = Write(name, content, now);
  if (!fd.ok()) return fd.status();
  auto file = std::unique_ptr<MemoryFile>(new MemoryFile(std::move(name), *fd, now));
  // gRPC opens the path, not the descriptor: without /proc (some minimal
  // sandboxes) it could not, and would fail every handshake. Say so now.
  UniqueFd probe(open(file->path().c_str(), O_RDONLY | O_CLOEXEC));
  if (probe.get() < 0) {
    const int error = errno;
    return absl::FailedPreconditionError(
        absl::StrCat("TLS needs /proc mounted (certificates reach gRPC through ", file->path(),
                     "): ", std::strerror(error)));
  }
  return file;
}

MemoryFile::~MemoryFile() { close(fd_); }

absl::Status MemoryFile::Replace(absl::string_view content) {
  const int64_t mtime = std::max<int64_t>(std::time(nullptr), mtime_seconds_ + 1);
  absl::StatusOr<int> new_fd = Write(name_, content, mtime);
  if (!new_fd.ok()) return new_fd.status();
  UniqueFd replacement(*new_fd);
  // dup3 closes the old file and puts the new one at the same number in one
  // step: /proc/self/fd/N names the old file or the new one, never neither.
  if (dup3(replacement.get(), fd_, O_CLOEXEC) < 0) {
    const int error = errno;
    return ErrnoError(absl::StrCat("replacing memfd ", name_), error);
  }
  mtime_seconds_ = mtime;
  return absl::OkStatus();
}

std::string MemoryFile::path() const { return absl::StrCat("/proc/self/fd/", fd_); }

}  // namespace skillstore::auth
