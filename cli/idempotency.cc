#include "cli/idempotency.h"

#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "cli/task_names.h"

namespace skillstore::cli {

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // EVP_Digest is OpenSSL 3's non-deprecated one-shot API. It cannot fail for
  // SHA-256 with in-memory input short of allocation failure, which would
  // have aborted earlier; an empty digest would only make keys collide, so
  // check anyway.
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    return std::string();
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string IdempotencyKey(v1::TaskType type, std::string_view content) {
  return absl::StrCat(TaskTypeName(type), ":sha256:", Sha256Hex(content));
}

}  // namespace skillstore::cli
