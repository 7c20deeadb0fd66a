// Small std::string_view helpers. Debian's Abseil is built with its own
// absl::string_view (not std::string_view), so its string functions do not
// take ours; these cover what the engine needs.
#ifndef SKILLSTORE_COMMON_TEXT_UTIL_H_
#define SKILLSTORE_COMMON_TEXT_UTIL_H_

#include <string>
#include <string_view>

#include "absl/strings/string_view.h"

namespace skillstore {

inline bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

inline std::string_view StripLeading(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  return s;
}

inline std::string_view StripTrailing(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

inline std::string_view Strip(std::string_view s) { return StripTrailing(StripLeading(s)); }

inline bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

inline bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

inline std::string ToLowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ToLowerAscii(a) == ToLowerAscii(b);
}

// For Abseil calls that take absl::string_view.
inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// JSON pointer escaping of one path segment (RFC 6901).
inline std::string JsonPointerEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace skillstore

#endif  // SKILLSTORE_COMMON_TEXT_UTIL_H_
