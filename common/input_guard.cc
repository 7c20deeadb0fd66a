#include "common/input_guard.h"

#include <cstdint>
#include <cstring>
#include <utility>

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

// Tab, LF, CR and form feed occur in text files; other C0 controls (NUL
// above all) only in binary data.
bool IsBinaryByte(unsigned char c) {
  return c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f';
}

// Offset of the first binary byte, or text.size(). Words of eight bytes
// with no byte below 0x20 (most of them) are passed over whole.
size_t FindBinaryByte(std::string_view text) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const size_t n = text.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    if (((word - kOnes * 0x20) & ~word & kHigh) == 0) continue;
    for (size_t k = i; k < i + 8; ++k) {
      if (IsBinaryByte(static_cast<unsigned char>(text[k]))) return k;
    }
  }
  for (; i < n; ++i) {
    if (IsBinaryByte(static_cast<unsigned char>(text[i]))) return i;
  }
  return n;
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
  // A UTF-16 or UTF-32 file would otherwise be refused for its NUL bytes,
  // which says nothing of what to do.
  for (const auto& [bom, encoding] :
       {std::pair<std::string_view, const char*>{std::string_view("\xFF\xFE\0\0", 4), "UTF-32"},
        {std::string_view("\0\0\xFE\xFF", 4), "UTF-32"},
        {"\xFF\xFE", "UTF-16"},
        {"\xFE\xFF", "UTF-16"}}) {
    if (content.substr(0, bom.size()) == bom) {
      return absl::InvalidArgumentError(
          absl::StrCat("input is ", encoding, " (it starts with a ", encoding,
                       " byte order mark); skills are UTF-8: convert it, e.g. iconv -f ", encoding,
                       " -t UTF-8"));
    }
  }
  const size_t bin = FindBinaryByte(content);
  if (bin != content.size()) {
    const unsigned char c = static_cast<unsigned char>(content[bin]);
    return absl::InvalidArgumentError(absl::StrCat(
        "input is not text (binary?): control byte 0x", absl::Hex(c, absl::kZeroPad2),
        " at offset ", bin, " (line ", LineOf(content, bin),
        "); of the control characters, text may hold only tab, line feed, carriage return "
        "and form feed"));
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

std::string_view LoneCrAsLineFeed(std::string_view content, std::string* storage) {
  const auto lone = [&](size_t i) { return i + 1 == content.size() || content[i + 1] != '\n'; };
  size_t cr = content.find('\r');
  while (cr != std::string_view::npos && !lone(cr)) cr = content.find('\r', cr + 2);
  if (cr == std::string_view::npos) return content;
  storage->assign(content.data(), content.size());
  for (; cr != std::string_view::npos; cr = content.find('\r', cr + 1)) {
    if (lone(cr)) (*storage)[cr] = '\n';
  }
  return *storage;
}

}  // namespace skillstore
