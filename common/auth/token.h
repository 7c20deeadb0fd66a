// skillstore::auth — bearer tokens and the roles they carry.
//
// A token is a random secret a client sends as `authorization: Bearer <token>`.
// The server never stores the secret: its token file holds the SHA-256 of each
// token (lowercase hex) with the role it grants, so a leaked token file does not
// leak credentials. Both the server (lookup) and the clients (`skillctl token
// new`) use the helpers below; they are thin wrappers over OpenSSL libcrypto.
#ifndef SKILLSTORE_COMMON_AUTH_TOKEN_H_
#define SKILLSTORE_COMMON_AUTH_TOKEN_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skillstore::auth {

// What a token may do. An admin may do everything; a reader and a worker
// only their own calls (a worker token reads no task or result).
enum class Role { kReader, kWorker, kAdmin };

// "reader" | "worker" | "admin" (exact, lowercase). Anything else is
// INVALID_ARGUMENT naming the accepted values.
absl::StatusOr<Role> ParseRole(absl::string_view name);

// The name ParseRole accepts for `role`.
const char* RoleName(Role role);

// True when a token holding `held` may call a method that needs `needed`:
// admin may call everything; reader and worker only their own methods. A
// worker token reads nothing (workers run on machines the server does not
// control: one of them must not see every task and result), and a reader
// token cannot pose as a worker.
bool RoleAllows(Role held, Role needed);

// SHA-256 of `data` as 64 lowercase hex digits.
std::string Sha256Hex(absl::string_view data);

// A fresh token: "sks_" + 43 characters of unpadded base64url encoding 32
// bytes from OpenSSL's CSPRNG (RAND_bytes). INTERNAL if the CSPRNG fails.
absl::StatusOr<std::string> GenerateToken();

// Compares in time that depends only on the lengths, never on where the
// first difference is (CRYPTO_memcmp), so a caller cannot learn a secret
// byte by byte from response timing.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// OK when `token` can travel as "authorization: Bearer <token>": not empty,
// printable ASCII without spaces. INVALID_ARGUMENT naming `source` (where the
// token came from) otherwise.
absl::Status CheckToken(absl::string_view token, absl::string_view source);

// The token held by the file at `path` (--token-file, --metrics-token-file:
// `flag`), without the whitespace around it that an editor or `echo` adds.
// INVALID_ARGUMENT naming the flag and the file when it cannot be read or
// does not hold one token (CheckToken).
absl::StatusOr<std::string> ReadTokenFile(const std::string& path, absl::string_view flag);

// The credential of an `authorization` value "Bearer <credential>" (scheme in
// any case, blanks around either part ignored); nullopt for any other value.
std::optional<absl::string_view> BearerCredential(absl::string_view authorization);

}  // namespace skillstore::auth

#endif  // SKILLSTORE_COMMON_AUTH_TOKEN_H_
