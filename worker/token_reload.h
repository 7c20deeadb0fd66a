// skill-worker's --token-file re-read on SIGHUP, so a rotated worker token
// reaches the calls that follow without a restart. Rotate with an overlap:
// add the new token's line to the server's --auth-token-file (and SIGHUP the
// server), put the new token in the worker's file and SIGHUP the worker,
// then remove the old line. A file that fails the startup checks (missing,
// empty, more than one word) is refused and the previous token stays.
#ifndef SKILLSTORE_WORKER_TOKEN_RELOAD_H_
#define SKILLSTORE_WORKER_TOKEN_RELOAD_H_

#include <memory>
#include <string>

#include "common/client_credentials.h"

namespace skillstore::worker {

class TokenReload {
 public:
  // Points security->token_holder at the token (build the channel
  // afterwards). Null when the token does not come from --token-file
  // ($SKILLSTORE_TOKEN, or none): there is nothing to re-read.
  static std::unique_ptr<TokenReload> Start(client::ClientSecurity* security);

  // SIGHUP: re-reads the file and logs the outcome, never the token. Called
  // from one thread (the signal watcher's).
  void Reload();

 private:
  TokenReload(std::string file, std::string token, std::shared_ptr<client::TokenHolder> holder)
      : file_(std::move(file)), token_(std::move(token)), holder_(std::move(holder)) {}

  const std::string file_;
  std::string token_;  // the token being sent
  const std::shared_ptr<client::TokenHolder> holder_;
};

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_TOKEN_RELOAD_H_
