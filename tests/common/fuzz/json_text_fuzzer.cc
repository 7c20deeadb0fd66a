// libFuzzer target for CheckJsonText, the server's check of every result:
// on any bytes it must not crash or read out of bounds, and its verdict must
// be that of a strict parser (nlohmann's, which skillctl reads results with).
// Three known differences are left out of the comparison: nlohmann skips a
// leading UTF-8 byte order mark, ends its input at a NUL byte outside a
// string (which is not JSON), and has no nesting limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/json_text.h"
#include "nlohmann/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const absl::Status status = skillstore::CheckJsonText(input);
  if (!status.ok() && !absl::IsInvalidArgument(status)) std::abort();
  if (input.substr(0, 3) == "\xEF\xBB\xBF") return 0;
  if (!status.ok() && input.find('\0') != std::string_view::npos) return 0;
  if (!status.ok() && status.message().find("nest deeper than") != std::string_view::npos) {
    return 0;
  }
  if (status.ok() != nlohmann::json::accept(input)) std::abort();
  return 0;
}
