// Idempotency keys for `skillctl enqueue --idempotent`.
//
// The key is derived from what the task computes: its type and the SHA-256 of
// its content. Enqueueing the same skill twice (or two copies of it under
// different paths) then yields one task, and re-running a batch job after a
// crash enqueues only what is new.
#ifndef SKILLSTORE_CLI_IDEMPOTENCY_H_
#define SKILLSTORE_CLI_IDEMPOTENCY_H_

#include <string>
#include <string_view>

#include "skillstore/v1/skillstore.pb.h"

namespace skillstore::cli {

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// "<type>:sha256:<hex>", e.g. "parse:sha256:9f86d0...".
std::string IdempotencyKey(v1::TaskType type, std::string_view content);

}  // namespace skillstore::cli

#endif  // SKILLSTORE_CLI_IDEMPOTENCY_H_
