#include "cli/client.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace skillstore::cli {
namespace {

// Results of large skills can exceed gRPC's 4 MiB default receive limit; the
// server bounds what it sends, so the client need not add a second limit.
constexpr int kMaxReceiveBytes = 256 * 1024 * 1024;

}  // namespace

absl::Status FromGrpcStatus(const grpc::Status& status, std::string_view what,
                            std::string_view server, bool tls) {
  if (status.ok()) return absl::OkStatus();
  const std::string detail = status.error_message();
  const std::string server_s(server);
  const std::string what_s(what);
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE: {
      const std::string tls_hint = client::TlsFailureHint(detail, tls);
      if (!tls_hint.empty()) {
        return absl::UnavailableError(absl::StrCat("cannot connect to server at ", server_s, ": ",
                                                   tls_hint, " [", detail, "]"));
      }
      return absl::UnavailableError(
          absl::StrCat("cannot reach server at ", server_s,
                       ": is skillstore-server running there? (set --server or SKILLSTORE_SERVER",
                       // A mutual-TLS server drops a client without a certificate with
                       // no more than a closed socket.
                       tls ? "; if it requires client certificates, add --tls-cert and --tls-key"
                           : "; if it uses TLS, add --tls or --tls-ca",
                       ")", detail.empty() ? "" : absl::StrCat(" [", detail, "]")));
    }
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(absl::StrCat(
          what_s, ": server at ", server_s,
          " did not answer in time (raise --rpc-timeout if it is busy)"));
    case grpc::StatusCode::UNIMPLEMENTED:
      return absl::UnimplementedError(absl::StrCat(
          what_s, ": the server at ", server_s,
          " does not implement this call (is it an older skillstore-server?)"));
    case grpc::StatusCode::UNAUTHENTICATED:
      return absl::UnauthenticatedError(absl::StrCat(
          what_s, ": the server at ", server_s, " refused our token: ", detail,
          " (give a valid token with --token-file or SKILLSTORE_TOKEN; an admin makes one with "
          "`skillctl token new` and adds its line to the server's --auth-token-file)"));
    case grpc::StatusCode::PERMISSION_DENIED:
      return absl::PermissionDeniedError(absl::StrCat(
          what_s, ": the server at ", server_s, " does not allow this with our token: ", detail,
          " (skillctl reads with a reader or admin token; a worker token serves skill-worker "
          "only; enqueue, cancel and retry need an admin token)"));
    case grpc::StatusCode::CANCELLED:
      return absl::CancelledError(absl::StrCat(what_s, ": cancelled"));
    default:
      // The server's message names the problem (SPEC: "a message a person can
      // act on"); keep it and say which operation it belongs to.
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          absl::StrCat(what_s, ": ", detail));
  }
}

Client::Client(const GlobalOptions& options)
    : address_(options.server),
      tls_(options.security.tls),
      rpc_timeout_(absl::Seconds(options.rpc_timeout_seconds)) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  args.SetMaxSendMessageSize(-1);
  channel_ = client::CreateClientChannel(address_, options.security, args);
  stub_ = v1::SkillStore::NewStub(channel_);
}

std::unique_ptr<grpc::ClientContext> Client::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoMilliseconds(rpc_timeout_));
  return context;
}

}  // namespace skillstore::cli
