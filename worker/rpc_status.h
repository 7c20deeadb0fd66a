// How the worker classifies gRPC errors: transient ones are retried forever
// with backoff, permanent ones stop the worker with a clear message.
#ifndef SKILLSTORE_WORKER_RPC_STATUS_H_
#define SKILLSTORE_WORKER_RPC_STATUS_H_

#include <string_view>

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace skillstore::worker {

// Permanent: retrying cannot help and a person must act — the server refused
// our credentials (UNAUTHENTICATED, PERMISSION_DENIED), does not speak this
// API (UNIMPLEMENTED: wrong --server), or calls our request malformed
// (INVALID_ARGUMENT). Everything else (UNAVAILABLE, DEADLINE_EXCEEDED,
// RESOURCE_EXHAUSTED, INTERNAL, ...) is treated as transient.
bool IsPermanent(const grpc::Status& status);

// For the SubmitResult stream, INVALID_ARGUMENT may be about one result, not
// about the worker: only refusals of the worker itself are permanent there.
bool IsPermanentForStream(const grpc::Status& status);

// "<rpc>: <CODE>: <message>" as an absl::Status with the same code;
// UNAUTHENTICATED and PERMISSION_DENIED read "the server refused our token:
// <rpc>: <message> (<what to check>)" (the code is the status's own).
absl::Status ToAbslStatus(std::string_view rpc, const grpc::Status& status);

}  // namespace skillstore::worker

#endif  // SKILLSTORE_WORKER_RPC_STATUS_H_
