#include "tls_reloader.h"

#include <fcntl.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/auth/tls_files.h"
#include "spdlog/spdlog.h"
#include "status_macros.h"

namespace skillstore::server {
namespace {

// Owns a file descriptor until released.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) close(fd_);
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

absl::Status ErrnoError(absl::string_view what, int error) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(error)));
}

// The identity file gRPC reads twice, once as the private key and once as the
// certificate chain. OpenSSL's PEM readers skip blocks of other types, so one
// file holding both serves both reads. One file rather than two because the
// watcher reads the key and the certificate one after the other: with two
// files replaced one after the other, it could pair the new key with the old
// certificate; one file is replaced in a single step.
std::string IdentityFile(const TlsMaterial& material) {
  std::string file = material.cert;
  if (!file.empty() && file.back() != '\n') file.push_back('\n');
  file += material.key;
  return file;
}

}  // namespace

absl::StatusOr<TlsMaterial> LoadTlsMaterial(const TlsFiles& files) {
  TlsMaterial material;
  SKS_ASSIGN_OR_RETURN(material.cert, auth::ReadCertificatePem(files.cert, "--tls-cert"));
  SKS_ASSIGN_OR_RETURN(material.key, auth::ReadPrivateKeyPem(files.key, "--tls-key"));
  SKS_RETURN_IF_ERROR(
      auth::CheckKeyMatchesCertificate(material.cert, material.key, files.cert, files.key));
  if (!files.client_ca.empty()) {
    SKS_ASSIGN_OR_RETURN(material.client_ca,
                         auth::ReadCertificatePem(files.client_ca, "--tls-client-ca"));
  }
  return material;
}

// --- MemoryFile -------------------------------------------------------------

absl::StatusOr<int> MemoryFile::Write(const std::string& name, absl::string_view content,
                                      int64_t mtime_seconds) {
  ScopedFd fd(memfd_create(name.c_str(), MFD_CLOEXEC));
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
  SKS_ASSIGN_OR_RETURN(int fd, Write(name, content, now));
  auto file = std::unique_ptr<MemoryFile>(new MemoryFile(std::move(name), fd, now));
  // gRPC opens the path, not the descriptor: without /proc (some minimal
  // sandboxes) it could not, and would fail every handshake. Say so now.
  ScopedFd probe(open(file->path().c_str(), O_RDONLY | O_CLOEXEC));
  if (probe.get() < 0) {
    const int error = errno;
    return absl::FailedPreconditionError(
        absl::StrCat("serving TLS needs /proc mounted (the certificate reaches gRPC through ",
                     file->path(), "): ", std::strerror(error)));
  }
  return file;
}

MemoryFile::~MemoryFile() { close(fd_); }

absl::Status MemoryFile::Replace(absl::string_view content) {
  const int64_t mtime = std::max<int64_t>(std::time(nullptr), mtime_seconds_ + 1);
  SKS_ASSIGN_OR_RETURN(int new_fd, Write(name_, content, mtime));
  ScopedFd replacement(new_fd);
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

// --- TlsReloader -------------------------------------------------------------

absl::StatusOr<std::unique_ptr<TlsReloader>> TlsReloader::Create(TlsFiles files) {
  SKS_ASSIGN_OR_RETURN(TlsMaterial material, LoadTlsMaterial(files));
  auto reloader = std::unique_ptr<TlsReloader>(new TlsReloader(std::move(files)));
  SKS_ASSIGN_OR_RETURN(reloader->identity_,
                       MemoryFile::Create("skillstore-tls-identity", IdentityFile(material)));
  const bool mutual = reloader->mutual();
  if (mutual) {
    SKS_ASSIGN_OR_RETURN(reloader->client_ca_,
                         MemoryFile::Create("skillstore-tls-client-ca", material.client_ca));
  }
  // The watcher reads the files once here, before it returns, so the
  // credentials hold the pair from the first handshake on.
  reloader->provider_ = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      reloader->identity_->path(), reloader->identity_->path(),
      mutual ? reloader->client_ca_->path() : std::string(), kPublishIntervalSeconds);
  grpc::experimental::TlsServerCredentialsOptions options(reloader->provider_);
  options.watch_identity_key_cert_pairs();
  if (mutual) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  reloader->credentials_ = grpc::experimental::TlsServerCredentials(options);
  if (reloader->credentials_ == nullptr) {
    return absl::InternalError("gRPC refused the TLS server credentials options");
  }
  {
    absl::MutexLock lock(&reloader->mu_);
    reloader->served_ = std::move(material);
    // Checked by LoadTlsMaterial: the certificate parses.
    reloader->served_not_after_ = auth::CertificateNotAfter(reloader->served_.cert).value_or(0);
  }
  return reloader;
}

TlsReloader::~TlsReloader() {
  {
    absl::MutexLock lock(&poll_mu_);
    stopping_ = true;
  }
  if (poller_.joinable()) poller_.join();
}

absl::StatusOr<bool> TlsReloader::Reload() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<bool> changed = ReloadLocked();
  if (!changed.ok()) {
    ++reload_counts_.failed;
  } else if (*changed) {
    ++reload_counts_.changed;
  } else {
    ++reload_counts_.unchanged;
  }
  return changed;
}

absl::StatusOr<bool> TlsReloader::ReloadLocked() {
  SKS_ASSIGN_OR_RETURN(TlsMaterial fresh, LoadTlsMaterial(files_));
  const bool identity_changed = fresh.cert != served_.cert || fresh.key != served_.key;
  const bool client_ca_changed = fresh.client_ca != served_.client_ca;
  if (identity_changed) {
    SKS_RETURN_IF_ERROR(identity_->Replace(IdentityFile(fresh)));
    served_.cert = std::move(fresh.cert);
    served_.key = std::move(fresh.key);
    served_not_after_ = auth::CertificateNotAfter(served_.cert).value_or(0);
  }
  if (client_ca_changed) {
    SKS_RETURN_IF_ERROR(client_ca_->Replace(fresh.client_ca));
    served_.client_ca = std::move(fresh.client_ca);
  }
  return identity_changed || client_ca_changed;
}

int64_t TlsReloader::NotAfter() const {
  absl::MutexLock lock(&mu_);
  return served_not_after_;
}

TlsReloader::ReloadCounts TlsReloader::reload_counts() const {
  absl::MutexLock lock(&mu_);
  return reload_counts_;
}

std::string TlsReloader::Describe() const {
  absl::MutexLock lock(&mu_);
  return auth::DescribeCertificate(served_.cert);
}

void TlsReloader::StartPolling(absl::Duration interval) {
  if (poller_.joinable() || interval <= absl::ZeroDuration()) return;
  poller_ = std::thread([this, interval] { PollLoop(interval); });
}

void TlsReloader::PollLoop(absl::Duration interval) {
  std::string reported;  // the last failure logged; empty when none is pending
  for (;;) {
    {
      absl::MutexLock lock(&poll_mu_);
      if (poll_mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval)) return;
    }
    absl::StatusOr<bool> reloaded = Reload();
    if (!reloaded.ok()) {
      // A renewal tool that writes the certificate and then the key can be
      // caught in between; the next check sees the pair. A file that stays
      // broken is reported once, not every interval.
      if (std::string(reloaded.status().message()) != reported) {
        reported = std::string(reloaded.status().message());
        spdlog::error(
            "TLS files not reloaded, still serving the previous certificate ({}): {} (checked "
            "again every {}; fix the file, or SIGHUP once it is fixed)",
            Describe(), reported, absl::FormatDuration(interval));
      }
      continue;
    }
    reported.clear();
    if (*reloaded) {
      spdlog::info(
          "TLS files reloaded: new connections use them within {}s (certificate: {}); open "
          "connections keep theirs",
          kPublishIntervalSeconds, Describe());
    }
  }
}

}  // namespace skillstore::server
