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
  // grpc::StatusCode and absl::StatusCode share their numbering.
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(std::string(rpc), ": ",
                                   absl::StatusCodeToString(static_cast<absl::StatusCode>(
                                       status.error_code())),
                                   ": ", status.error_message()));
}

}  // namespace skillstore::worker
