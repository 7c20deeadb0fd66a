// NotifySocket: plays systemd's side of the Type=notify protocol for a test.
// It binds an AF_UNIX datagram socket and points NOTIFY_SOCKET at it, so the
// child processes the test starts afterwards (which inherit the environment)
// send it their READY=1 / STOPPING=1 messages.
#ifndef SKILLSTORE_TESTS_TESTING_NOTIFY_SOCKET_H_
#define SKILLSTORE_TESTS_TESTING_NOTIFY_SOCKET_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace skillstore::testing {

class NotifySocket {
 public:
  // Binds `path` and sets NOTIFY_SOCKET to it; ok() says whether it worked.
  explicit NotifySocket(std::string path);
  ~NotifySocket();  // unsets NOTIFY_SOCKET, closes and removes the socket
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  bool ok() const { return fd_ >= 0; }
  // The next message, waiting up to `timeout` for it.
  absl::StatusOr<std::string> Receive(absl::Duration timeout);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace skillstore::testing

#endif  // SKILLSTORE_TESTS_TESTING_NOTIFY_SOCKET_H_
