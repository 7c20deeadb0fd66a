// MemoryFile: an in-memory file at a path that never changes, whose content
// is replaced as a whole. It is how the server and the worker hand renewed
// TLS material to gRPC (see tls_publisher.h): gRPC's certificate provider
// only reads paths, and these paths only ever show checked material.
#ifndef SKILLSTORE_COMMON_AUTH_MEMORY_FILE_H_
#define SKILLSTORE_COMMON_AUTH_MEMORY_FILE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skillstore::auth {

// A memfd (memfd_create) at /proc/self/fd/N. Replace() writes the new content
// into a new memfd that dup3() puts in place of N, so whoever opens the path
// gets the old file or the new one, never a mix of both. Nothing touches a
// disk, and the copy of a private key vanishes with the process (even after
// kill -9), unlike a copy in a temporary directory.
//
// Each version is dated a whole second after the one it replaces, because
// gRPC's file watcher tells versions apart by modification time in seconds.
// Not thread-safe: callers serialize Replace().
class MemoryFile {
 public:
  // `name` shows in /proc/PID/fd (memfd:<name>) for whoever debugs the
  // process. FAILED_PRECONDITION when /proc is not mounted (the path would
  // not open).
  static absl::StatusOr<std::unique_ptr<MemoryFile>> Create(std::string name,
                                                            absl::string_view content);
  ~MemoryFile();
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  absl::Status Replace(absl::string_view content);

  // "/proc/self/fd/N"; valid while this object lives.
  std::string path() const;

 private:
  MemoryFile(std::string name, int fd, int64_t mtime)
      : name_(std::move(name)), fd_(fd), mtime_seconds_(mtime) {}

  // A new memfd holding `content`, its mtime `mtime_seconds`. Returns the
  // descriptor.
  static absl::StatusOr<int> Write(const std::string& name, absl::string_view content,
                                   int64_t mtime_seconds);

  const std::string name_;
  int fd_;
  int64_t mtime_seconds_;
};

}  // namespace skillstore::auth

#endif  // SKILLSTORE_COMMON_AUTH_MEMORY_FILE_H_
