// ErrnoError: the status for a failed system call, naming what failed and
// the system's own words for the error.
#ifndef SKILLSTORE_COMMON_ERRNO_STATUS_H_
#define SKILLSTORE_COMMON_ERRNO_STATUS_H_

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace skillstore {

// INTERNAL "<what>: <strerror(error)>"; `error` is errno as the failing call
// left it (read it before anything else can change it).
inline absl::Status ErrnoError(absl::string_view what, int error) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(error)));
}

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_ERRNO_STATUS_H_
