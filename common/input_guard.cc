#include "common/input_guard.h"

#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace skillstore {

const EngineLimits& DefaultEngineLimits() {
  static const EngineLimits kLimits;
  return kLimits;
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
