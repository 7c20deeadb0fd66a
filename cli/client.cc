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
                            std::string_view server) {
  if (status.ok()) return absl::OkStatus();
  const std::string detail = status.error_message();
  const std::string server_s(server);
  const std::string what_s(what);
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return absl::UnavailableError(absl::StrCat(
          "cannot reach server at ", server_s,
          ": is skillstore-server running there? (set --server or SKILLSTORE_SERVER)",
          detail.empty() ? "" : absl::StrCat(" [", detail, "]")));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::DeadlineExceededError(absl::StrCat(
          what_s, ": server at ", server_s,
          " did not answer in time (raise --rpc-timeout if it is busy)"));
    case grpc::StatusCode::UNIMPLEMENTED:
      return absl::UnimplementedError(absl::StrCat(
          what_s, ": the server at ", server_s,
          " does not implement this call (is it an older skillstore-server?)"));
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          absl::StrCat(what_s, ": the server refused the request: ", detail));
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
      rpc_timeout_(absl::Seconds(options.rpc_timeout_seconds)) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
  args.SetMaxSendMessageSize(-1);
  channel_ = grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args);
  stub_ = v1::SkillStore::NewStub(channel_);
}

std::unique_ptr<grpc::ClientContext> Client::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoMilliseconds(rpc_timeout_));
  return context;
}

}  // namespace skillstore::cli
