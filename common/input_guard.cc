#include "common/input_guard.h"

#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace skillstore {

const EngineLimits& DefaultEngineLimits() {
  static const EngineLimits kLimits;
  return kLimits;
}

bool IsValidUtf8(std::string_view text, size_t* bad_offset) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    // Fast path for ASCII runs: most skills are almost all ASCII.
    while (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, s + i, 8);
      if (word & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    uint32_t cp;
    size_t len;
    if ((s[i] & 0xE0) == 0xC0) {
      cp = s[i] & 0x1F;
      len = 2;
    } else if ((s[i] & 0xF0) == 0xE0) {
      cp = s[i] & 0x0F;
      len = 3;
    } else if ((s[i] & 0xF8) == 0xF0) {
      cp = s[i] & 0x07;
      len = 4;
    } else {
      *bad_offset = i;
      return false;
    }
    if (i + len > n) {
      *bad_offset = i;
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) {
        *bad_offset = i;
        return false;
      }
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    const bool overlong = (len == 2 && cp < 0x80) ||
                          (len == 3 && cp < 0x800) ||
                          (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      *bad_offset = i;
      return false;
    }
    i += len;
  }
  return true;
}

namespace {

// 1-based line of byte `offset`, for error messages.
size_t LineOf(std::string_view text, size_t offset) {
  size_t line = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') ++line;
  }
  return line;
}

}  // namespace

absl::StatusOr<std::string_view> CheckTextInput(std::string_view content,
                                                const EngineLimits& limits) {
  if (content.size() > limits.max_input_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("input is ", content.size(), " bytes, over the engine limit of ",
                     limits.max_input_bytes, " bytes"));
  }
  if (content.size() >= 3 && content.substr(0, 3) == "\xEF\xBB\xBF") {
    content.remove_prefix(3);
  }
  for (size_t i = 0; i < content.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(content[i]);
    // Tab, LF, CR and form feed occur in text files; other C0 controls
    // (NUL above all) only in binary data.
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') {
      return absl::InvalidArgumentError(absl::StrCat(
          "input looks binary: control byte 0x", absl::Hex(c, absl::kZeroPad2),
          " at offset ", i, " (line ", LineOf(content, i), ")"));
    }
  }
  const bool blank =
      content.find_first_not_of(" \t\n\r\f") == std::string_view::npos;
  size_t bad = 0;
  if (!IsValidUtf8(content, &bad)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input is not valid UTF-8: bad byte 0x",
        absl::Hex(static_cast<unsigned char>(content[bad]), absl::kZeroPad2),
        " at offset ", bad, " (line ", LineOf(content, bad), ")"));
  }
  if (blank) {
    return absl::InvalidArgumentError("input is empty (no text besides whitespace)");
  }
  return content;
}

}  // namespace skillstore
