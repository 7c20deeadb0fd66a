#include "token_reload.h"

#include <utility>
#include <vector>

#include "spdlog/spdlog.h"

namespace skillstore::worker {

std::unique_ptr<TokenReload> TokenReload::Start(client::ClientSecurity* security) {
  if (security->token_file.empty()) return nullptr;
  auto holder = std::make_shared<client::TokenHolder>(security->token);
  security->token_holder = holder;
  return std::unique_ptr<TokenReload>(
      new TokenReload(security->token_file, security->token, std::move(holder)));
}

void TokenReload::Reload() {
  std::vector<std::string> warnings;
  absl::StatusOr<std::string> token = client::ReadTokenFile(file_, &warnings);
  if (!token.ok()) {
    spdlog::error("SIGHUP: token file not reloaded, still sending the previous token: {}",
                  std::string(token.status().message()));
    return;
  }
  for (const std::string& warning : warnings) spdlog::warn("{}", warning);
  if (*token == token_) {
    spdlog::info("SIGHUP: token file {} unchanged", file_);
    return;
  }
  holder_->Set(*token);
  token_ = std::move(*token);
  spdlog::info("SIGHUP: token reloaded from --token-file {}: calls from now on send it", file_);
}

}  // namespace skillstore::worker
