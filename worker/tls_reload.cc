#include "tls_reload.h"

#include <string>
#include <utility>

#include "spdlog/spdlog.h"

namespace skillstore::worker {
namespace {

void LogReloaded(const client::ClientTlsReloader& reloader) {
  spdlog::info(
      "TLS files reloaded: new connections use them within {}s ({}); open connections keep "
      "theirs",
      client::ClientTlsReloader::kPublishIntervalSeconds, reloader.Describe());
}

void LogRefused(const client::ClientTlsReloader& reloader, const absl::Status& status,
                const std::string& when) {
  spdlog::error("TLS files not reloaded, still using the previous ones ({}): {}{}",
                reloader.Describe(), std::string(status.message()), when);
}

}  // namespace

absl::StatusOr<std::unique_ptr<WorkerTlsReload>> WorkerTlsReload::Start(
    client::ClientSecurity* security, absl::Duration interval) {
  if (!client::ClientTlsReloader::HasFiles(*security)) return nullptr;
  absl::StatusOr<std::unique_ptr<client::ClientTlsReloader>> reloader =
      client::ClientTlsReloader::Create(*security);
  if (!reloader.ok()) return reloader.status();
  auto reload = std::unique_ptr<WorkerTlsReload>(new WorkerTlsReload(std::move(*reloader)));
  security->certificate_provider = reload->reloader_->provider();
  spdlog::info("TLS: {}; the files are re-read on SIGHUP{}", reload->reloader_->Describe(),
               interval > absl::ZeroDuration() ? " and every " + absl::FormatDuration(interval)
                                               : std::string());
  if (interval > absl::ZeroDuration()) {
    client::ClientTlsReloader* tls = reload->reloader_.get();
    auth::ReloadPoller::Callbacks callbacks;
    callbacks.reload = [tls] { return tls->Reload(); };
    callbacks.on_changed = [tls] { LogReloaded(*tls); };
    callbacks.on_failure = [tls, interval](const absl::Status& status) {
      LogRefused(*tls, status,
                 " (checked again every " + absl::FormatDuration(interval) +
                     "; fix the file, or SIGHUP once it is fixed)");
    };
    reload->poller_ = std::make_unique<auth::ReloadPoller>(interval, std::move(callbacks));
  }
  return reload;
}

void WorkerTlsReload::Reload() {
  absl::StatusOr<bool> reloaded = reloader_->Reload();
  if (!reloaded.ok()) {
    LogRefused(*reloader_, reloaded.status(), " (SIGHUP)");
  } else if (*reloaded) {
    LogReloaded(*reloader_);
  } else {
    spdlog::info("SIGHUP: TLS files unchanged: still using {}", reloader_->Describe());
  }
}

}  // namespace skillstore::worker
