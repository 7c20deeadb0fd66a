// UniqueFd: owns one file descriptor and closes it exactly once (the
// /metrics server's sockets, the memfd copies of TLS files).
#ifndef SKILLSTORE_COMMON_UNIQUE_FD_H_
#define SKILLSTORE_COMMON_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace skillstore {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership: the caller closes what this returns.
  int release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_UNIQUE_FD_H_
