#include "http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace skillstore::metrics::testing {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

absl::StatusOr<HttpResponse> SendRawRequest(int port, std::string_view raw_request,
                                            absl::Duration timeout) {
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return absl::InternalError(std::strerror(errno));
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(absl::ToInt64Seconds(timeout));
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return absl::UnavailableError(absl::StrCat("connect to port ", port, ": ", std::strerror(errno)));
  }
  size_t sent = 0;
  while (sent < raw_request.size()) {
    const ssize_t n = send(fd.get(), raw_request.data() + sent, raw_request.size() - sent,
                           MSG_NOSIGNAL);
    if (n <= 0) return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buffer[8192];
  while (true) {
    const ssize_t n = recv(fd.get(), buffer, sizeof buffer, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ECONNRESET && !raw.empty()) break;
      return absl::DeadlineExceededError(absl::StrCat("recv: ", std::strerror(errno)));
    }
    raw.append(buffer, static_cast<size_t>(n));
  }
  const size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("no complete response: '", raw, "'"));
  }
  HttpResponse response;
  std::string_view head(raw.data(), head_end);
  const size_t first_line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, first_line_end);
  if (status_line.substr(0, 9) != "HTTP/1.1 " ||
      !absl::SimpleAtoi(std::string(status_line.substr(9, 3)), &response.status)) {
    return absl::InvalidArgumentError(absl::StrCat("bad status line '", std::string(status_line), "'"));
  }
  if (first_line_end != std::string_view::npos) {
    std::string_view rest = head.substr(first_line_end + 2);
    while (!rest.empty()) {
      const size_t end = rest.find("\r\n");
      std::string_view line = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 2);
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string value(line.substr(colon + 1));
      absl::StripAsciiWhitespace(&value);
      response.headers[absl::AsciiStrToLower(std::string(line.substr(0, colon)))] = value;
    }
  }
  response.body = raw.substr(head_end + 4);
  return response;
}

absl::StatusOr<HttpResponse> HttpGet(int port, std::string_view path) {
  return SendRawRequest(port, absl::StrCat("GET ", std::string(path),
                                           " HTTP/1.1\r\nHost: localhost\r\n"
                                           "Connection: close\r\n\r\n"));
}

}  // namespace skillstore::metrics::testing
