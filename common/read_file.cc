#include "common/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/unique_fd.h"

namespace skillstore {
namespace {

absl::Status CannotRead(const std::string& path, absl::string_view what, int error) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, what.empty() ? "" : " ", path, ": cannot read: ", std::strerror(error)));
}

}  // namespace

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, absl::string_view what,
                                          size_t max_bytes) {
  // open + read rather than an ifstream: a stream reads a directory as an
  // empty file and drops the errno of a failed read.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return CannotRead(path, what, errno);
  std::string contents;
  struct stat st;
  if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode)) {
    contents.reserve(std::min(static_cast<size_t>(st.st_size), max_bytes + 1));
  }
  char buffer[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return CannotRead(path, what, errno);
    }
    contents.append(buffer, static_cast<size_t>(n));
    if (contents.size() > max_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat(what, what.empty() ? "" : " ", path, ": larger than ", max_bytes, " bytes"));
    }
  }
  return contents;
}

}  // namespace skillstore
