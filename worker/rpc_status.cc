#include "rpc_status.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace skillstore::worker {

bool IsPermanent(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::INVALID_ARGUMENT:
      return true;
    default:
      return false;
  }
}

bool IsPermanentForStream(const grpc::Status& status) {
  return IsPermanent(status) && status.error_code() != grpc::StatusCode::INVALID_ARGUMENT;
}

absl::Status ToAbslStatus(std::string_view rpc, const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  // These end the worker: say plainly that it is about our token and where
  // the token comes from, so the fix is obvious from the one log line.
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
      status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
    const bool unauthenticated = status.error_code() == grpc::StatusCode::UNAUTHENTICATED;
    return absl::Status(
        static_cast<absl::StatusCode>(status.error_code()),
        absl::StrCat("the server refused our token: ", std::string(rpc), ": ",
                     status.error_message(),
                     unauthenticated
                         ? " (check --token-file or SKILLSTORE_TOKEN against the server's "
                           "--auth-token-file)"
                         : " (a worker needs a token with the worker or admin role, and "
                           "one bound to worker ids, worker:<pattern>, must match --worker-id)"));
  }
  // grpc::StatusCode and absl::StatusCode share their numbering.
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(std::string(rpc), ": ",
                                   absl::StatusCodeToString(static_cast<absl::StatusCode>(
                                       status.error_code())),
                                   ": ", status.error_message()));
}

}  // namespace skillstore::worker
