// Authorizer: who may call which SkillStore RPC.
//
// Tokens come from a token file (skillstore-server --auth-token-file), one per
// line: `<role> <sha256-hex of the token> [label]`, with `#` comments and blank
// lines. The file holds no secret: clients send the token itself as
// `authorization: Bearer <token>` metadata, the server hashes it and compares
// the hash with every entry in constant time.
//
// A worker token may be bound to the worker ids it acts as by writing its
// role `worker:<pattern>` (a shell-style pattern: `*`, `?`, `[...]`). Without
// a binding any holder of a worker token could claim under another worker's
// id, and a claim with a new instance id ends that worker's leases.
//
// Every SkillStore handler calls Authorize() first. The check lives in the
// handlers, not in gRPC's AuthMetadataProcessor (which runs only with TLS
// server credentials) nor in an interceptor (which cannot end a call cleanly
// in the gRPC of Debian 12), so it holds for plaintext and TLS alike.
// grpc.health.v1.Health and server reflection are not SkillStore methods and
// stay open: probes need health, and reflection reveals the schema, no data.
//
// Reload() (on SIGHUP) swaps the whole set at once; a file that does not
// parse leaves the previous set in force. Tokens are never logged, labels are.
#ifndef SKILLSTORE_SERVER_AUTHORIZER_H_
#define SKILLSTORE_SERVER_AUTHORIZER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth/token.h"

namespace skillstore::server {

struct TokenEntry {
  auth::Role role;
  std::string sha256_hex;  // 64 lowercase hex digits
  std::string label;       // free text for logs; may be empty
  // The worker ids a worker token may name (fnmatch pattern); empty: any.
  std::string worker_ids;
  int line = 0;  // where it came from, for logs
};

// What a caller that passed Authorizer::Check may do beyond its role.
struct Grant {
  std::string worker_ids;  // TokenEntry::worker_ids of the token; empty: any
  std::string label;

  // OK when the token may act as `worker_id`; PERMISSION_DENIED naming the
  // pattern otherwise. Logs nothing (the caller knows how often to).
  absl::Status CheckWorkerId(absl::string_view worker_id) const;
};

// Parses token-file text; `source` names the file in errors ("PATH:LINE: ...").
// Duplicated hashes are an error (two roles for one token would be ambiguous).
absl::StatusOr<std::vector<TokenEntry>> ParseTokenFile(absl::string_view text,
                                                       absl::string_view source);

class Authorizer {
 public:
  // Reads and parses `path`; INVALID_ARGUMENT naming file:line when malformed.
  static absl::StatusOr<std::unique_ptr<Authorizer>> FromFile(std::string path);

  // Re-reads the file. On error the current tokens stay in force.
  absl::Status Reload();

  // The token's grant when the call carries a known token whose role
  // includes `needed`; UNAUTHENTICATED (no / malformed / unknown token) or
  // PERMISSION_DENIED (role too weak, naming the role needed) otherwise.
  absl::StatusOr<Grant> Check(const grpc::ServerContextBase& context, auth::Role needed,
                              absl::string_view method) const;

  const std::string& path() const { return path_; }
  size_t size() const;

 private:
  explicit Authorizer(std::string path) : path_(std::move(path)) {}

  const std::string path_;
  mutable std::shared_mutex mu_;
  std::shared_ptr<const std::vector<TokenEntry>> tokens_;
};

// Handlers call this: no authorizer (no --auth-token-file) lets every call in.
inline absl::Status Authorize(const Authorizer* authorizer, const grpc::ServerContextBase& context,
                              auth::Role needed, absl::string_view method) {
  return authorizer == nullptr ? absl::OkStatus()
                               : authorizer->Check(context, needed, method).status();
}

// The worker methods whose request names one worker (ClaimTask, Heartbeat):
// Authorize for the worker role, then the token's binding to worker ids.
absl::Status AuthorizeWorker(const Authorizer* authorizer, const grpc::ServerContextBase& context,
                             absl::string_view method, absl::string_view worker_id);

// SubmitResult, whose messages each name their worker: the grant to check
// them against (one that allows every worker id without an authorizer).
absl::StatusOr<Grant> AuthorizeWorkerStream(const Authorizer* authorizer,
                                            const grpc::ServerContextBase& context,
                                            absl::string_view method);

// Reactors that end a streaming call at once with `status` (for calls refused
// before their real reactor exists). They delete themselves when done.
template <typename Request, typename Response>
class RefusedBidiReactor final : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit RefusedBidiReactor(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

template <typename Response>
class RefusedWriteReactor final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit RefusedWriteReactor(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace skillstore::server

#endif  // SKILLSTORE_SERVER_AUTHORIZER_H_
