#include "notify_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace skillstore::testing {

NotifySocket::NotifySocket(std::string path) : path_(std::move(path)) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path_.size() >= sizeof(address.sun_path)) return;
  std::memcpy(address.sun_path, path_.data(), path_.size());
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
}

NotifySocket::~NotifySocket() {
  ::unsetenv("NOTIFY_SOCKET");
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
}

absl::StatusOr<std::string> NotifySocket::Receive(absl::Duration timeout) {
  pollfd ready{fd_, POLLIN, 0};
  const int n = ::poll(&ready, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  if (n <= 0) {
    return absl::DeadlineExceededError(
        absl::StrCat("no message on ", path_, " within ", absl::FormatDuration(timeout)));
  }
  char buffer[4096];
  const ssize_t size = ::recv(fd_, buffer, sizeof(buffer), 0);
  if (size < 0) return absl::InternalError(absl::StrCat("recv: ", std::strerror(errno)));
  return std::string(buffer, static_cast<size_t>(size));
}

}  // namespace skillstore::testing
