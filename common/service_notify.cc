#include "common/service_notify.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/unique_fd.h"

namespace skillstore {

absl::Status NotifyServiceManager(std::string_view state) {
  const char* socket_name = std::getenv("NOTIFY_SOCKET");
  if (socket_name == nullptr || *socket_name == '\0') return absl::OkStatus();
  const std::string name = socket_name;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  // A path, or "@name" for an abstract socket (its first byte NUL).
  if ((name[0] != '/' && name[0] != '@') || name.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("NOTIFY_SOCKET=", name, " is neither an absolute path nor an @name"));
  }
  std::memcpy(address.sun_path, name.data(), name.size());
  if (name[0] == '@') address.sun_path[0] = '\0';
  const socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid() ||
      ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
               reinterpret_cast<const sockaddr*>(&address), length) < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot notify the service manager at NOTIFY_SOCKET=", name, ": ",
                     std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace skillstore
