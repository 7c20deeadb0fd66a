#include "common/metrics/metrics_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/auth/token.h"
#include "common/metrics/exposition.h"
#include "common/metrics/http_request.h"

namespace skillstore::metrics {
namespace {

struct HostPort {
  std::string host;  // "" = every interface
  std::string port;
};

absl::StatusOr<HostPort> SplitHostPort(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address '", listen, "' has no port; use host:port, e.g. 127.0.0.1:9464"));
  }
  HostPort out;
  out.host = listen.substr(0, colon);
  out.port = listen.substr(colon + 1);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  int port = -1;
  if (!absl::SimpleAtoi(out.port, &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address '", listen, "': port must be a number from 0 to 65535"));
  }
  return out;
}

absl::StatusOr<UniqueFd> Listen(const HostPort& address, const std::string& spelled) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* results = nullptr;
  const int rc = getaddrinfo(address.host.empty() ? nullptr : address.host.c_str(),
                             address.port.c_str(), &hints, &results);
  if (rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address '", spelled, "': ", gai_strerror(rc)));
  }
  std::string last_error = "no usable address";
  UniqueFd bound;
  for (addrinfo* ai = results; ai != nullptr && !bound.valid(); ai = ai->ai_next) {
    UniqueFd fd(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                       ai->ai_protocol));
    if (!fd.valid()) {
      last_error = std::strerror(errno);
      continue;
    }
    const int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd.get(), 64) != 0) {
      last_error = std::strerror(errno);
      continue;
    }
    bound = std::move(fd);
  }
  freeaddrinfo(results);
  if (!bound.valid()) {
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", spelled, ": ",
                                               last_error,
                                               " (is the port in use? pass --metrics-listen)"));
  }
  return bound;
}

int BoundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

int RemainingMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 60000));
}

enum class Wait { kReady, kStopped, kTimedOut };

// Waits until `fd` has `events`, the server stops, or `deadline`.
Wait WaitFor(int fd, short events, int stop_fd, absl::Time deadline) {
  while (true) {
    const int timeout_ms = RemainingMs(deadline);
    if (timeout_ms == 0) return Wait::kTimedOut;
    pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
    const int n = poll(fds, 2, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[1].revents != 0) return Wait::kStopped;
    if (fds[0].revents != 0) return Wait::kReady;
  }
}

std::string Response(std::string_view status, std::string_view content_type,
                     const std::string& body, bool head_only,
                     std::string_view extra_headers = "") {
  std::string out = "HTTP/1.1 " + std::string(status) + "\r\nContent-Type: " +
                    std::string(content_type) + "\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n" + std::string(extra_headers) +
                    "Connection: close\r\n\r\n";
  if (!head_only) out += body;
  return out;
}

std::string TextResponse(std::string_view status, const std::string& body,
                         std::string_view extra_headers = "") {
  return Response(status, "text/plain; charset=utf-8", body, false, extra_headers);
}

// True when `head` carries `Authorization: Bearer <token>`. Compared in
// constant time, like the gRPC tokens (common/auth/token.h).
bool HasBearerToken(std::string_view head, const std::string& token) {
  const std::optional<std::string_view> header = HeaderValue(head, "authorization");
  if (!header.has_value()) return false;
  const std::optional<absl::string_view> sent =
      auth::BearerCredential(absl::string_view(header->data(), header->size()));
  return sent.has_value() && auth::ConstantTimeEquals(*sent, token);
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(Options options,
                                                                    const Registry& registry) {
  absl::StatusOr<HostPort> address = SplitHostPort(options.listen);
  if (!address.ok()) return address.status();
  std::string bearer_token;
  if (!options.bearer_token_file.empty()) {
    absl::StatusOr<std::string> token =
        auth::ReadTokenFile(options.bearer_token_file, "--metrics-token-file");
    if (!token.ok()) return token.status();
    bearer_token = *std::move(token);
  }
  absl::StatusOr<UniqueFd> listen_fd = Listen(*address, options.listen);
  if (!listen_fd.ok()) return listen_fd.status();

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", std::strerror(errno)));
  }
  auto server = std::unique_ptr<MetricsServer>(new MetricsServer(std::move(options), registry));
  server->bearer_token_ = std::move(bearer_token);
  server->stop_read_ = UniqueFd(pipe_fds[0]);
  server->stop_write_ = UniqueFd(pipe_fds[1]);
  server->listen_fd_ = std::move(*listen_fd);
  server->port_ = BoundPort(server->listen_fd_.get());
  server->acceptor_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  return server;
}

absl::Status MetricsServer::ReloadBearerToken() {
  if (options_.bearer_token_file.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> token =
      auth::ReadTokenFile(options_.bearer_token_file, "--metrics-token-file");
  if (!token.ok()) return token.status();
  std::lock_guard<std::mutex> lock(token_mu_);
  bearer_token_ = *std::move(token);
  return absl::OkStatus();
}

std::string MetricsServer::bearer_token() const {
  std::lock_guard<std::mutex> lock(token_mu_);
  return bearer_token_;
}

MetricsServer::~MetricsServer() { Stop(); }

std::string MetricsServer::address() const {
  const std::string& listen = options_.listen;
  return absl::StrCat(listen.substr(0, listen.rfind(':')), ":", port_);
}

void MetricsServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  stop_write_.Reset();  // every poll() on stop_read_ now returns
  if (acceptor_.joinable()) acceptor_.join();
  std::list<std::unique_ptr<Connection>> connections;
  {
    std::lock_guard<std::mutex> lock(mu_);
    connections.swap(connections_);
  }
  for (auto& connection : connections) connection->thread.join();
  listen_fd_.Reset();
}

void MetricsServer::ReapConnections() {
  std::list<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if ((*it)->done.load()) {
        finished.push_back(std::move(*it));
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& connection : finished) connection->thread.join();  // already returned
}

void MetricsServer::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
    const int n = poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[1].revents != 0) return;
    UniqueFd fd(accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd.valid()) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: the pending connection keeps the socket
        // readable, so back off instead of spinning.
        pollfd stop = {stop_read_.get(), POLLIN, 0};
        if (poll(&stop, 1, 100) != 0) return;
      }
      continue;  // EAGAIN, ECONNABORTED, ...: the client went away
    }
    ReapConnections();
    std::lock_guard<std::mutex> lock(mu_);
    if (static_cast<int>(connections_.size()) >= options_.max_connections) {
      // Best effort on a non-blocking socket: a busy endpoint says so.
      const std::string busy =
          TextResponse("503 Service Unavailable", "too many concurrent scrapes\n");
      (void)!send(fd.get(), busy.data(), busy.size(), MSG_NOSIGNAL);
      continue;
    }
    auto connection = std::make_unique<Connection>();
    connection->fd = std::move(fd);
    Connection* raw = connection.get();
    connection->thread = std::thread([this, raw] {
      Serve(*raw);
      raw->fd.Reset();
      raw->done.store(true);
    });
    connections_.push_back(std::move(connection));
  }
}

void MetricsServer::Serve(Connection& connection) {
  const int fd = connection.fd.get();
  const int stop_fd = stop_read_.get();
  const absl::Time deadline = absl::Now() + options_.io_timeout;

  auto send_all = [&](const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (WaitFor(fd, POLLOUT, stop_fd, deadline) != Wait::kReady) return;
      } else {
        return;  // the client went away
      }
    }
  };

  // Read the request head, bounded in size and time.
  std::string buffer;
  size_t head_length = 0;
  char chunk[2048];
  while (head_length == 0) {
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer.append(chunk, static_cast<size_t>(n));
      head_length = RequestHeadLength(buffer);
      if (head_length == 0 && buffer.size() > options_.max_request_bytes) {
        send_all(TextResponse("431 Request Header Fields Too Large",
                              absl::StrCat("request head over ", options_.max_request_bytes,
                                           " bytes\n")));
        return;
      }
    } else if (n == 0) {
      return;  // closed before a full request
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      const Wait wait = WaitFor(fd, POLLIN, stop_fd, deadline);
      if (wait == Wait::kTimedOut) {
        send_all(TextResponse("408 Request Timeout", "no complete request in time\n"));
      }
      if (wait != Wait::kReady) return;
    } else {
      return;
    }
  }

  absl::StatusOr<RequestLine> request = ParseRequestLine(buffer.substr(0, head_length));
  if (!request.ok()) {
    send_all(TextResponse("400 Bad Request", std::string(request.status().message()) + "\n"));
    return;
  }
  const bool head_only = request->method == "HEAD";
  if (request->method != "GET" && !head_only) {
    send_all(TextResponse("405 Method Not Allowed", "only GET and HEAD\n", "Allow: GET, HEAD\r\n"));
    return;
  }
  if (request->path != "/metrics") {
    send_all(Response("404 Not Found", "text/plain; charset=utf-8",
                      "not found; metrics are at /metrics\n", head_only));
    return;
  }
  if (const std::string token = bearer_token();
      !token.empty() && !HasBearerToken(std::string_view(buffer).substr(0, head_length), token)) {
    send_all(Response("401 Unauthorized", "text/plain; charset=utf-8",
                      "send 'Authorization: Bearer <token>' with the token of "
                      "--metrics-token-file\n",
                      head_only, "WWW-Authenticate: Bearer\r\n"));
    return;
  }
  send_all(Response("200 OK", kExpositionContentType, registry_.Expose(), head_only));
}

}  // namespace skillstore::metrics
