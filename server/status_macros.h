// Early-return helpers for absl::Status / absl::StatusOr, server-local.
#ifndef SKILLSTORE_SERVER_STATUS_MACROS_H_
#define SKILLSTORE_SERVER_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SKS_CONCAT_INNER(a, b) a##b
#define SKS_CONCAT(a, b) SKS_CONCAT_INNER(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define SKS_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status sks_status_ = (expr);       \
    if (!sks_status_.ok()) return sks_status_; \
  } while (0)

// `lhs = value of expr`, or return its error status.
#define SKS_ASSIGN_OR_RETURN(lhs, expr) \
  SKS_ASSIGN_OR_RETURN_IMPL(SKS_CONCAT(sks_statusor_, __LINE__), lhs, expr)
#define SKS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(*tmp)

#endif  // SKILLSTORE_SERVER_STATUS_MACROS_H_
