#include "beanstalk_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace skillstore::bench {

BeanstalkConnection::BeanstalkConnection(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (getaddrinfo(host.c_str(), service.c_str(), &hints, &res) != 0 || res == nullptr) {
    throw std::runtime_error("beanstalk: cannot resolve " + host);
  }
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    fd_ = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd_ < 0) continue;
    if (connect(fd_, a->ai_addr, a->ai_addrlen) == 0) break;
    close(fd_);
    fd_ = -1;
  }
  freeaddrinfo(res);
  if (fd_ < 0) throw std::runtime_error("beanstalk: cannot connect to " + host + ":" + service);
  // Small request/reply messages: send each at once.
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

BeanstalkConnection::~BeanstalkConnection() {
  if (fd_ >= 0) close(fd_);
}

void BeanstalkConnection::WriteAll(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("beanstalk: send: ") + std::strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

std::string BeanstalkConnection::ReadLine() {
  for (;;) {
    const size_t eol = in_.find("\r\n");
    if (eol != std::string::npos) {
      std::string line = in_.substr(0, eol);
      in_.erase(0, eol + 2);
      return line;
    }
    char buf[65536];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n == 0) throw std::runtime_error("beanstalk: connection closed");
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("beanstalk: recv: ") + std::strerror(errno));
    }
    in_.append(buf, static_cast<size_t>(n));
  }
}

std::string BeanstalkConnection::ReadExact(size_t n) {
  while (in_.size() < n + 2) {
    char buf[65536];
    const ssize_t got = recv(fd_, buf, sizeof buf, 0);
    if (got == 0) throw std::runtime_error("beanstalk: connection closed");
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("beanstalk: recv: ") + std::strerror(errno));
    }
    in_.append(buf, static_cast<size_t>(got));
  }
  std::string data = in_.substr(0, n);
  in_.erase(0, n + 2);
  return data;
}

void BeanstalkConnection::SendPut(uint32_t priority, uint32_t ttr_seconds,
                                  std::string_view body) {
  std::string cmd = "put " + std::to_string(priority) + " 0 " + std::to_string(ttr_seconds) +
                    " " + std::to_string(body.size()) + "\r\n";
  cmd.append(body);
  cmd += "\r\n";
  WriteAll(cmd);
}

uint64_t BeanstalkConnection::ReadPutReply() {
  const std::string line = ReadLine();
  if (line.rfind("INSERTED ", 0) != 0) {
    // BURIED (out of memory) or an error: the job is not safely queued.
    throw std::runtime_error("beanstalk: put answered '" + line + "'");
  }
  return std::stoull(line.substr(9));
}

std::optional<BeanstalkJob> BeanstalkConnection::Reserve(int timeout_seconds) {
  WriteAll("reserve-with-timeout " + std::to_string(timeout_seconds) + "\r\n");
  const std::string line = ReadLine();
  if (line == "TIMED_OUT" || line == "DEADLINE_SOON") return std::nullopt;
  // RESERVED <id> <bytes>
  if (line.rfind("RESERVED ", 0) != 0) {
    throw std::runtime_error("beanstalk: reserve answered '" + line + "'");
  }
  const size_t sp = line.find(' ', 9);
  BeanstalkJob job;
  job.id = std::stoull(line.substr(9, sp - 9));
  job.body = ReadExact(std::stoull(line.substr(sp + 1)));
  return job;
}

void BeanstalkConnection::Delete(uint64_t id) {
  WriteAll("delete " + std::to_string(id) + "\r\n");
  const std::string line = ReadLine();
  if (line != "DELETED") throw std::runtime_error("beanstalk: delete answered '" + line + "'");
}

std::map<std::string, std::string> BeanstalkConnection::Stats() {
  WriteAll("stats\r\n");
  const std::string line = ReadLine();  // OK <bytes>
  if (line.rfind("OK ", 0) != 0) throw std::runtime_error("beanstalk: stats answered " + line);
  const std::string yaml = ReadExact(std::stoull(line.substr(3)));
  std::map<std::string, std::string> stats;
  size_t pos = 0;
  while (pos < yaml.size()) {
    size_t eol = yaml.find('\n', pos);
    if (eol == std::string::npos) eol = yaml.size();
    const std::string entry = yaml.substr(pos, eol - pos);
    const size_t colon = entry.find(": ");
    if (colon != std::string::npos) stats[entry.substr(0, colon)] = entry.substr(colon + 2);
    pos = eol + 1;
  }
  return stats;
}

}  // namespace skillstore::bench
