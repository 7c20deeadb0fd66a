// ReadWholeFile: the contents of a file the user named (a token file, a TLS
// certificate, a skill given to skillctl), with an error that says which
// file, what it was for, and why it could not be read.
#ifndef SKILLSTORE_COMMON_READ_FILE_H_
#define SKILLSTORE_COMMON_READ_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skillstore {

// Token and certificate files are far smaller; the bound is for a path
// that names /dev/zero or a huge file by mistake.
inline constexpr size_t kMaxConfigFileBytes = 16u << 20;

// The whole file at `path`. Fails with INVALID_ARGUMENT
// "<what> <path>: cannot read: <reason>" (just "<path>: ..." when `what` is
// empty), where reason is the system's: a missing file, no permission, a
// directory, an I/O error part way through; and with RESOURCE_EXHAUSTED when
// the file holds more than `max_bytes`, before reading all of it. `what`
// names the flag or role of the file, e.g. "--tls-cert" or "auth token file".
absl::StatusOr<std::string> ReadWholeFile(const std::string& path, absl::string_view what,
                                          size_t max_bytes = kMaxConfigFileBytes);

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_READ_FILE_H_
