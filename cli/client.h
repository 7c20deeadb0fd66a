// The connection to skillstore-server: one channel, per-call contexts with a
// deadline, and the translation of gRPC errors into absl::Status messages
// that tell a person what to do next.
#ifndef SKILLSTORE_CLI_CLIENT_H_
#define SKILLSTORE_CLI_CLIENT_H_

#include <memory>
#include <string>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cli/command.h"
#include "skillstore/v1/skillstore.grpc.pb.h"

namespace skillstore::cli {

// Converts a failed RPC to an absl::Status with the same code. `what` names
// the operation ("list tasks"); `server` is the address the call went to.
// UNAVAILABLE becomes "cannot reach server at X: is skillstore-server
// running? (--server)", DEADLINE_EXCEEDED says how to allow more time, and
// UNAUTHENTICATED and PERMISSION_DENIED say which token setting to check,
// and other codes keep the server's own message, which names the problem.
// `tls` (the connection used TLS) picks the hint for a failed TLS handshake.
absl::Status FromGrpcStatus(const grpc::Status& status, std::string_view what,
                            std::string_view server, bool tls = false);

class Client {
 public:
  // Creates the channel: TLS and bearer token as options.security says
  // (plaintext without a token by default). Does not connect: the first call
  // does, and fails fast with UNAVAILABLE.
  explicit Client(const GlobalOptions& options);

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  v1::SkillStore::Stub& stub() { return *stub_; }
  const std::string& address() const { return address_; }

  // A context whose deadline is --rpc-timeout from now.
  std::unique_ptr<grpc::ClientContext> NewContext() const;

  // Runs one unary RPC: `(stub.*method)(context, request, response)`.
  template <typename Request, typename Response>
  absl::Status Call(grpc::Status (v1::SkillStore::Stub::*method)(
                        grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response,
                    std::string_view what) {
    std::unique_ptr<grpc::ClientContext> context = NewContext();
    grpc::Status status = ((*stub_).*method)(context.get(), request, response);
    return FromGrpcStatus(status, what, address_, tls_);
  }

  absl::Status FromGrpc(const grpc::Status& status, std::string_view what) const {
    return FromGrpcStatus(status, what, address_, tls_);
  }

 private:
  std::string address_;
  bool tls_;
  absl::Duration rpc_timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SkillStore::Stub> stub_;
};

}  // namespace skillstore::cli

#endif  // SKILLSTORE_CLI_CLIENT_H_
